#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Account persistence.  Run 1 creates the account key and registers it; run 2 (a new
# certificate) reuses the saved account without talking to newAccount at all; run 3, with
# account.json deleted but key.pem kept, finds the same account again with
# onlyReturnExisting and rewrites account.json; run 4 points the CA at an equivalent
# directory URL (localhost instead of 127.0.0.1), so the saved account.json (for another
# directory) is not trusted and the account is looked up again — the same account.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init account
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
acct="$state/accounts/pebble"
harness_write_config "$cfg"
harness_add_cert "$cfg" acct-one "one.account.test"

# POSTs to pebble's newAccount endpoint (new accounts and onlyReturnExisting look-ups)
new_account_posts() {
	local n
	n="$(grep -c 'POST /sign-me-up' "$H_PEBBLE_LOG" 2>/dev/null)" || true
	echo "${n:-0}"
}
# accounts pebble holds, from its last "There are now N accounts in memory" line
pebble_accounts() {
	local n
	n="$(sed -n 's/.*There are now \([0-9]*\) accounts in memory.*/\1/p' "$H_PEBBLE_LOG" | tail -n 1)"
	echo "${n:-0}"
}
# the URL of the last "Using account URL at CA pebble." line of a run's stderr
using_account_url() {
	sed -n 's/^.*Using account \([^ ]*\) at CA pebble\.$/\1/p' "$1" | tail -n 1
}
account_json_url() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$1" 2>/dev/null ||
		sed -n 's/.*"url" *: *"\([^"]*\)".*/\1/p' "$1"
}
account_json_directory() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["directory"])' "$1" 2>/dev/null ||
		sed -n 's/.*"directory" *: *"\([^"]*\)".*/\1/p' "$1"
}
# the account id: the path of the account URL (pebble builds the host part of its URLs from
# the request's Host header, so the same account has another URL under another host name)
url_path() { sed -E 's|^https?://[^/]+||' <<<"$1"; }

echo "== run 1: no account yet: create the key and register"
p0="$(new_account_posts)"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
p1="$(new_account_posts)"
check "run 1 exits 0" test "$H_RC" = 0
harness_check_cert "$state" acct-one "one.account.test" "$H_PEBBLE_ROOT" 1
check "run 1: stderr says a new account key was created" \
	grep -q 'Created a new account key for CA pebble' "$H_DIR/run1.err"
check "run 1: stderr says which account URL is used" grep -q 'Using account .* at CA pebble' "$H_DIR/run1.err"
url1="$(using_account_url "$H_DIR/run1.err")"
echo "account URL: ${url1:-<none>}"
check "run 1: the account URL is an https URL at pebble" \
	bash -c '[[ "$1" == "https://127.0.0.1:$2/"?* ]]' _ "$url1" "$H_PEBBLE_PORT"
check "run 1: pebble saw exactly one newAccount POST ($((p1 - p0)))" test "$((p1 - p0))" = 1
check "run 1: pebble holds one account ($(pebble_accounts))" test "$(pebble_accounts)" = 1
check "run 1: accounts/pebble/key.pem exists" test -s "$acct/key.pem"
check "run 1: accounts/pebble/key.pem has mode 0600" _h_mode_is "$acct/key.pem" 600
check "run 1: accounts/pebble/account.json exists" test -s "$acct/account.json"
check "run 1: accounts/pebble/account.json has mode 0600" _h_mode_is "$acct/account.json" 600
check "run 1: account.json has the account URL" test "$(account_json_url "$acct/account.json")" = "$url1"
check "run 1: account.json has the directory URL" \
	test "$(account_json_directory "$acct/account.json")" = "$H_PEBBLE_DIR_URL"
key_sum="$(sha256sum <"$acct/key.pem")"

echo "== run 2: a new certificate: the saved account is reused, nothing is created"
harness_add_cert "$cfg" acct-two "two.account.test"
harness_renewd "$H_DIR/run2" -c "$cfg" --once
p2="$(new_account_posts)"
check "run 2 exits 0" test "$H_RC" = 0
harness_check_cert "$state" acct-two "two.account.test" "$H_PEBBLE_ROOT" 1
check "run 2: acct-one still at version 1" test ! -e "$state/archive/acct-one/2"
check "run 2: no new account key was created" bash -c '! grep -q "Created a new account key" "$1"' _ "$H_DIR/run2.err"
check "run 2: no newAccount POST in pebble's log ($p1 -> $p2)" test "$p2" = "$p1"
check "run 2: pebble still has exactly one account ($(pebble_accounts))" test "$(pebble_accounts)" = 1
check "run 2: key.pem unchanged" test "$(sha256sum <"$acct/key.pem")" = "$key_sum"
check "run 2: account.json still has the first URL" test "$(account_json_url "$acct/account.json")" = "$url1"
if grep -q 'Using account' "$H_DIR/run2.err"; then
	check "run 2: the account used is the first one" test "$(using_account_url "$H_DIR/run2.err")" = "$url1"
fi

echo "== run 3: account.json deleted, key.pem kept: the account is found again (onlyReturnExisting)"
rm -f -- "$acct/account.json"
harness_add_cert "$cfg" acct-three "three.account.test"
harness_renewd "$H_DIR/run3" -c "$cfg" --once
p3="$(new_account_posts)"
check "run 3 exits 0" test "$H_RC" = 0
harness_check_cert "$state" acct-three "three.account.test" "$H_PEBBLE_ROOT" 1
check "run 3: no new account key was created" bash -c '! grep -q "Created a new account key" "$1"' _ "$H_DIR/run3.err"
check "run 3: key.pem unchanged" test "$(sha256sum <"$acct/key.pem")" = "$key_sum"
url3="$(using_account_url "$H_DIR/run3.err")"
check "run 3: the account found is the first one (${url3:-<none>})" test "$url3" = "$url1"
check "run 3: exactly one newAccount POST (the look-up) ($((p3 - p2)))" test "$((p3 - p2))" = 1
check "run 3: pebble still has exactly one account ($(pebble_accounts))" test "$(pebble_accounts)" = 1
check "run 3: account.json was written again" test -s "$acct/account.json"
check "run 3: account.json has mode 0600" _h_mode_is "$acct/account.json" 600
check "run 3: account.json has the first URL" test "$(account_json_url "$acct/account.json")" = "$url1"
check "run 3: account.json has the directory URL" \
	test "$(account_json_directory "$acct/account.json")" = "$H_PEBBLE_DIR_URL"

echo "== run 4: equivalent directory URL (localhost): the saved account.json is not trusted"
dir2="https://localhost:$H_PEBBLE_PORT/dir"
cfg2="$H_DIR/renewd-localhost.conf"
HC_DIRECTORY="$dir2" harness_write_config "$cfg2"
for n in one two three; do harness_add_cert "$cfg2" "acct-$n" "$n.account.test"; done
harness_add_cert "$cfg2" acct-four "four.account.test"
harness_renewd "$H_DIR/run4" -c "$cfg2" --once
p4="$(new_account_posts)"
check "run 4 exits 0" test "$H_RC" = 0
harness_check_cert "$state" acct-four "four.account.test" "$H_PEBBLE_ROOT" 1
check "run 4: the other certificates were not renewed" \
	test ! -e "$state/archive/acct-one/2" -a ! -e "$state/archive/acct-two/2" -a ! -e "$state/archive/acct-three/2"
check "run 4: no new account key was created" bash -c '! grep -q "Created a new account key" "$1"' _ "$H_DIR/run4.err"
check "run 4: pebble still has exactly one account ($(pebble_accounts))" test "$(pebble_accounts)" = 1
check "run 4: key.pem unchanged" test "$(sha256sum <"$acct/key.pem")" = "$key_sum"
check "run 4: exactly one newAccount POST (the look-up) ($((p4 - p3)))" test "$((p4 - p3))" = 1
url4="$(using_account_url "$H_DIR/run4.err")"
check "run 4: an account is used at the localhost URL (${url4:-<none>})" \
	bash -c '[[ "$1" == "https://localhost:$2/"?* ]]' _ "$url4" "$H_PEBBLE_PORT"
check "run 4: it is the same account (path $(url_path "$url4") = $(url_path "$url1"))" \
	test -n "$url4" -a "$(url_path "$url4")" = "$(url_path "$url1")"
check "run 4: account.json has the new directory URL" \
	test "$(account_json_directory "$acct/account.json")" = "$dir2"
check "run 4: account.json has the localhost account URL" test "$(account_json_url "$acct/account.json")" = "$url4"
check "run 4: account.json has mode 0600" _h_mode_is "$acct/account.json" 600
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

harness_done
