#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Issue an ec-256 and an rsa-2048 certificate with several SANs over http-01 (webroot
# served by nginx), check everything that was installed, then prove that a second --once
# run with nothing due succeeds without talking to the CA (pebble is stopped first).
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init issue-basic
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
ec_domains="basic-ec.test www.basic-ec.test api.basic-ec.test"
rsa_domains="basic-rsa.test www.basic-rsa.test"
harness_write_config "$cfg"
harness_add_cert "$cfg" basic-ec "$ec_domains" key_type=ec-256
harness_add_cert "$cfg" basic-rsa "$rsa_domains" key_type=rsa-2048

echo "== first run: both certificates are missing and must be issued"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "first --once exits 0" test "$H_RC" = 0
check "output has a line naming basic-ec" grep -q 'basic-ec' "$H_DIR/run1"
check "output has a line naming basic-rsa" grep -q 'basic-rsa' "$H_DIR/run1"
harness_check_cert "$state" basic-ec "$ec_domains" "$H_PEBBLE_ROOT" 1 ec-256
harness_check_cert "$state" basic-rsa "$rsa_domains" "$H_PEBBLE_ROOT" 1 rsa-2048
check "the two certificates have different keys" \
	bash -c '! cmp -s <(openssl x509 -noout -pubkey -in "$1") <(openssl x509 -noout -pubkey -in "$2")' _ \
	"$state/live/basic-ec/cert.pem" "$state/live/basic-rsa/cert.pem"
check "pebble validated http-01 through nginx" test "$(harness_challenge_fetches)" -gt 0
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "account state exists under accounts/pebble/" test -d "$state/accounts/pebble"

serial_ec="$(harness_serial "$state/live/basic-ec/cert.pem" 2>/dev/null || echo none)"
serial_rsa="$(harness_serial "$state/live/basic-rsa/cert.pem" 2>/dev/null || echo none)"

echo "== second run: nothing is due; pebble is stopped so any contact would fail"
harness_stop_pebble
fetches_before="$(harness_challenge_fetches)"
harness_renewd "$H_DIR/run2" -c "$cfg" --once
check "second --once (nothing due, CA down) exits 0" test "$H_RC" = 0
check "basic-ec still at version 1" _h_link_is "$state/live/basic-ec" ../archive/basic-ec/1
check "basic-rsa still at version 1" _h_link_is "$state/live/basic-rsa" ../archive/basic-rsa/1
check "no archive version 2 was written" \
	test ! -e "$state/archive/basic-ec/2" -a ! -e "$state/archive/basic-rsa/2"
check "basic-ec serial unchanged" test "$(harness_serial "$state/live/basic-ec/cert.pem" 2>/dev/null)" = "$serial_ec"
check "basic-rsa serial unchanged" test "$(harness_serial "$state/live/basic-rsa/cert.pem" 2>/dev/null)" = "$serial_rsa"
check "no challenge was served in the second run" test "$(harness_challenge_fetches)" = "$fetches_before"
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

harness_done
