#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# ACME profiles: a certificate's profile is checked against the directory's meta.profiles
# (which ari-front.py adds, as Pebble 2.4 has none) and sent in newOrder; a profile the CA
# does not offer fails with a message that lists the ones it does, before any order.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init profile
harness_need_renewd
harness_start_all

FRONT_LOG="$H_DIR/front.jsonl"
harness_start_front "$FRONT_LOG" --profiles classic,shortlived

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
HC_DIRECTORY="$FRONT/dir" harness_write_config "$cfg"
harness_add_cert "$cfg" prof-good "prof-good.test" profile=shortlived

# orders_with_profile NAME — how many newOrders carried "profile": NAME
orders_with_profile() {
	python3 - "$FRONT_LOG" "$1" <<-'PY'
		import json, sys
		n = 0
		for line in open(sys.argv[1]):
		    r = json.loads(line)
		    if r.get("type") == "newOrder" and (r.get("payload") or {}).get("profile") == sys.argv[2]:
		        n += 1
		print(n)
	PY
}
orders() { grep -c '"newOrder"' "$FRONT_LOG" || true; }

harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "a profile the CA offers: --once exits 0" test "$H_RC" = 0
harness_check_cert "$state" prof-good "prof-good.test" "$H_PEBBLE_ROOT" 1 ec-256
check "newOrder carried \"profile\": \"shortlived\"" test "$(orders_with_profile shortlived)" = 1

before=$(orders)
harness_add_cert "$cfg" prof-bad "prof-bad.test" profile=bogus
harness_renewd "$H_DIR/run2" -c "$cfg" --once
check "a profile the CA does not offer: --once fails cleanly" harness_failed_cleanly "$H_RC"
check "the error names the profile and the offered ones" \
	grep -q 'does not offer the profile "bogus" (offered: classic, shortlived)' "$H_DIR/run2.out"
check "no order was sent for it" test "$(orders)" = "$before"
check "nothing installed for it" test ! -e "$state/live/prof-bad"

harness_done
