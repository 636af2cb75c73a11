#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Pebble rejects half of all good nonces (PEBBLE_WFE_NONCEREJECT=50); renewd must retry
# badNonce errors with the fresh nonce and still issue.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init nonce-reject
harness_need_renewd
harness_start_all PEBBLE_WFE_NONCEREJECT=50

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
harness_write_config "$cfg"
harness_add_cert "$cfg" nonce-a "nonce-a.test www.nonce-a.test"
harness_add_cert "$cfg" nonce-b "nonce-b.test" key_type=rsa-2048

harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "--once exits 0 despite 50% rejected nonces" test "$H_RC" = 0
harness_check_cert "$state" nonce-a "nonce-a.test www.nonce-a.test" "$H_PEBBLE_ROOT" 1 ec-256
harness_check_cert "$state" nonce-b "nonce-b.test" "$H_PEBBLE_ROOT" 1 rsa-2048
check "pebble ran with the knob on ('reject 50% of good nonces' in its log)" grep -q 'reject 50% of good nonces' "$H_PEBBLE_LOG"
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

harness_done
