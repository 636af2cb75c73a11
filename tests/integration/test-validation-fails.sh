#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# The CA cannot validate: one certificate's webroot is a directory nginx does not serve, so
# pebble's http-01 fetch gets a 404 and the authorization becomes invalid.  --once must
# fail cleanly (exit 1..123), report "NAME: FAILED" with a reason that says the
# authorization is invalid and names the domain, install nothing and leave no challenge
# file in that webroot.  A second certificate in the same run, with the right webroot,
# must still be issued: one failure does not stop the others.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
# (not named after the domains: the temp dir name must not satisfy the greps below)
harness_init valfail
harness_need_renewd
harness_start_all # PEBBLE_VA_NOSLEEP=1 is the harness default: validation is immediate

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
bad_root="$H_DIR/not-served"
bad_domain="wrongroot.test"
good_domains="rightroot.test www.rightroot.test"
mkdir -p "$bad_root"
harness_write_config "$cfg"
harness_add_cert "$cfg" broken "$bad_domain" webroot="$bad_root"
harness_add_cert "$cfg" fine "$good_domains"

echo "== one run: 'broken' cannot be validated, 'fine' can"
f0="$(harness_challenge_fetches)"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
f1="$(harness_challenge_fetches)"
check "--once exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "stdout has 'broken: FAILED'" grep -q '^broken: FAILED' "$H_DIR/run1.out"
failed_line="$(grep '^broken: FAILED' "$H_DIR/run1.out" | head -n 1)" || true
check "the reason says the authorization is invalid" grep -qi 'invalid' <<<"$failed_line"
check "the reason names the domain $bad_domain" grep -qF "$bad_domain" <<<"$failed_line"
check "live/broken does not exist" test ! -e "$state/live/broken" -a ! -L "$state/live/broken"
check "no complete archive version of broken" test ! -e "$state/archive/broken/1/cert.pem"
check "pebble did try to fetch the challenge ($((f1 - f0)) fetches)" test "$f1" -gt "$f0"
check "nginx answered 404 for a challenge" \
	grep -Eq '"GET /\.well-known/acme-challenge/[^ ]+ HTTP/[0-9.]+" 404 ' "$H_DIR/nginx/access.log"
check "no challenge files left in the unserved webroot" harness_no_challenge_leftovers "$bad_root"
check "no challenge files left in the served webroot" harness_no_challenge_leftovers "$H_WEBROOT"

check "stdout has 'fine: renewed'" grep -q '^fine: renewed' "$H_DIR/run1.out"
check "'fine' is not reported as failed" bash -c '! grep -q "^fine: FAILED" "$1"' _ "$H_DIR/run1.out"
harness_check_cert "$state" fine "$good_domains" "$H_PEBBLE_ROOT" 1

harness_done
