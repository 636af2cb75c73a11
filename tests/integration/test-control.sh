#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034,SC2154,SC2317
# The control socket of the running daemon (docs/io.renewd.varlink), spoken to by
# control-client.py (a small Varlink client and prober):
#  Conformance: a call written one byte at a time; five calls pipelined in one write,
#    answered in order; Renew --force with "more" (queued ... installed with "continues",
#    then "done" without); "oneway" (no reply: the next call's reply comes first); unknown
#    method/interface, invalid parameters, NoSuchCertificate; GetInfo; the interface
#    description equals docs/io.renewd.varlink; Reload of a broken file -> ReloadFailed with
#    FILE:LINE, and the daemon keeps serving.
#  Authorization (setpriv): nobody is refused everything without control_group; with
#    control_group (by name: supplementary or primary group; by numeric GID) Status/List/
#    Show/GetInfo are allowed and Renew/Reload refused; root may do all.
#  Abuse, a well-behaved client (a Status call from a fresh connection every 0.1 s)
#    answered within 2 s throughout: a flood of 100 connections from root (and 4 x 20
#    from four other uids: the total cap), a 10 MiB message without NUL, slowloris, malformed
#    messages, a client that never reads (200 certificates configured, so List is large), a
#    client that reads slowly but steadily (root, and a uid without rights); the daemon's CPU
#    and RSS are reported and bounded.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init control
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
sock="$H_DIR/control"
state="$H_DIR/state"
idl="$H_SRCROOT/docs/io.renewd.varlink"
daemon_log="$H_DIR/daemon.log"
probe_log="$H_DIR/probes.log"
H_LOGS+=("$daemon_log")
: >"$probe_log"

# The helper, where nobody can read it; a python3 that nobody can run (pyenv shims under
# /root are not).
client="$H_DIR/control-client.py"
install -m 0755 "$(dirname "$0")/control-client.py" "$client"
py_nobody=""
for p in "$(command -v python3)" /usr/bin/python3 /usr/local/bin/python3; do
	if [[ -x "$p" ]] && setpriv --reuid=65534 --regid=65534 --clear-groups "$p" -c 'pass' 2>/dev/null; then
		py_nobody="$p"
		break
	fi
done
[[ -n "$py_nobody" ]] || h_die "no python3 that uid 65534 can run"

# cc ARGS... — the client as root; output also into the probe log (for the measurements).
cc() {
	local rc=0
	python3 "$client" -s "$sock" "$@" >"$H_DIR/cc.out" 2>&1 || rc=$?
	cat "$H_DIR/cc.out" >>"$probe_log"
	sed 's/^/  /' "$H_DIR/cc.out"
	return "$rc"
}
# cc_as "SETPRIV OPTIONS" ARGS... — the client as another user.
cc_as() {
	local spec="$1" rc=0
	shift
	# shellcheck disable=SC2086  # the options are words
	setpriv $spec "$py_nobody" "$client" -s "$sock" "$@" >"$H_DIR/cc.out" 2>&1 || rc=$?
	sed 's/^/  /' "$H_DIR/cc.out"
	return "$rc"
}

# A group for control_group: an existing one, not nobody's primary group.
grp="" gid=""
for g in users staff nogroup; do
	if line="$(getent group "$g")"; then
		grp="$g"
		gid="$(cut -d: -f3 <<<"$line")"
		break
	fi
done
[[ -n "$grp" ]] || h_die "no group users/staff/nogroup in the group database"
other_gid=65533 # no group we name
[[ "$gid" != "$other_gid" ]] || other_gid=65532
nobody_plain="--reuid=65534 --regid=$other_gid --clear-groups"
nobody_suppl="--reuid=65534 --regid=$other_gid --groups=$gid"
nobody_primary="--reuid=65534 --regid=$gid --clear-groups"
h_log "control_group will be $grp ($gid); python for nobody: $py_nobody"

# A CA that refuses connections: 200 certificates that are never issued, so that List is
# large (its replies are some 60 KB).
harness_port dead_port
n_bulk=200

# write_config [CONTROL_GROUP]
write_config() {
	local i
	harness_write_config "$cfg"
	if [[ -n "${1:-}" ]]; then
		sed -i "/^\[daemon\]\$/a control_group = $1" "$cfg"
	fi
	cat >>"$cfg" <<-EOF

		[ca dead]
		directory = https://127.0.0.1:$dead_port/dir
		trust = $H_TLS_ROOT
		accept_terms = yes
	EOF
	harness_add_cert "$cfg" A "a.control.test www.a.control.test"
	{
		for ((i = 1; i <= n_bulk; i++)); do
			printf '\n[certificate bulk-%d]\ndomains = bulk-%d.control.test www.bulk-%d.control.test\nca = dead\nwebroot = %s\n' \
				"$i" "$i" "$i" "$H_WEBROOT"
		done
	} >>"$cfg"
}

daemon_alive() { kill -0 "$daemon_pid" 2>/dev/null; }
issued() { [[ -L "$state/live/$1" && -s "$state/live/$1/cert.pem" ]]; }
answers() { python3 "$client" -s "$sock" expect io.renewd.Status --has version --timeout 2 >/dev/null 2>&1; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status"; }
cpu_secs() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / t }' "/proc/$daemon_pid/stat"; }

# --- start ----------------------------------------------------------------------------
write_config
"$RENEWD" -c "$cfg" </dev/null >>"$H_DIR/daemon.out" 2>>"$daemon_log" &
daemon_pid=$!
_h_register "$daemon_pid" renewd
h_log "renewd daemon pid $daemon_pid"
check "the control socket answers within 10 s" harness_wait_until 10 answers
answers || { echo "FAIL - no control socket; cannot continue"; exit 1; }
check "the socket is mode 0666 and its directory searchable by others" \
	bash -c '[[ "$(stat -c %a "$1")" == 666 && "$(stat -c %a "$(dirname "$1")")" == 755 ]]' _ "$sock"
check "A issued within 30 s" harness_wait_until 30 issued A
issued A || { echo "FAIL - A not issued; cannot continue"; exit 1; }
rss_start="$(rss_kib)"
h_log "daemon RSS after start-up: $rss_start KiB, CPU $(cpu_secs) s"

# --- conformance ----------------------------------------------------------------------
echo "== conformance"
check "split: a call written one byte at a time is answered" cc conform split
check "pipeline: calls pipelined in one write are answered in order" cc conform pipeline
check "oneway: no reply, the next call's reply comes first" cc conform oneway
check "errors: MethodNotFound, InterfaceNotFound, InvalidParameter naming the parameter, NoSuchCertificate" \
	cc conform errors
check "GetInfo lists io.renewd" cc conform getinfo
check "GetInterfaceDescription(io.renewd) is docs/io.renewd.varlink" cc conform describe --idl "$idl"
check "Renew without force of a valid certificate: not-due, done" cc conform not-due --cert A
check "Renew --force with more: progress with continues, then done" cc conform renew-more --cert A

echo "-- Reload with a broken file"
cp "$cfg" "$cfg.good"
sed -i '/^\[daemon\]$/a bogus_key = 1' "$cfg"
bad_line="$(grep -n '^bogus_key' "$cfg" | cut -d: -f1)"
cfg_re="$(printf '%s' "$cfg" | sed 's/[].[\*^$()+?{}|/]/\\&/g')"
check "Reload of the broken file -> io.renewd.ReloadFailed naming $cfg:$bad_line" \
	cc expect io.renewd.Reload --error io.renewd.ReloadFailed --message-re "$cfg_re:$bad_line:"
check "the daemon still answers Status after the failed Reload" cc expect io.renewd.Status --has version
check "and still serves A (Show A)" cc expect io.renewd.Show '{"name":"A"}' --has certificate
cp "$cfg.good" "$cfg"
check "Reload of the good file again -> a reply" cc expect io.renewd.Reload --reply

# --- authorization --------------------------------------------------------------------
echo "== authorization (no control_group)"
for m in Status List GetInfo; do
	meth="io.renewd.$m"
	[[ "$m" == GetInfo ]] && meth=org.varlink.service.GetInfo
	check "nobody: $m -> io.renewd.PermissionDenied" \
		cc_as "$nobody_plain" expect "$meth" --error io.renewd.PermissionDenied --param "method=$meth"
done
check "nobody: Show A -> PermissionDenied" \
	cc_as "$nobody_plain" expect io.renewd.Show '{"name":"A"}' --error io.renewd.PermissionDenied
check "nobody in group $grp (none configured yet): Status -> PermissionDenied" \
	cc_as "$nobody_suppl" expect io.renewd.Status --error io.renewd.PermissionDenied
check "nobody: Renew A -> PermissionDenied" \
	cc_as "$nobody_plain" expect io.renewd.Renew '{"names":["A"],"force":true}' --error io.renewd.PermissionDenied --param method=io.renewd.Renew
check "nobody: Reload -> PermissionDenied" \
	cc_as "$nobody_plain" expect io.renewd.Reload --error io.renewd.PermissionDenied --param method=io.renewd.Reload

echo "== authorization (control_group = $grp, applied by Reload)"
write_config "$grp"
check "root: Reload with control_group = $grp -> a reply" cc expect io.renewd.Reload --reply
serial_before="$(python3 "$client" -s "$sock" call io.renewd.Show '{"name":"A"}' 2>/dev/null | sed -n 's/.*"serial":"\([^"]*\)".*/\1/p')"
for who in suppl primary; do
	spec="$nobody_suppl" desc="nobody with $grp as a supplementary group"
	[[ "$who" == primary ]] && spec="$nobody_primary" desc="nobody with $grp as its primary group"
	check "$desc: Status allowed" cc_as "$spec" expect io.renewd.Status --has version --has certificates
	check "$desc: List allowed" cc_as "$spec" expect io.renewd.List --has certificates
	check "$desc: Show A allowed" cc_as "$spec" expect io.renewd.Show '{"name":"A"}' --has certificate
	check "$desc: GetInfo allowed" cc_as "$spec" expect org.varlink.service.GetInfo --has interfaces
	check "$desc: GetInterfaceDescription allowed" \
		cc_as "$spec" expect org.varlink.service.GetInterfaceDescription '{"interface":"io.renewd"}' --has description
	check "$desc: Renew A -> PermissionDenied" \
		cc_as "$spec" expect io.renewd.Renew '{"names":["A"],"force":true}' --error io.renewd.PermissionDenied --param method=io.renewd.Renew
	check "$desc: Reload -> PermissionDenied" \
		cc_as "$spec" expect io.renewd.Reload --error io.renewd.PermissionDenied --param method=io.renewd.Reload
done
check "nobody not in $grp: Status -> PermissionDenied" \
	cc_as "$nobody_plain" expect io.renewd.Status --error io.renewd.PermissionDenied
sleep 0.5
serial_after="$(python3 "$client" -s "$sock" call io.renewd.Show '{"name":"A"}' 2>/dev/null | sed -n 's/.*"serial":"\([^"]*\)".*/\1/p')"
check "the refused Renew calls renewed nothing (serial $serial_before unchanged)" \
	test -n "$serial_before" -a "$serial_before" = "$serial_after"
check "root: Status, Renew (not due), Reload allowed" bash -c '
	python3 "$1" -s "$2" expect io.renewd.Status --has version &&
	python3 "$1" -s "$2" expect io.renewd.Renew "{\"names\":[\"A\"]}" --has event &&
	python3 "$1" -s "$2" expect io.renewd.Reload --reply' _ "$client" "$sock"

echo "== authorization (control_group = $gid, numeric, applied by SIGHUP)"
write_config "$gid"
n0="$(grep -c 'Configuration reloaded' "$daemon_log" || true)"
kill -HUP "$daemon_pid"
check "SIGHUP: Configuration reloaded" harness_wait_until 10 bash -c '(($(grep -c "Configuration reloaded" "$1") > $2))' _ "$daemon_log" "$n0"
check "control_group = $gid (a numeric GID, as renewd.conf allows): nobody with $gid as a supplementary group may call Status" \
	cc_as "$nobody_suppl" expect io.renewd.Status --has version
check "control_group = $gid: nobody with $gid as its primary group may call Status" \
	cc_as "$nobody_primary" expect io.renewd.Status --has version
check "control_group = $gid: nobody in it is still refused Renew" \
	cc_as "$nobody_suppl" expect io.renewd.Renew '{"names":["A"],"force":true}' --error io.renewd.PermissionDenied

# Back to the group name for the abuse part (its well-behaved client is nobody in $grp).
write_config "$grp"
check "Reload back to control_group = $grp" cc expect io.renewd.Reload --reply

# --- abuse ----------------------------------------------------------------------------
echo "== abuse (a well-behaved client answered within 2 s throughout)"
abuse=(abuse --pid "$daemon_pid" --max-rss-kib "$((rss_start + 131072))")
# Under ASan the quarantine keeps freed memory (every realloc of a queue), and every reply
# costs several times the CPU: RSS and CPU are reported but not checked (a CPU share of a
# loaded 2-core machine under ASan is noise; the plain build checks both).
if grep -q __asan_init "$RENEWD" 2>/dev/null; then
	h_log "renewd is built with ASan: RSS and CPU are reported, not checked"
	abuse+=(--no-rss-checks --no-cpu-checks)
fi
check "flood: 100 connections from root; the kept ones at most 16; nobody in $grp still answered" \
	cc "${abuse[@]}" flood --count 100 --monitor-uid 65534 --monitor-gid "$other_gid" --monitor-groups "$gid"
check "total cap: 4 other uids x 20 connections; answers resume once some close" \
	cc "${abuse[@]}" total-cap
check "bigmsg: a 10 MiB message without NUL is cut off after about 64 KiB" cc "${abuse[@]}" bigmsg
check "slowloris: 8 clients writing one byte every 0.5 s do not block others" cc "${abuse[@]}" slowloris
check "malformed: every malformed message gets an error or a close, nothing else" cc "${abuse[@]}" malformed
check "noread: a client that never reads (3000 List calls) is dropped at the queue cap" \
	cc "${abuse[@]}" noread --count 3000
# A client that reads, slower than the server answers, keeping 4-6 MiB outstanding (under the
# 8 MiB cap): the queue must not keep what has already been sent. As root with List (big
# replies), and as nobody without rights (every call a small PermissionDenied).
check "slowread (root, List): a client that reads slowly but steadily does not grow the daemon's memory" \
	cc "${abuse[@]}" slowread --seconds 3 --max-cpu 1.01
check "slowread (nobody, refused Status): the same for a uid without any rights" \
	cc "${abuse[@]}" slowread --seconds 3 --max-cpu 1.01 --abuser-uid 65534 --abuser-gid "$other_gid" --method io.renewd.Status
check "after all that the daemon answers Status" cc expect io.renewd.Status --has version
check "and List has all $((n_bulk + 1)) certificates" \
	bash -c '[[ "$(python3 "$1" -s "$2" call io.renewd.List | grep -o "\"name\":" | wc -l)" == "$3" ]]' _ "$client" "$sock" "$((n_bulk + 1))"

# --- end ------------------------------------------------------------------------------
echo "== stop"
check "the daemon is still running" daemon_alive
rss_end="$(rss_kib)"
cpu_end="$(cpu_secs)"
kill -TERM "$daemon_pid"
stop_rc=timeout
for ((i = 0; i < 100; i++)); do
	daemon_alive || break
	sleep 0.1
done
if ! daemon_alive; then
	stop_rc=0
	wait "$daemon_pid" || stop_rc=$?
	for j in "${!H_PIDS[@]}"; do [[ "${H_PIDS[j]}" == "$daemon_pid" ]] && H_PIDS[j]=""; done
fi
check "SIGTERM: exit 0 within 10 s (got $stop_rc)" test "$stop_rc" = 0
check "the control socket is removed at exit" test ! -e "$sock"
check "no sanitizer report in the daemon log" \
	bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ "$daemon_log"

echo "== measurements"
echo "  daemon RSS: $rss_start KiB after start-up, $rss_end KiB at the end; CPU $cpu_end s in all"
sed -n 's/^measure: /  /p' "$probe_log"
harness_done
