#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# End to end against Pebble: renewctl add → issued → list --json shows it → restart the
# daemon → still there; renew --force gives a new serial; add refuses what it must;
# remove deletes only the drop-in renewd wrote and keeps the certificate's files.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init renewctl-e2e
harness_need_renewd
[[ -n "${RENEWCTL:-}" && -x "$RENEWCTL" ]] || { h_log "SKIP: no renewctl"; exit 77; }
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
certs="$H_DIR/certs.d"
sock="$H_DIR/control"
dlog="$H_DIR/daemon.log"
H_LOGS+=("$dlog")
harness_write_config "$cfg"
harness_add_cert "$cfg" mainfile "mainfile.test"

ctl() { "$RENEWCTL" --socket "$sock" "$@"; }
# ctl_rc NAME ARGS... — run renewctl, keep its output in $H_DIR/NAME.{out,err}, its exit
# status in CTL_RC.
ctl_rc() {
	local n="$1"
	shift
	CTL_RC=0
	ctl "$@" >"$H_DIR/$n.out" 2>"$H_DIR/$n.err" || CTL_RC=$?
}
issued() { [[ -L "$state/live/$1" && -s "$state/live/$1/cert.pem" ]]; }
serial_of() { openssl x509 -noout -serial -in "$state/live/$1/cert.pem" | cut -d= -f2; }
listed() { ctl --json list | python3 -c 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["certificates"]))'; }
answering() { ctl status >/dev/null 2>&1 || [[ $? == 1 ]]; }

harness_start_daemon "$cfg" "$dlog" "$dlog"
check "the daemon answers on its socket" harness_wait_until 10 answering
check "the certificate of the main file is issued" harness_wait_until 30 issued mainfile

echo "== add"
ctl_rc add add web1 web1.test www.web1.test --webroot "$H_WEBROOT"
check "renewctl add: exit 0" test "$CTL_RC" = 0
check "the drop-in certs.d/web1.conf was written" test -s "$certs/web1.conf"
check "it says renewd wrote it" grep -q '^# Written by renewd' "$certs/web1.conf"
check "web1 is issued" harness_wait_until 30 issued web1
harness_check_cert "$state" web1 "web1.test www.web1.test" "$H_PEBBLE_ROOT" 1 ec-256
check "renewctl list --json shows web1" bash -c '[[ " $1 " == *" web1 "* ]]' _ "$(listed)"

echo "== restart"
harness_stop_daemon
check "SIGTERM: exit 0" test "$stop_rc" = 0
harness_start_daemon "$cfg" "$dlog" "$dlog"
check "the daemon answers again" harness_wait_until 10 answering
check "web1 is still managed after the restart" bash -c '[[ " $1 " == *" web1 "* ]]' _ "$(listed)"
check "and not issued again" test "$(readlink "$state/live/web1")" = ../archive/web1/1

echo "== renew --force, followed by renewctl events"
old="$(serial_of web1)"
ctl events >"$H_DIR/events.out" 2>"$H_DIR/events.err" &
events_pid=$!
_h_register "$events_pid" renewctl-events
# It says so once its Subscribe call is on the socket; every event after "queued" comes
# from the loop later, so none of those can be missed.
subscribed() { grep -q 'Following renewal events' "$H_DIR/events.err"; }
check "renewctl events is following" harness_wait_until 5 subscribed
ctl_rc renew renew web1 --force
check "renewctl renew --force: exit 0" test "$CTL_RC" = 0
check "renew showed the progress" grep -q 'web1: installed' "$H_DIR/renew.out"
check "a new serial" test "$(serial_of web1)" != "$old"
check "version 2 is live" test "$(readlink "$state/live/web1")" = ../archive/web1/2
events_seen() { grep -q '^web1: installed' "$H_DIR/events.out"; }
check "renewctl events saw web1 installed" harness_wait_until 5 events_seen
check "  and the steps before" grep -q '^web1: order-created' "$H_DIR/events.out"
kill -TERM "$events_pid" 2>/dev/null || true
wait "$events_pid" 2>/dev/null || true

echo "== add refuses"
ctl_rc add-again add web1 other.test --webroot "$H_WEBROOT"
check "add of an existing name: exit 1" test "$CTL_RC" = 1
check "  says it exists" grep -q 'exists already' "$H_DIR/add-again.err"
check "  the drop-in is unchanged" grep -q 'web1.test www.web1.test' "$certs/web1.conf"
ctl_rc add-bad-domain add web2 'bad domain!' --webroot "$H_WEBROOT"
check "add with a bad domain: exit 1, nothing written" bash -c '[[ $1 == 1 && ! -e $2 ]]' _ "$CTL_RC" "$certs/web2.conf"
ctl_rc add-bad-config add web3 web3.test --challenge dns-01
check "add that the configuration refuses: exit 1" test "$CTL_RC" = 1
check "  the reason names FILE:LINE" grep -q 'web3.conf:[0-9]' "$H_DIR/add-bad-config.err"
check "  the drop-in was removed again" test ! -e "$certs/web3.conf"
check "  the daemon still serves" answering

echo "== revoke"
ctl_rc revoke-bad revoke web1 --reason bogus
check "revoke with an unknown reason: exit 1" test "$CTL_RC" = 1
ctl_rc revoke revoke web1 --reason superseded
check "renewctl revoke web1: exit 0" test "$CTL_RC" = 0
check "  pebble revoked it" grep -qi 'revok' "$H_PEBBLE_LOG"
ctl_rc revoke-again revoke web1
check "revoking it again: exit 1, the CA's alreadyRevoked named" \
	bash -c '[[ $1 == 1 ]] && grep -q alreadyRevoked "$2"' _ "$CTL_RC" "$H_DIR/revoke-again.err"

echo "== remove"
ctl_rc remove-main remove mainfile
check "remove of a certificate from the main file: exit 1" test "$CTL_RC" = 1
check "  says to remove it there" grep -q 'renewctl add did not write' "$H_DIR/remove-main.err"
ctl_rc remove remove web1
check "renewctl remove web1: exit 0" test "$CTL_RC" = 0
check "  the drop-in is gone" test ! -e "$certs/web1.conf"
check "  the certificate's files are kept" test -s "$state/live/web1/cert.pem"
check "  web1 is no longer listed" bash -c '[[ " $1 " != *" web1 "* ]]' _ "$(listed)"
ctl_rc remove-again remove web1
check "remove of an unknown name: exit 1" test "$CTL_RC" = 1

harness_stop_daemon
check "SIGTERM: exit 0" test "$stop_rc" = 0
check "no sanitizer reports" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ "$dlog"
harness_done
