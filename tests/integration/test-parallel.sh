#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Twelve certificates in one --once run with max_parallel = 3 (more certificates than
# slots, so the queue has to hand out the remaining ones as slots free up): every one is
# issued and installed completely, with its own key and serial, and no challenge file is
# left behind.  A second run with nothing due reports all twelve as valid and exits 0.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init parallel
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
count=12
HC_MAX_PARALLEL=3 harness_write_config "$cfg"
check "config has max_parallel = 3" grep -q '^max_parallel = 3$' "$cfg"
names=()
for ((i = 1; i <= count; i++)); do
	n="par-$i"
	names+=("$n")
	kt=ec-256
	((i % 4 == 0)) && kt=rsa-2048
	harness_add_cert "$cfg" "$n" "$n.parallel.test www.$n.parallel.test" key_type="$kt"
done

echo "== first run: $count certificates are missing, 3 at a time"
t0=$SECONDS
harness_renewd "$H_DIR/run1" -c "$cfg" --once
echo "first run took $((SECONDS - t0)) s"
check "first --once exits 0" test "$H_RC" = 0
check "$count 'renewed' lines on stdout ($(grep -c ': renewed' "$H_DIR/run1.out" || true))" \
	test "$(grep -c ': renewed' "$H_DIR/run1.out" || true)" = "$count"
check "no FAILED line" bash -c '! grep -q "FAILED" "$1"' _ "$H_DIR/run1.out"
for ((i = 1; i <= count; i++)); do
	n="par-$i"
	kt=ec-256
	((i % 4 == 0)) && kt=rsa-2048
	check "$n: stdout has '$n: renewed'" grep -q "^$n: renewed" "$H_DIR/run1.out"
	harness_check_cert "$state" "$n" "$n.parallel.test www.$n.parallel.test" "$H_PEBBLE_ROOT" 1 "$kt"
done
serials="$(for n in "${names[@]}"; do harness_serial "$state/live/$n/cert.pem" 2>/dev/null; done)"
check "the $count serials are distinct" test "$(sort -u <<<"$serials" | grep -c .)" = "$count"
pubkeys="$(for n in "${names[@]}"; do openssl x509 -noout -pubkey -in "$state/live/$n/cert.pem" 2>/dev/null | sha256sum; done)"
check "the $count keys are distinct" test "$(sort -u <<<"$pubkeys" | grep -c .)" = "$count"
# Orders in flight at pebble, in log order: an order is added after renewd started that
# certificate and issued before renewd finished it, so with 3 slots this never exceeds 3.
inflight="$(awk '/Added order/ { n++; if (n > max) max = n } /Issued certificate serial/ { n-- } END { print max + 0 }' "$H_PEBBLE_LOG")"
echo "most orders in flight at pebble at once: $inflight"
check "at most 3 orders in flight at once (max_parallel = 3; saw $inflight)" test "$inflight" -le 3
check "more than one order in flight at some point (saw $inflight)" test "$inflight" -ge 2
check "one account was created, not one per certificate" \
	test "$(grep -c 'Created a new account key' "$H_DIR/run1.err" || true)" = 1
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

echo "== second run: nothing is due"
fetches_before="$(harness_challenge_fetches)"
harness_renewd "$H_DIR/run2" -c "$cfg" --once
check "second --once exits 0" test "$H_RC" = 0
check "$count 'valid until' lines on stdout ($(grep -c ': valid until' "$H_DIR/run2.out" || true))" \
	test "$(grep -c ': valid until' "$H_DIR/run2.out" || true)" = "$count"
check "no 'renewed' line in the second run" bash -c '! grep -q ": renewed" "$1"' _ "$H_DIR/run2.out"
check "no FAILED line in the second run" bash -c '! grep -q "FAILED" "$1"' _ "$H_DIR/run2.out"
for n in "${names[@]}"; do
	check "$n: still at version 1" _h_link_is "$state/live/$n" "../archive/$n/1"
done
check "no challenge was served in the second run" test "$(harness_challenge_fetches)" = "$fetches_before"

harness_done
