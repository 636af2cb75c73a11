#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Authorization reuse both ways: with PEBBLE_AUTHZREUSE=0 every order needs fresh
# challenges; with PEBBLE_AUTHZREUSE=100 the second order for the same names comes back
# with valid authorizations (status "ready" at once) and renewd must finalize it without
# solving anything.  Each value gets its own pebble and its own state directory; each
# issues twice for the same names (a second certificate with the same domains).
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init authz-reuse
harness_need_renewd
harness_gen_tls
harness_start_challtestsrv
harness_start_nginx "$H_DIR/webroot"

domains="reuse.test www.reuse.test"
for reuse in 0 100; do
	echo "== PEBBLE_AUTHZREUSE=$reuse"
	harness_stop_pebble
	harness_start_pebble PEBBLE_AUTHZREUSE="$reuse"
	harness_pebble_root
	state="$H_DIR/state-$reuse"
	cfg="$H_DIR/renewd-$reuse.conf"
	HC_STATE_DIR="$state" harness_write_config "$cfg"
	harness_add_cert "$cfg" reuse-first "$domains"

	f0="$(harness_challenge_fetches)"
	harness_renewd "$H_DIR/run-$reuse-1" -c "$cfg" --once
	check "[reuse=$reuse] first issuance exits 0" test "$H_RC" = 0
	harness_check_cert "$state" reuse-first "$domains" "$H_PEBBLE_ROOT" 1
	f1="$(harness_challenge_fetches)"
	check "[reuse=$reuse] first issuance solved http-01 challenges ($((f1 - f0)) fetches)" test "$f1" -gt "$f0"

	# second certificate, same names, same account
	harness_add_cert "$cfg" reuse-second "$domains"
	harness_renewd "$H_DIR/run-$reuse-2" -c "$cfg" --once
	check "[reuse=$reuse] second issuance exits 0" test "$H_RC" = 0
	harness_check_cert "$state" reuse-second "$domains" "$H_PEBBLE_ROOT" 1
	check "[reuse=$reuse] first certificate untouched (still version 1)" \
		test ! -e "$state/archive/reuse-first/2"
	f2="$(harness_challenge_fetches)"
	if [[ "$reuse" == 0 ]]; then
		check "[reuse=0] second issuance solved new challenges ($((f2 - f1)) fetches)" test "$f2" -gt "$f1"
	else
		check "[reuse=100] second issuance reused the authorizations (no new fetches)" test "$f2" -eq "$f1"
	fi
	check "[reuse=$reuse] the two certificates differ" bash -c '! cmp -s "$1" "$2"' _ \
		"$state/live/reuse-first/cert.pem" "$state/live/reuse-second/cert.pem"
	check "[reuse=$reuse] no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
done

harness_done
