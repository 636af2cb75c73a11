#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# External Account Binding required by pebble: the right kid/HMAC key issues; a wrong
# HMAC key, an unknown kid and no EAB at all each fail with a non-zero exit, an error that
# says what is wrong, and nothing installed.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
# (not named "eab": the temp dir name must not satisfy the message grep below)
harness_init extbinding
harness_need_renewd
H_PEBBLE_EAB=1
harness_start_all

check "pebble's directory says externalAccountRequired" \
	bash -c 'curl -sS --cacert "$1" "$2" | grep -q "\"externalAccountRequired\": *true"' _ \
	"$H_TLS_ROOT" "$H_PEBBLE_DIR_URL"

eab_msg='external.?account|\beab\b|unauthori[sz]ed'

# run_case NAME KID KEY  (KID empty: no EAB in the config)
run_case() {
	local name="$1" kid="$2" key="$3"
	local state="$H_DIR/state-$name" cfg="$H_DIR/renewd-$name.conf"
	HC_STATE_DIR="$state" HC_EAB_KID="$kid" HC_EAB_KEY="$key" harness_write_config "$cfg"
	harness_add_cert "$cfg" "eabcert-$name" "$name.binding.test"
	harness_renewd "$H_DIR/run-$name" -c "$cfg" --once
	CASE_STATE="$state"
}

echo "== right kid and key"
run_case good "$H_EAB_KID" "$H_EAB_KEY"
check "[good] --once exits 0" test "$H_RC" = 0
harness_check_cert "$CASE_STATE" eabcert-good "good.binding.test" "$H_PEBBLE_ROOT" 1

echo "== right kid, wrong HMAC key"
run_case wrongkey "$H_EAB_KID" "$H_EAB_KEY2"
check "[wrong key] --once exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "[wrong key] error mentions external account binding / unauthorized" \
	grep -Eqi "$eab_msg" "$H_DIR/run-wrongkey"
check "[wrong key] nothing installed" test ! -e "$CASE_STATE/live/eabcert-wrongkey"

echo "== unknown kid"
run_case unknownkid "kid-does-not-exist" "$H_EAB_KEY"
check "[unknown kid] --once exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "[unknown kid] error mentions external account binding / unauthorized" \
	grep -Eqi "$eab_msg" "$H_DIR/run-unknownkid"
check "[unknown kid] nothing installed" test ! -e "$CASE_STATE/live/eabcert-unknownkid"

echo "== no EAB configured"
run_case none "" ""
check "[no EAB] --once exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "[no EAB] error mentions external account binding" \
	grep -Eqi "$eab_msg|externalAccountRequired" "$H_DIR/run-none"
check "[no EAB] nothing installed" test ! -e "$CASE_STATE/live/eabcert-none"

harness_done
