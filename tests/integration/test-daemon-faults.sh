#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034,SC2317
# Faults the daemon must ride out:
#  (a) the CA is down.  The daemon's CA address is a small TCP relay of the test's own
#      that counts every connection and, while "down", accepts and closes each one at
#      once.  The daemon starts with certificate D and nothing installed: the first attempt
#      fails; for 20 s after it the daemon must not busy-loop (CPU time from
#      /proc/PID/stat, connections counted by the relay, "Renewal failed (attempt N"
#      lines) and status/D.json must record the failure with a next attempt about a
#      minute later (the first backoff step).  Then the relay starts passing connections
#      on to pebble ("the CA is back"): without any signal the daemon must recover by
#      itself at the next attempt — not before it — and issue D; the status is reset.
#  (b) ENOSPC on the state directory, a 1 MiB tmpfs (exit 77 if mounting is not
#      permitted): certificate E is issued, the tmpfs filled, and E made due by changing
#      its names.  (b1) The daemon with no space at all; (b2) a --once run with two pages
#      free, so the failure comes while the new version is written.  Each renewal fails
#      with "No space left on device", live/E keeps pointing at version 1 whose files are
#      unchanged and whose certificate and key match, and no .new-* directory nor
#      challenge file is left.  (b3) The filler is removed and the daemon started again:
#      it keeps the backoff persisted by (b2) and then succeeds by itself.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init daemon-faults
harness_need_renewd
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed for the CA relay" >&2; exit 77; }

mnt=""
daemon_pid=""
faults_exit() {
	local rc="$1"
	set +e
	# the daemon holds the state dir open: stop it before unmounting
	if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid"
		for ((i = 0; i < 50; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	if [[ -n "$mnt" ]] && mountpoint -q "$mnt"; then
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	fi
	harness_cleanup "$rc"
}
trap 'faults_exit $?' EXIT

harness_start_all

# --- helpers --------------------------------------------------------------------------
daemon_log=""
# daemon_start CONFIG LOG
daemon_start() {
	daemon_log="$2"
	H_LOGS+=("$daemon_log")
	harness_start_daemon "$1" "$daemon_log" "$daemon_log.out"
}


log_count() { grep -cF -- "$1" "$daemon_log" || true; }
log_has() { grep -qF -- "$1" "$daemon_log"; }
issued() { [[ -L "$1/live/$2" && -s "$1/live/$2/cert.pem" ]]; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# status_get STATE NAME FIELD — a field of status/NAME.json; times as epoch seconds.
status_get() {
	python3 - "$1/status/$2.json" "$3" <<-'EOF'
		import json, sys, calendar, time
		v = json.load(open(sys.argv[1])).get(sys.argv[2])
		if isinstance(v, str) and len(v) == 20 and v.endswith("Z") and v[4] == "-":
		    v = calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
		print("" if v is None else v)
	EOF
}

no_new_dirs() {
	local left
	left="$(find "$1/archive" -name '.new-*' 2>/dev/null)"
	[[ -z "$left" ]] || { echo "    left over: $left"; return 1; }
}

no_dot_files() {
	local left
	left="$(find "$1" -mindepth 1 -name '.*' 2>/dev/null)"
	[[ -z "$left" ]] || { echo "    left over: $left"; return 1; }
}

pending_empty() { [[ ! -d "$1/pending" || -z "$(ls -A "$1/pending")" ]]; }

# cert_intact DIR ROOT — DIR's cert verifies with its chain, matches its key, not expired.
cert_intact() {
	_h_verify_chain "$2" "$1/chain.pem" "$1/cert.pem" && _h_same_pubkey "$1/privkey.pem" "$1/cert.pem" &&
		openssl x509 -checkend 0 -noout -in "$1/cert.pem" >/dev/null
}

# --- the relay standing in for the CA --------------------------------------------------
relay_py="$H_DIR/ca-relay.py"
cat >"$relay_py" <<-'EOF'
	# ca-relay.py PORT UPSTREAM_PORT UP_FLAG CONN_LOG READY_FILE
	# Counts each connection (one line in CONN_LOG).  While UP_FLAG does not exist the
	# connection is closed at once ("CA down"); afterwards it is relayed to UPSTREAM_PORT.
	import os, select, socket, sys, threading, time
	port, up_port, flag, log, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
	srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	srv.bind(("127.0.0.1", port))
	srv.listen(64)
	open(ready, "w").close()
	def relay(c):
	    try:
	        u = socket.create_connection(("127.0.0.1", up_port), timeout=10)
	    except OSError:
	        c.close()
	        return
	    socks = [c, u]
	    try:
	        while True:
	            r, _, _ = select.select(socks, [], [], 60)
	            if not r:
	                break
	            for s in r:
	                data = s.recv(65536)
	                if not data:
	                    raise EOFError
	                (u if s is c else c).sendall(data)
	    except (OSError, EOFError):
	        pass
	    finally:
	        c.close()
	        u.close()
	while True:
	    c, _ = srv.accept()
	    up = os.path.exists(flag)
	    with open(log, "a") as f:
	        f.write("%.3f %s\n" % (time.time(), "up" if up else "down"))
	    if up:
	        threading.Thread(target=relay, args=(c,), daemon=True).start()
	    else:
	        c.close()
EOF
ca_up_flag="$H_DIR/ca-is-up"
conn_log="$H_DIR/ca-connections.log"
: >"$conn_log"
H_LOGS+=("$H_DIR/ca-relay.log")
for attempt in 1 2 3; do
	harness_port RELAY_PORT
	rm -f "$H_DIR/ca-relay.ready"
	python3 "$relay_py" "$RELAY_PORT" "$H_PEBBLE_PORT" "$ca_up_flag" "$conn_log" "$H_DIR/ca-relay.ready" \
		>"$H_DIR/ca-relay.log" 2>&1 &
	relay_pid=$!
	_h_register "$relay_pid" ca-relay
	for ((i = 0; i < 50; i++)); do
		[[ -e "$H_DIR/ca-relay.ready" ]] && break
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ -e "$H_DIR/ca-relay.ready" ]] && break
	harness_stop ca-relay
	grep -qi 'address already in use' "$H_DIR/ca-relay.log" || h_die "the CA relay did not start"
done
[[ -e "$H_DIR/ca-relay.ready" ]] || h_die "the CA relay did not start"
h_log "CA relay pid $relay_pid on 127.0.0.1:$RELAY_PORT -> pebble :$H_PEBBLE_PORT (down until $ca_up_flag exists)"
conns() { wc -l <"$conn_log"; }

# ======================================================================================
echo "== (a) the CA is down"
t_a=$SECONDS
cfg_a="$H_DIR/a.conf"
state_a="$H_DIR/state-a"
HC_STATE_DIR="$state_a" HC_CERTS_DIR="$H_DIR/certs-a.d" HC_DIRECTORY="https://127.0.0.1:$RELAY_PORT/dir" \
	harness_write_config "$cfg_a"
harness_add_cert "$cfg_a" D "d.faults.test www.d.faults.test"
daemon_start "$cfg_a" "$H_DIR/daemon-a.log"

check "first attempt fails within 15 s (CA down)" harness_wait_until 15 log_has 'renewd: D: Renewal failed (attempt 1'
grep -F 'Renewal failed' "$daemon_log" | sed 's/^/    | /'
check "the failure names the CA's address or the connection" \
	grep -Eq "renewd: D: Renewal failed \(attempt 1.*(127\.0\.0\.1:$RELAY_PORT|onnect|SSL|TLS|reset|closed)" "$daemon_log"
sleep 0.5
c0="$(conns)"
cpu0="$(cpu_ticks "$daemon_pid")"
t0="$(now_ms)"
echo "-- watching the idle, failing daemon for 20 s"
sleep 20
cpu1="$(cpu_ticks "$daemon_pid" 2>/dev/null || echo 999999)"
t1="$(now_ms)"
c1="$(conns)"
cpu_ms=$(((cpu1 - cpu0) * 1000 / $(getconf CLK_TCK)))
fails="$(log_count 'renewd: D: Renewal failed (attempt')"
echo "    over $(((t1 - t0) / 1000)) s: CPU $cpu_ms ms, connections to the CA $((c1 - c0)) (since start: $c1), failed attempts so far: $fails"
check "the daemon is alive" harness_daemon_alive
check "no busy loop: CPU time over 20 s below 0.5 s (used $cpu_ms ms)" test "$cpu_ms" -lt 500
check "no hammering: at most 2 connections to the CA in those 20 s (saw $((c1 - c0)))" test $((c1 - c0)) -le 2
check "few connections in all since the start (saw $c1, at most 5)" test "$c1" -le 5
check "at most 2 failed attempts in the first ~22 s (saw $fails)" test "$fails" -le 2
check "status/D.json exists" test -s "$state_a/status/D.json"
failures="$(status_get "$state_a" D consecutiveFailures 2>/dev/null || echo x)"
next_at="$(status_get "$state_a" D nextAttempt 2>/dev/null || echo 0)"
last_fail="$(status_get "$state_a" D lastFailure 2>/dev/null || echo 0)"
last_err="$(status_get "$state_a" D lastError 2>/dev/null || echo)"
backoff=$((next_at - last_fail))
echo "    status: consecutiveFailures=$failures nextAttempt=$(date -u -d "@$next_at" +%T) (+$backoff s after the failure) lastError=$last_err"
check "status: consecutiveFailures >= 1 (got $failures)" test "$failures" -ge 1
check "status: nextAttempt about a minute after the failure (54-66 s; got $backoff s)" \
	test "$backoff" -ge 54 -a "$backoff" -le 66
check "status: lastError is recorded" test -n "$last_err"
check "nothing was installed for D" test ! -e "$state_a/live/D"

echo "-- the CA comes back (the relay passes connections on to pebble); no signal"
touch "$ca_up_flag"
t_up=$(date +%s)
check "D issued by the daemon on its own within 120 s" harness_wait_until 120 issued "$state_a" D
t_issued=$(date +%s)
echo "    CA back at $(date -u -d "@$t_up" +%T), next attempt was due $(date -u -d "@$next_at" +%T), D issued at $(date -u -d "@$t_issued" +%T) (+$((t_issued - t_up)) s)"
check "the retry honoured the backoff (not before nextAttempt - 1 s)" test "$t_issued" -ge $((next_at - 1))
check "the retry came soon after nextAttempt (within 15 s)" test "$t_issued" -le $((next_at + 15))
harness_check_cert "$state_a" D "d.faults.test www.d.faults.test" "$H_PEBBLE_ROOT" 1
check "status: consecutiveFailures back to 0" harness_wait_until 5 test "$(status_get "$state_a" D consecutiveFailures)" = 0
check "connections after the CA came back went through the relay" grep -q ' up$' "$conn_log"
harness_stop_daemon
check "(a) daemon exits 0 on SIGTERM within 10 s (got $stop_rc after $stop_secs s)" test "$stop_rc" = 0
check "(a) no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "(a) no challenge journal entries left" pending_empty "$state_a"
check "(a) no sanitizer report" bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ "$daemon_log"
echo "(a) took $((SECONDS - t_a)) s"

# ======================================================================================
echo "== (b) ENOSPC on the state directory"
t_b=$SECONDS
mnt="$H_DIR/tmpfs-state"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m,mode=0755 renewd-test "$mnt" 2>"$H_DIR/mount.err"; then
	mnt_err="$(cat "$H_DIR/mount.err")"
	mnt=""
	if ((H_FAILURES > 0)); then
		echo "(b) not run: cannot mount a tmpfs ($mnt_err)"
		harness_done
	fi
	echo "SKIP: (a) passed; (b) needs to mount a tmpfs, which is not permitted here: $mnt_err"
	exit 77
fi
h_log "tmpfs of 1 MiB on $mnt"
state_b="$mnt/state"
e_domains="e.faults.test www.e.faults.test"
e_domains2="e.faults.test"
cfg_b="$H_DIR/b.conf"
cfg_b2="$H_DIR/b2.conf"
HC_STATE_DIR="$state_b" HC_CERTS_DIR="$H_DIR/certs-b.d" harness_write_config "$cfg_b"
cp "$cfg_b" "$cfg_b2"
harness_add_cert "$cfg_b" E "$e_domains"
# the same certificate with other names: due at once
harness_add_cert "$cfg_b2" E "$e_domains2"

daemon_start "$cfg_b" "$H_DIR/daemon-b1.log"
check "E issued on the tmpfs within 30 s" harness_wait_until 30 issued "$state_b" E
harness_stop_daemon
check "daemon exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" = 0
harness_check_cert "$state_b" E "$e_domains" "$H_PEBBLE_ROOT" 1
sum_e1="$(cd "$state_b/archive/E/1" && cat cert.pem chain.pem fullchain.pem privkey.pem | cksum)"

# fill: a two-page spare file, then everything else
dd if=/dev/zero of="$mnt/spare" bs=4096 count=2 status=none
dd if=/dev/zero of="$mnt/filler" bs=4096 status=none 2>/dev/null || true
check "the tmpfs is full" bash -c '! dd if=/dev/zero of="$1/probe" bs=4096 count=1 status=none 2>/dev/null' _ "$mnt"
rm -f "$mnt/probe"
echo "    $(df -k "$mnt" | tail -n 1)"

# e1_intact LABEL — live/E is still version 1, unchanged, and nothing half-written is left.
e1_intact() {
	check "$1: live/E still -> ../archive/E/1" _h_link_is "$state_b/live/E" ../archive/E/1
	check "$1: version 1 unchanged (certificate, chain, key)" \
		bash -c '[[ "$(cd "$1" && cat cert.pem chain.pem fullchain.pem privkey.pem | cksum)" == "$2" ]]' _ "$state_b/archive/E/1" "$sum_e1"
	check "$1: live/E certificate verifies, matches its key, not expired" cert_intact "$state_b/live/E" "$H_PEBBLE_ROOT"
	check "$1: no .new-* directory left" no_new_dirs "$state_b"
	check "$1: archive/E holds version 1 only" test "$(ls -A "$state_b/archive/E")" = 1
	check "$1: no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
	check "$1: no challenge journal entries left" pending_empty "$state_b"
	check "$1: no temporary (dot) files left in the state dir" no_dot_files "$state_b"
}

echo "-- (b1) the daemon with no space at all; E made due by new names"
daemon_start "$cfg_b2" "$H_DIR/daemon-b2.log"
check "b1: the renewal fails within 15 s" harness_wait_until 15 log_has 'renewd: E: Renewal failed (attempt 1'
grep -F 'renewd: E: Renewal failed' "$daemon_log" | sed 's/^/    | /'
grep -F 'Failed to save' "$daemon_log" | sed 's/^/    | /' || true
check "b1: the failure says: No space left on device" \
	grep -q 'renewd: E: Renewal failed (attempt 1.*No space left on device' "$daemon_log"
check "b1: the daemon keeps running" harness_daemon_alive
e1_intact b1
sleep 2
check "b1: no immediate retry (one failed attempt; saw $(log_count 'renewd: E: Renewal failed'))" \
	test "$(log_count 'renewd: E: Renewal failed')" = 1
harness_stop_daemon
check "b1: daemon exits 0 on SIGTERM within 10 s (got $stop_rc after $stop_secs s)" test "$stop_rc" = 0
e1_intact "b1 after SIGTERM"

echo "-- (b2) --once with two pages free: the failure comes while writing the new version"
rm -f "$mnt/spare"
harness_renewd "$H_DIR/once-enospc" -c "$cfg_b2" --once
check "b2: --once fails cleanly (exit $H_RC)" harness_failed_cleanly
check "b2: it failed installing the new version: No space left on device" \
	grep -q 'E: FAILED.*Failed to install the new certificate.*No space left on device' "$H_DIR/once-enospc"
e1_intact b2
b2_next="$(status_get "$state_b" E nextAttempt 2>/dev/null || echo 0)"
b2_failures="$(status_get "$state_b" E consecutiveFailures 2>/dev/null || echo x)"
echo "    status: consecutiveFailures=$b2_failures nextAttempt=$(date -u -d "@$b2_next" +%T)"
check "b2: status records the failure (consecutiveFailures >= 1; got $b2_failures)" test "$b2_failures" -ge 1

echo "-- (b3) space comes back; the daemon, started again, keeps the backoff and then succeeds by itself"
rm -f "$mnt/filler"
echo "    $(df -k "$mnt" | tail -n 1)"
daemon_start "$cfg_b2" "$H_DIR/daemon-b3.log"
b3_next="$(date -u -d "@$b2_next" '+%Y-%m-%d %H:%M:%S UTC')"
check "b3: the restarted daemon schedules E at the persisted next attempt ($b3_next)" \
	harness_wait_until 10 log_has "renewd: E: Next renewal at $b3_next."
check "b3: E renewed by the daemon within 90 s (live/E -> ../archive/E/2)" \
	harness_wait_until 90 _h_link_is "$state_b/live/E" ../archive/E/2
t_e2=$(date +%s)
echo "    renewed at $(date -u -d "@$t_e2" +%T); next attempt was due $(date -u -d "@$b2_next" +%T)"
check "b3: the retry honoured the persisted backoff (not before nextAttempt - 1 s)" test "$t_e2" -ge $((b2_next - 1))
harness_check_cert "$state_b" E "$e_domains2" "$H_PEBBLE_ROOT" 2
check "b3: status: consecutiveFailures back to 0" harness_wait_until 5 test "$(status_get "$state_b" E consecutiveFailures)" = 0
check "b3: no .new-* directory left" no_new_dirs "$state_b"
harness_stop_daemon
check "b3: daemon exits 0 on SIGTERM within 10 s (got $stop_rc after $stop_secs s)" test "$stop_rc" = 0
check "(b) no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "(b) no challenge journal entries left" pending_empty "$state_b"
check "(b) no sanitizer report" \
	bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$@"' _ "$H_DIR/daemon-b1.log" \
	"$H_DIR/daemon-b2.log" "$H_DIR/daemon-b3.log" "$H_DIR/once-enospc"
echo "(b) took $((SECONDS - t_b)) s"

harness_done
