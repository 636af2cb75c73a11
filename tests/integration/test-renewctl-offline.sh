#!/bin/bash
# shellcheck disable=SC2016
# renewctl without renewd: a missing or dead socket (exit 3, a clear message), usage errors
# (exit 2), --help naming every command, and a fake control socket
# (renewctl-fake-server.py) answering canned Varlink replies, to check the table and the
# key: value output, --json, the exit statuses (failing or due certificates → 1,
# permission denied → 4), progress streaming for renew, timeouts and broken replies.
# Needs only python3; no ACME server, no daemon.
set -euo pipefail

T_SELF_DIR="$(cd "$(dirname "$0")" && pwd)"
T_SRCROOT="$(cd "$T_SELF_DIR/../.." && pwd)"
RENEWCTL="${RENEWCTL:-$T_SRCROOT/build/ctl/renewctl}"
if [[ ! -x "$RENEWCTL" ]]; then
	echo "SKIP: renewctl binary not found (RENEWCTL=$RENEWCTL)" >&2
	exit 77
fi
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

T_DIR="$(mktemp -d "${TMPDIR:-/tmp}/renewctl-offline.XXXXXX")"
T_PIDS=()
T_FAILURES=0
T_CHECKS=0
export TZ=UTC LC_ALL=C

cleanup() {
	local rc=$? pid
	trap - EXIT
	for pid in "${T_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf -- "$T_DIR"
	exit "$rc"
}
trap cleanup EXIT

# check DESCRIPTION COMMAND... — run COMMAND, count a failure if it fails.
check() {
	local desc="$1"
	shift
	T_CHECKS=$((T_CHECKS + 1))
	if "$@"; then
		echo "ok: $desc"
	else
		echo "FAIL: $desc" >&2
		T_FAILURES=$((T_FAILURES + 1))
	fi
}

# run NAME ARGS... — run renewctl with ARGS; stdout in $T_DIR/NAME.out, stderr in
# $T_DIR/NAME.err, exit status in RC.
run() {
	local name="$1"
	shift
	RC=0
	"$RENEWCTL" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" || RC=$?
	# In a sanitizer build, a report is a failure whatever the exit status.
	if grep -qE 'Sanitizer|runtime error:' "$T_DIR/$name.err"; then
		echo "FAIL: renewctl $*: sanitizer report:" >&2
		cat "$T_DIR/$name.err" >&2
		T_FAILURES=$((T_FAILURES + 1))
	fi
}
out() { cat "$T_DIR/$1.out"; }
has_out() { grep -qF -- "$2" "$T_DIR/$1.out"; }
has_err() { grep -qF -- "$2" "$T_DIR/$1.err"; }
rc_is() { [[ "$RC" == "$1" ]] || { echo "   exit status $RC, expected $1; stderr:" >&2; sed 's/^/   | /' "$T_DIR/$2.err" >&2; false; }; }
# Every line of stdout is a JSON document (an object).
json_lines() { python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip() or sys.exit(1)]' "$T_DIR/$1.out"; }
# stdout is one JSON document; print the python expression $2 of it (as d).
json_eval() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_DIR/$1.out" "$2"; }
# The last call the fake server of MODE got, as JSON; python expression $2 of it (as c).
last_call() { python3 -c 'import json,sys; c=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$T_DIR/$1.log" "$2"; }

# start_fake MODE — a fake renewd on $T_DIR/MODE.sock
start_fake() {
	local mode="$1" i
	python3 "$T_SELF_DIR/renewctl-fake-server.py" --socket "$T_DIR/$mode.sock" --mode "$mode" \
		--log "$T_DIR/$mode.log" --ready "$T_DIR/$mode.ready" 2>"$T_DIR/$mode.server-err" &
	T_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[[ -e "$T_DIR/$mode.ready" ]] && return 0
		sleep 0.1
	done
	cat "$T_DIR/$mode.server-err" >&2
	echo "fake server $mode did not start" >&2
	exit 1
}
sock() { echo "$T_DIR/$1.sock"; }

echo "== renewctl: $RENEWCTL"

echo "== usage"
run help --help
check "--help: exit 0" rc_is 0 help
for c in status list show renew reload add remove revoke events; do
	check "--help names the command $c" grep -qE "^  ([a-z, ]*[ ,])?$c([ ,]|$)" "$T_DIR/help.out"
done
for o in --socket --json --timeout --all --force --no-wait --version --help; do
	check "--help names the option $o" has_out help "$o"
done
check "--help documents the exit statuses" has_out help "Exit status:"
check "--help documents exit 4 for permission denied" grep -qE '^  4 +permission denied' "$T_DIR/help.out"
run version --version
check "--version: exit 0, prints renewctl VERSION" bash -c '[[ '"$RC"' == 0 ]] && grep -qE "^renewctl [0-9]" "$0"' "$T_DIR/version.out"

usage() {
	local name="$1" msg="$2"
	shift 2
	run "usage-$name" "$@"
	check "usage error ($*): exit 2" rc_is 2 "usage-$name"
	check "usage error ($*): says '$msg'" has_err "usage-$name" "$msg"
	check "usage error ($*): nothing on stdout" test ! -s "$T_DIR/usage-$name.out"
}
usage none "no command given" 
usage unknown-command "unknown command 'frobnicate'" frobnicate
usage unknown-option "unknown option '--frobnicate'" --frobnicate list
usage show-no-name "show: missing certificate name" show
usage show-two "show: unexpected argument 'b'" show a b
usage list-arg "list: unexpected argument 'x'" list x
usage renew-nothing "renew: name the certificates to renew, or --all" renew
usage renew-both "exclude each other" renew site-one --all
usage force-list "--force applies only to renew" list --force
usage timeout "invalid --timeout 'soon'" --timeout soon status
usage timeout-zero "invalid --timeout '0'" --timeout 0 status
usage socket-arg "option '--socket' needs an argument" status --socket
usage revoke-nothing "revoke: missing certificate name" revoke
usage reason-list "--reason applies only to revoke" list --reason keyCompromise
usage events-arg "events: unexpected argument 'x'" events x
usage add-no-domains "add: missing domain names" add x
usage add-nothing "add: missing certificate name" add
usage remove-nothing "remove: missing certificate name" remove
usage remove-two "remove: unexpected argument 'b'" remove a b
usage webroot-list "--webroot applies only to add" list --webroot /srv

echo "== no daemon"
run missing --socket "$T_DIR/nothing-here" status
check "missing socket: exit 3" rc_is 3 missing
check "missing socket: says it cannot reach renewd at the path" \
	has_err missing "renewctl: cannot reach renewd at $T_DIR/nothing-here: No such file or directory; is it running?"
check "missing socket: nothing on stdout" test ! -s "$T_DIR/missing.out"
# A socket file nobody listens on any more (a daemon that died): ECONNREFUSED.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T_DIR/stale.sock"
run stale --socket "$T_DIR/stale.sock" list
check "stale socket: exit 3" rc_is 3 stale
check "stale socket: connection refused, is it running?" has_err stale "Connection refused; is it running?"
run default-socket status
check "default socket /run/renewd/control named in the message (or reached: exit 0/1/4)" \
	bash -c '[[ '"$RC"' != 3 ]] || grep -qF "/run/renewd/control" "$0"' "$T_DIR/default-socket.err"

echo "== a fake renewd, all fine"
start_fake ok
S="$(sock ok)"
run ok-status --socket "$S" status
check "status: exit 0" rc_is 0 ok-status
check "status: shows the daemon version and uptime" has_out ok-status "renewd 9.9.9-fake, up 3 days 4 h"
check "status: shows the counts" has_out ok-status "2 (2 valid, 0 due, 0 renewing, 0 failing, 0 missing)"
check "status: next renewal with its certificate" grep -qE '^Next renewal: .*\(in 2 days\), site-two$' "$T_DIR/ok-status.out"
check "status: no attention needed" has_out ok-status "none needed"
check "status: the call on the wire" test "$(last_call ok 'c["method"], c["more"], c["oneway"]')" = "('io.renewd.Status', False, False)"

run ok-list --socket "$S" list
check "list: exit 0" rc_is 0 ok-list
check "list: header" grep -qE '^NAME +DOMAINS +STATE +EXPIRES +NEXT RENEWAL +LAST ERROR$' "$T_DIR/ok-list.out"
check "list: site-one with its first domain and +2" \
	grep -qE '^site-one +a\.example\.test \+2 +valid +[0-9]{4}-[0-9]{2}-[0-9]{2} \(in 60 days\) +[0-9-]{10} \(in 30 days\) +-$' "$T_DIR/ok-list.out"
check "list: site-two expiring in 5 days" grep -qE '^site-two +two\.example\.test +valid .*\(in 5 days\).*\(in 2 days\)' "$T_DIR/ok-list.out"
check "list: columns line up (EXPIRES starts at the same column in every row)" \
	bash -c 'test "$(awk '"'"'{ print index($0, (NR == 1 ? "EXPIRES" : "20")) }'"'"' "$0" | head -3 | sort -u | wc -l)" = 1' "$T_DIR/ok-list.out"
check "list: footer" has_out ok-list "2 certificates."
run ok-list-json --socket "$S" --json list
check "list --json: exit 0" rc_is 0 ok-list-json
check "list --json: the reply's parameters, as JSON" \
	test "$(json_eval ok-list-json '[c["name"] for c in d["certificates"]]')" = "['site-one', 'site-two']"
check "list --json: all members kept" test "$(json_eval ok-list-json 'd["certificates"][0]["serial"]')" = 4f3a9c0b1d2e
run ok-list-json-after list --json --socket "$S"
# (Compared by content, not bytes: the fake server's times move with the clock.)
check "options after the command work too" \
	test "$(json_eval ok-list-json-after '[(c["name"], c["serial"]) for c in d["certificates"]]')" = \
	"$(json_eval ok-list-json '[(c["name"], c["serial"]) for c in d["certificates"]]')"

run ok-show --socket "$S" show site-one
check "show: exit 0" rc_is 0 ok-show
check "show: Name line" grep -qE '^Name: +site-one$' "$T_DIR/ok-show.out"
check "show: every domain" grep -qE '^Domains: +a\.example\.test, www\.a\.example\.test, api\.a\.example\.test$' "$T_DIR/ok-show.out"
check "show: expiry with zone and relative time" grep -qE '^Expires: +[0-9-]{10} [0-9:]{8} UTC \(in 60 days\)$' "$T_DIR/ok-show.out"
check "show: serial" grep -qE '^Serial: +4f3a9c0b1d2e$' "$T_DIR/ok-show.out"
check "show: version" grep -qE '^Version: +3$' "$T_DIR/ok-show.out"
check "show: null members as -" grep -qE '^Last error: +-$' "$T_DIR/ok-show.out"
check "show: sent the name" test "$(last_call ok 'c["parameters"]')" = "{'name': 'site-one'}"
run ok-show-json --socket "$S" --json show site-one
check "show --json: exit 0 and the certificate" test "$RC/$(json_eval ok-show-json 'd["certificate"]["name"]')" = "0/site-one"
run ok-show-none --socket "$S" show nosuch
check "show of an unknown name: exit 1" rc_is 1 ok-show-none
check "show of an unknown name: 'no certificate named nosuch'" has_err ok-show-none "renewctl: no certificate named nosuch"

run ok-renew --socket "$S" renew site-one site-two
check "renew: exit 0" rc_is 0 ok-renew
check "renew: asked for more, with the names" \
	test "$(last_call ok 'c["method"], c["more"], c["parameters"]')" = "('io.renewd.Renew', True, {'names': ['site-one', 'site-two']})"
check "renew: one line per event, 'NAME: event detail'" has_out ok-renew "site-one: order-created order 17"
check "renew: events without detail" grep -qx 'site-one: queued' "$T_DIR/ok-renew.out"
check "renew: installed" grep -qx 'site-one: installed version 4' "$T_DIR/ok-renew.out"
check "renew: a certificate that is not due" grep -qx 'site-two: not-due' "$T_DIR/ok-renew.out"
check "renew: 8 event lines and a summary" test "$(grep -c ': ' "$T_DIR/ok-renew.out")" = 8
check "renew: summary" grep -qx 'Renewed 1 certificate.' "$T_DIR/ok-renew.out"
run ok-renew-notdue --socket "$S" renew site-two
check "renew of one that is not due: exit 0, says so" \
	bash -c '[[ '"$RC"' == 0 ]] && grep -qx "Nothing renewed: nothing was due (--force renews anyway)." "$0"' "$T_DIR/ok-renew-notdue.out"
run ok-renew-json --socket "$S" --json renew site-one
check "renew --json: exit 0" rc_is 0 ok-renew-json
check "renew --json: JSON lines, one per reply (7 events and the last)" \
	bash -c 'test "$(wc -l <"$0")" = 8' "$T_DIR/ok-renew-json.out"
check "renew --json: every line is JSON" json_lines ok-renew-json
check "renew --json: the last line has the totals" \
	python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(d != {"event": "done", "renewed": 1, "failed": 0})' "$T_DIR/ok-renew-json.out"
run ok-renew-all --socket "$S" renew --all --force
check "renew --all --force: exit 0" rc_is 0 ok-renew-all
check "renew --all --force: sent all and force" \
	test "$(last_call ok 'c["parameters"]')" = "{'all': True, 'force': True}"
run ok-renew-nowait --socket "$S" renew site-one --no-wait
check "renew --no-wait: exit 0" rc_is 0 ok-renew-nowait
sleep 0.3   # let the server log the oneway call
check "renew --no-wait: a oneway call" test "$(last_call ok 'c["oneway"], c["more"]')" = "(True, False)"
run ok-renew-none --socket "$S" renew nosuch
check "renew of an unknown name: exit 1, named" bash -c '[[ '"$RC"' == 1 ]] && grep -qF "no certificate named nosuch" "$0"' "$T_DIR/ok-renew-none.err"

run ok-reload --socket "$S" reload
check "reload: exit 0" rc_is 0 ok-reload
check "reload: says so" has_out ok-reload "Configuration reloaded."
run ok-reload-json --socket "$S" --json reload
check "reload --json: {}" test "$RC/$(json_eval ok-reload-json 'd')" = "0/{}"

echo "== bash completion"
# complete WORDS... — what ctl/renewctl.bash-completion offers for the last word
complete_words() {
	bash -c 'source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _renewctl; echo "${COMPREPLY[*]}"' \
		"$T_SRCROOT/ctl/renewctl.bash-completion" "$RENEWCTL" "$@"
}
check "completion: the commands" test "$(complete_words "")" = "status list show renew reload add remove revoke events import-certbot"
check "completion: commands by prefix" test "$(complete_words re)" = "renew reload remove revoke"
check "completion: the options" test "$(complete_words --socket "$S" --j)" = "--json"
check "completion: renew's options" test "$(complete_words --socket "$S" renew --n)" = "--no-wait"
check "completion: certificate names from list --json" test "$(complete_words --socket "$S" show "")" = "site-one site-two"
check "completion: with --socket=PATH split at =" test "$(complete_words --socket = "$S" renew site-one s)" = "site-one site-two"
check "completion: no names without a daemon" test -z "$(complete_words --socket "$T_DIR/nothing-here" show "")"

echo "== progress arrives as it happens; SIGTERM stops waiting"
"$RENEWCTL" --socket "$S" renew slow >"$T_DIR/slow.out" 2>"$T_DIR/slow.err" &
slow_pid=$!
for ((i = 0; i < 50; i++)); do
	grep -q 'slow: order-created' "$T_DIR/slow.out" 2>/dev/null && break
	sleep 0.1
done
check "renew: the first events are printed before the renewal ends" grep -qx 'slow: queued' "$T_DIR/slow.out"
check "renew: not all of them yet" bash -c '! grep -q "slow: installed" "$0"' "$T_DIR/slow.out"
kill -TERM "$slow_pid" 2>/dev/null || true
RC=0
wait "$slow_pid" || RC=$?
check "renew interrupted by SIGTERM: exit 143" rc_is 143 slow
check "renew interrupted: says the renewal goes on" has_err slow "go on in renewd"

echo "== a certificate is failing"
start_fake failing
S="$(sock failing)"
run failing-list --socket "$S" list
check "list with a failing certificate: exit 1" rc_is 1 failing-list
check "list: the failing row" grep -qE '^broken +b\.example\.test +failing +.*\(in 10 days\) +.*\(2 days ago\) +urn:ietf' "$T_DIR/failing-list.out"
check "list: the last error is truncated with ..." grep -qE '^broken .*\.\.\.$' "$T_DIR/failing-list.out"
check "list: the error's tail is not shown" bash -c '! grep -q "in full" "$0"' "$T_DIR/failing-list.out"
check "list: no escape characters from the daemon reach the terminal" bash -c '! grep -q $'"'"'\x1b'"'"' "$0"' "$T_DIR/failing-list.out"
check "list: one line per certificate (the newline in the error is gone)" test "$(grep -c example.test "$T_DIR/failing-list.out")" = 3
check "list: the footer counts it" has_out failing-list "3 certificates, 1 needs attention"
run failing-list-json --socket "$S" --json list
check "list --json with a failing certificate: exit 1 too" rc_is 1 failing-list-json
check "list --json: the error in full" test "$(json_eval failing-list-json 'd["certificates"][2]["last_error"].endswith("in full")')" = True
run failing-status --socket "$S" status
check "status with a failing certificate: exit 1" rc_is 1 failing-status
check "status: says what needs attention" grep -qE '^Attention: +1 failing, a renewal is overdue' "$T_DIR/failing-status.out"
run failing-show --socket "$S" show broken
check "show of a failing certificate: exit 0 (show does not judge)" rc_is 0 failing-show
check "show: the whole error, on one line" grep -qE '^Last error: +urn:.*404 .*in full$' "$T_DIR/failing-show.out"
check "show: consecutive failures" grep -qE '^Consecutive failures: +4$' "$T_DIR/failing-show.out"
check "show: needs attention" grep -qE '^Needs attention: +failing$' "$T_DIR/failing-show.out"
run failing-renew --socket "$S" renew site-one broken
check "renew with a failure: exit 1" rc_is 1 failing-renew
check "renew: the failed event with its detail" grep -qx 'broken: failed urn:ietf:params:acme:error:unauthorized: 404 for the token' "$T_DIR/failing-renew.out"
check "renew: summary with the failure" has_out failing-renew "Renewed 1, failed 1"
check "renew: the failure named on stderr" grep -qx 'renewctl: renewal failed for broken' "$T_DIR/failing-renew.err"
run failing-renew-json --socket "$S" --json renew broken
check "renew --json with a failure: exit 1" rc_is 1 failing-renew-json
check "renew --json with a failure: the events as JSON lines" json_lines failing-renew-json
check "renew --json with a failure: the failed event" \
	python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(d["event"] != "failed")' "$T_DIR/failing-renew-json.out"

echo "== a certificate inside its renewal window"
start_fake window
S="$(sock window)"
run window-list --socket "$S" list
check "list, next_renewal in the past: exit 1" rc_is 1 window-list
check "list: 1 needs attention" has_out window-list "3 certificates, 1 needs attention"
run window-status --socket "$S" status
check "status, next_renewal in the past: exit 1" rc_is 1 window-status

echo "== a long list (a reply over 64 KiB)"
start_fake many
run many-list --socket "$(sock many)" list
check "list of 3000: exit 0" rc_is 0 many-list
check "list of 3000: every row" test "$(grep -c '^cert-' "$T_DIR/many-list.out")" = 3000
check "list of 3000: the reply was over 64 KiB" \
	bash -c '"$0" --socket "$1" --json list | test "$(wc -c)" -gt 65536' "$RENEWCTL" "$(sock many)"

echo "== permission denied"
start_fake denied
start_fake varlink-denied
run denied-renew --socket "$(sock denied)" renew site-one
check "renew denied: exit 4" rc_is 4 denied-renew
check "renew denied: 'permission denied: renewctl renew needs root'" has_err denied-renew "renewctl: permission denied: renewctl renew needs root"
run denied-reload --socket "$(sock varlink-denied)" reload
check "reload denied (org.varlink.service.PermissionDenied): exit 4" rc_is 4 denied-reload
check "reload denied: 'renewctl reload needs root'" has_err denied-reload "renewctl: permission denied: renewctl reload needs root"
run denied-status --socket "$(sock denied)" status
check "status denied: exit 4" rc_is 4 denied-status
check "status denied: names root or the control group" has_err denied-status "renewctl status needs root or membership in renewd's control group"

echo "== the daemon misbehaves"
start_fake reload-fails
run reload-fails --socket "$(sock reload-fails)" reload
check "reload refused: exit 1" rc_is 1 reload-fails
check "reload refused: the reason" has_err reload-fails "renewctl: reload failed: /etc/renewd/renewd.conf:7: unknown key 'colour'"
start_fake stuck
t0=$SECONDS
run stuck --socket "$(sock stuck)" --timeout 1 status
check "a daemon that never answers: exit 3" rc_is 3 stuck
check "a daemon that never answers: says so" has_err stuck "did not answer in time"
check "a daemon that never answers: given up after about the timeout" test $((SECONDS - t0)) -le 5
start_fake close
run close --socket "$(sock close)" list
check "a daemon that hangs up: exit 3" rc_is 3 close
check "a daemon that hangs up: says so" has_err close "closed the connection without an answer"
start_fake garbage
run garbage --socket "$(sock garbage)" list
check "a reply that breaks the protocol: exit 1" rc_is 1 garbage
check "a reply that breaks the protocol: says so" has_err garbage "breaks the Varlink protocol"

echo
if [[ "$T_FAILURES" -gt 0 ]]; then
	echo "$T_FAILURES of $T_CHECKS checks failed" >&2
	exit 1
fi
echo "all $T_CHECKS checks passed"
