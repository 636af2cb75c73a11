#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# PEBBLE_ALTERNATE_ROOTS=1: pebble offers a second chain (Link rel="alternate") that ends
# at a different root.  preferred_chain naming the alternate root's CN must install that
# chain; preferred_chain naming the default root's CN must install the default chain.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init alternate-chain
harness_need_renewd
harness_start_all PEBBLE_ALTERNATE_ROOTS=1

root0="$H_PEBBLE_ROOT"
harness_pebble_root 1
root1="$H_PEBBLE_ROOT_N"
cn0="$(harness_subject_cn "$root0")"
cn1="$(harness_subject_cn "$root1")"
echo "default root:   $cn0"
echo "alternate root: $cn1"
check "pebble has two distinct roots" test -n "$cn0" -a -n "$cn1" -a "$cn0" != "$cn1"

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
harness_write_config "$cfg"
harness_add_cert "$cfg" chain-alt "chain-alt.test" "preferred_chain=$cn1"
harness_add_cert "$cfg" chain-default "chain-default.test" "preferred_chain=$cn0"

harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "--once exits 0" test "$H_RC" = 0

top_issuer() {
	local n
	n="$(harness_split_pem "$1" "$H_DIR/split-$2")"
	[[ "$n" -ge 1 ]] || return 0
	harness_issuer_cn "$H_DIR/split-$2-$n.pem"
}

harness_check_cert "$state" chain-alt "chain-alt.test" "$root1" 1
alt_top="$(top_issuer "$state/live/chain-alt/chain.pem" alt 2>/dev/null || true)"
echo "chain-alt: top issuer is '$alt_top'"
check "chain-alt: chain.pem ends at the alternate root ($cn1)" test "$alt_top" = "$cn1"
check "chain-alt: does not verify against the default root" \
	bash -c '! openssl verify -CAfile "$1" -untrusted "$2" "$3" >/dev/null 2>&1' _ \
	"$root0" "$state/live/chain-alt/chain.pem" "$state/live/chain-alt/cert.pem"

harness_check_cert "$state" chain-default "chain-default.test" "$root0" 1
def_top="$(top_issuer "$state/live/chain-default/chain.pem" def 2>/dev/null || true)"
echo "chain-default: top issuer is '$def_top'"
check "chain-default: chain.pem ends at the default root ($cn0)" test "$def_top" = "$cn0"

harness_done
