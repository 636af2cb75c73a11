#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034,SC2317
# ACME Renewal Information (RFC 9773) against a real flow.  Pebble 2.4.0 has no ARI, so
# ari-front.py, a TLS reverse proxy in front of it, adds "renewalInfo" to the directory and
# answers renewalInfo itself with windows this test plans, while every signed request goes
# on to the real Pebble (with the client's Host header, so Pebble's URLs and JWS checks all
# name the front).  The front logs each newOrder payload and each renewalInfo GET.
#
# One daemon run, one certificate F, five versions:
#   F1  issued (no certificate yet): newOrder without "replaces"; its renewalInfo is asked
#       for with the certID computed here by openssl (AKI keyid . DER serial);
#   F1's window is [t+6 s, t+14 s]: nothing before it, then a renewal inside it whose
#       newOrder carries "replaces": certID(F1), and the log names the window;
#   F2's window lies in the past: renewed at once, "replaces": certID(F2);
#   F3's window lies in the past and the front refuses "replaces" with alreadyReplaced:
#       the daemon orders again without it, once, and succeeds;
#   F4 likewise, refused as malformed with a detail naming "replaces";
#   F5's window is years ahead: nothing more happens.
# Then a restart: the persisted window and poll time hold (no renewal, no early re-poll).
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init ari
harness_need_renewd
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed for the ARI front" >&2; exit 77; }
harness_start_all

FRONT_LOG="$H_DIR/front.jsonl"
cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
dlog="$H_DIR/daemon.log"
name=ari-f
domains="ari-f.test www.ari-f.test"
H_LOGS+=("$H_DIR/front.err" "$FRONT_LOG" "$dlog")

# ---------------------------------------------------------------------------------------
# the front

start_front() {
	harness_start_front "$FRONT_LOG"
}

front_post() {
	curl -sSf --max-time 5 --cacert "$H_TLS_ROOT" -H 'Content-Type: application/json' \
		-d "$2" -o /dev/null "$FRONT$1"
}

# flog QUERY [ARG] — read the front's JSON-lines log:
#   ri-ids            certIDs of the renewalInfo GETs, in order
#   ri-count ID       how many renewalInfo GETs asked for ID
#   window ID         "START END" served for ID
#   ri-time ID        time of the first renewalInfo GET for ID
#   orders            one line per newOrder: "TIME REPLACES|- REFUSED|-"
flog() {
	python3 - "$FRONT_LOG" "$@" <<-'EOF'
		import json, sys
		recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
		q = sys.argv[2]
		arg = sys.argv[3] if len(sys.argv) > 3 else None
		ri = [r for r in recs if r["type"] == "renewalInfo"]
		if q == "ri-ids":
		    for r in ri: print(r["certID"])
		elif q == "ri-count":
		    print(sum(1 for r in ri if r["certID"] == arg))
		elif q == "window":
		    m = [r for r in ri if r["certID"] == arg]
		    if m: print(m[0]["start"], m[0]["end"])
		elif q == "ri-time":
		    m = [r for r in ri if r["certID"] == arg]
		    if m: print("%.3f" % m[0]["time"])
		elif q == "orders":
		    for r in recs:
		        if r["type"] != "newOrder": continue
		        p = r.get("payload") or {}
		        print("%.3f %s %s" % (r["time"], p.get("replaces") or "-", r.get("refused") or "-"))
	EOF
}

# ---------------------------------------------------------------------------------------
# certIDs, computed independently of renewd: base64url(AKI keyIdentifier) "."
# base64url(DER contents of the serial INTEGER, with the 0x00 a set high bit needs).

cert_id() {
	local pem="$1" aki serial
	aki="$(openssl x509 -noout -ext authorityKeyIdentifier -in "$pem" | tail -n +2 |
		tr -d ' \n' | sed -e 's/^keyid://' -e 's/:/ /g')"
	serial="$(openssl x509 -noout -serial -in "$pem" | sed 's/^serial=//')"
	python3 - "$aki" "$serial" <<-'EOF'
		import base64, sys
		def b64u(h): return base64.urlsafe_b64encode(bytes.fromhex(h)).decode().rstrip("=")
		aki, s = sys.argv[1].replace(" ", ""), sys.argv[2]
		if len(s) % 2: s = "0" + s
		while len(s) > 2 and s.startswith("00") and int(s[2:4], 16) < 0x80: s = s[2:]
		if int(s[:2], 16) >= 0x80: s = "00" + s
		print(b64u(aki) + "." + b64u(s))
	EOF
}

not_before() { date -u -d "$(openssl x509 -noout -startdate -in "$1" | sed 's/^notBefore=//')" +%s; }
fmt_time() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S UTC'; }

# ---------------------------------------------------------------------------------------
# the daemon

DPID=""
start_daemon() {
	echo "----- daemon start $(date -u +%T.%N) -----" >>"$dlog"
	"$RENEWD" -v -c "$cfg" >>"$dlog" 2>&1 </dev/null &
	DPID=$!
	_h_register "$DPID" renewd
	h_log "renewd daemon pid $DPID"
}

# stop_daemon — SIGTERM, wait (at most 10 s); DSTATUS gets the exit status.
stop_daemon() {
	local i
	DSTATUS=0
	kill -TERM "$DPID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DPID" 2>/dev/null; then
		h_log "renewd (pid $DPID) still running 10 s after SIGTERM, killing it"
		kill -KILL "$DPID" 2>/dev/null || true
	fi
	wait "$DPID" 2>/dev/null || DSTATUS=$?
	h_log "renewd pid $DPID stopped, exit status $DSTATUS"
	harness_stop renewd # forget the pid (already reaped)
}

# wait_for SECONDS COMMAND... — poll every 0.1 s.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ((SECONDS < deadline)); do
		"$@" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || { h_log "renewd exited"; return 1; }
		sleep 0.1
	done
	return 1
}

# is_live N — live/<name> is version N now.
is_live() { [[ -d "$state/archive/$name/$1" ]] && _h_link_is "$state/live/$name" "../archive/$name/$1"; }
# have_version N — version N was installed (live is N or newer: renewals for windows in
# the past follow each other within a second, quicker than a poll may look).
have_version() {
	local cur
	[[ -d "$state/archive/$name/$1" ]] || return 1
	cur="$(readlink "$state/live/$name")" || return 1
	cur="${cur##*/}"
	[[ "$cur" =~ ^[0-9]+$ ]] && ((cur >= $1))
}
ri_seen() { [[ "$(flog ri-count "$1")" -ge 1 ]]; }
n_orders() { flog orders | wc -l; }
in_range() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }
no_sanitizer_reports() { ! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$dlog"; }

# ---------------------------------------------------------------------------------------

start_front
# One window per certID, in the order they are asked about (relative to that first ask):
# F1 ahead, F2 past, F3 past + alreadyReplaced, F4 past + malformed; then years ahead.
front_post /test/plan '{"windows": [
	{"start": 6, "end": 14},
	{"start": -7200, "end": -3600},
	{"start": -7200, "end": -3600, "reject": "alreadyReplaced"},
	{"start": -7200, "end": -3600, "reject": "malformed"}
]}'

HC_DIRECTORY="$FRONT/dir" harness_write_config "$cfg"
harness_add_cert "$cfg" "$name" "$domains" keep_versions=10

check "the front's directory advertises renewalInfo at the front" \
	bash -c 'curl -sSf --cacert "$1" "$2/dir" | grep -q "\"renewalInfo\": \"$2/renewal-info\""' _ "$H_TLS_ROOT" "$FRONT"
check "the front's directory points newOrder at the front (Host preserved)" \
	bash -c 'curl -sSf --cacert "$1" "$2/dir" | grep -q "\"newOrder\": \"$2/"' _ "$H_TLS_ROOT" "$FRONT"

t_start=$SECONDS
start_daemon

echo "== F1: issued (no certificate yet), then its renewalInfo is asked for"
check "F1 is issued and live" wait_for 30 is_live 1
id1="$(cert_id "$state/archive/$name/1/cert.pem")"
echo "     certID(F1) computed with openssl: $id1"
check "the front saw a renewalInfo GET for certID(F1)" wait_for 10 ri_seen "$id1"
check "the first renewalInfo GET asked for exactly certID(F1)" \
	test "$(flog ri-ids | head -n 1)" = "$id1"
mapfile -t orders < <(flog orders)
check "one newOrder so far" test "${#orders[@]}" = 1
check "F1's newOrder carried no \"replaces\"" test "$(cut -d' ' -f2- <<<"${orders[0]:-}")" = "- -"
read -r w1s w1e < <(flog window "$id1")
echo "     F1 window: $(fmt_time "$w1s") .. $(fmt_time "$w1e")"
check "the daemon logs the window of F1" \
	grep -qF "$name: The CA suggests renewing between $(fmt_time "$w1s") and $(fmt_time "$w1e")" "$dlog"

echo "== F1's window [t+6 s, t+14 s]: nothing before it, a renewal inside it"
check "F2 is issued (within the window + 10 s)" wait_for $((w1e - $(date +%s) + 10)) have_version 2
mapfile -t orders < <(flog orders)
check "exactly one newOrder before the window (F1's own)" \
	test "$(printf '%s\n' "${orders[@]}" | awk -v s="$w1s" '$1 < s' | wc -l)" = 1
read -r o2t o2r _ <<<"${orders[1]:-0 - -}"
echo "     F2 newOrder at $(date -u -d "@${o2t%.*}" +%T).${o2t#*.}, window $(date -u -d "@$w1s" +%T)..$(date -u -d "@$w1e" +%T)"
check "F2's newOrder was sent inside F1's window (1 s timer slack at the end)" in_range "$o2t" "$w1s" "$((w1e + 1))"
nb2="$(not_before "$state/archive/$name/2/cert.pem")"
check "F2's notBefore lies inside F1's window (1 s slack)" in_range "$nb2" "$w1s" "$((w1e + 1))"
check "F2's newOrder carried \"replaces\": certID(F1)" test "$o2r" = "$id1"
harness_check_cert "$state" "$name" "$domains" "$H_PEBBLE_ROOT" 2

echo "== F2's window lies in the past: renewed at once"
id2="$(cert_id "$state/archive/$name/2/cert.pem")"
check "the front saw a renewalInfo GET for certID(F2)" wait_for 10 ri_seen "$id2"
check "F3 is issued" wait_for 20 have_version 3
read -r w2s w2e < <(flog window "$id2")
check "the daemon logs F2's past window" \
	grep -qF "$name: The CA suggests renewing between $(fmt_time "$w2s") and $(fmt_time "$w2e")" "$dlog"
mapfile -t orders < <(flog orders)
read -r o3t o3r _ <<<"${orders[2]:-0 - -}"
ri2t="$(flog ri-time "$id2")"
echo "     renewalInfo(F2) at $ri2t, F3 newOrder at $o3t"
check "F3's newOrder followed the renewalInfo answer within 3 s" in_range "$o3t" "$ri2t" "$(awk -v t="$ri2t" 'BEGIN { printf "%.3f", t + 3 }')"
check "F3's newOrder carried \"replaces\": certID(F2)" test "$o3r" = "$id2"

echo "== F3: past window, the CA refuses \"replaces\" (alreadyReplaced): ordered again without it"
id3="$(cert_id "$state/archive/$name/3/cert.pem")"
check "F4 is issued" wait_for 20 have_version 4
mapfile -t orders < <(flog orders)
check "newOrder 4 carried \"replaces\": certID(F3) and was refused as alreadyReplaced" \
	test "$(cut -d' ' -f2- <<<"${orders[3]:-}")" = "$id3 alreadyReplaced"
check "newOrder 5 (the retry) carried no \"replaces\" and was not refused" \
	test "$(cut -d' ' -f2- <<<"${orders[4]:-}")" = "- -"
check "the daemon logs that the CA refused \"replaces\"" \
	grep -q "$name: The CA refused \"replaces\".*alreadyReplaced.*ordering again without it" "$dlog"

echo "== F4: past window, \"replaces\" refused as malformed: ordered again without it"
id4="$(cert_id "$state/archive/$name/4/cert.pem")"
check "F5 is issued" wait_for 20 have_version 5
mapfile -t orders < <(flog orders)
check "newOrder 6 carried \"replaces\": certID(F4) and was refused as malformed" \
	test "$(cut -d' ' -f2- <<<"${orders[5]:-}")" = "$id4 malformed"
check "newOrder 7 (the retry) carried no \"replaces\" and was not refused" \
	test "$(cut -d' ' -f2- <<<"${orders[6]:-}")" = "- -"
check "the daemon logs the refusal naming malformed" \
	grep -q "$name: The CA refused \"replaces\".*malformed.*ordering again without it" "$dlog"

echo "== F5: the window is years ahead; nothing more happens"
id5="$(cert_id "$state/archive/$name/5/cert.pem")"
check "the front saw a renewalInfo GET for certID(F5)" wait_for 10 ri_seen "$id5"
sleep 2
check "7 newOrders in all, none after F5" test "$(n_orders)" = 7
check "no archive version 6" test ! -e "$state/archive/$name/6"
check "renewalInfo(F5) was asked once (Retry-After: 60 is respected)" test "$(flog ri-count "$id5")" = 1
harness_check_cert "$state" "$name" "$domains" "$H_PEBBLE_ROOT" 5
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

echo "== restart: the persisted window and poll time hold"
stop_daemon
check "SIGTERM: exit status 0" test "$DSTATUS" = 0
ri_before="$(flog ri-ids | wc -l)"
start_daemon
sleep 3
check "no newOrder after the restart" test "$(n_orders)" = 7
check "no renewalInfo GET after the restart (next poll is 60 s after the last)" \
	test "$(flog ri-ids | wc -l)" = "$ri_before"
check "F5 is still live" is_live 5
stop_daemon
check "SIGTERM: exit status 0" test "$DSTATUS" = 0
check "no sanitizer reports in the daemon's log" no_sanitizer_reports
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
echo "     ARI flow took $((SECONDS - t_start)) s"

harness_done
