# shellcheck shell=bash
# tests/integration/harness.sh — sourced by the integration scenarios and scripts/demo.
#
# Starts a private ACME world on loopback: pebble (the ACME server), pebble-challtestsrv
# (DNS that answers 127.0.0.1 for every name) and nginx serving a webroot on the port pebble
# uses for http-01.  Everything lives in one temporary directory, every server is started
# by us and stopped by pid on exit, and the logs are printed when a scenario fails.
#
# Ports: each port is picked at random below the kernel's ephemeral range, checked to be
# free (ss, or a /dev/tcp probe), never handed out twice in one harness, and a server that
# loses a bind race ("address already in use") is restarted on fresh ports.  Scenarios can
# therefore run in parallel with each other.
#
# Public variables (set by the functions below):
#   H_DIR              temporary directory of this run
#   H_TLS_ROOT         root that signed pebble's own HTTPS certificate (trust = ...)
#   H_DNS_PORT         challtestsrv DNS port;  H_CTS_MGMT_PORT its management port
#   H_WEBROOT          webroot served by nginx; H_HTTP_PORT nginx port (= pebble httpPort)
#   H_PEBBLE_PORT      ACME port; H_PEBBLE_MGMT_PORT management port; H_PEBBLE_TLS_PORT
#   H_PEBBLE_DIR_URL   https://127.0.0.1:PORT/dir
#   H_PEBBLE_ROOT      /roots/0 of the running pebble (after harness_pebble_root)
#   H_PEBBLE_INTERMEDIATE  /intermediates/0
#   H_PEBBLE_LOG       pebble's log file
#   H_RC               exit status of the last harness_renewd run
#
# Options read by harness_start_pebble (set before calling):
#   H_PEBBLE_EAB=1             require External Account Binding (keys H_EAB_KID/H_EAB_KEY)
#   H_PEBBLE_VALIDITY=SECONDS  certificateValidityPeriod (default: pebble's 5 years)
#
# Options read by harness_write_config:
#   HC_STATE_DIR HC_CERTS_DIR HC_MAX_PARALLEL HC_CONTROL_SOCKET HC_KEY_TYPE HC_EAB_KID HC_EAB_KEY
#   HC_DIRECTORY (default H_PEBBLE_DIR_URL) HC_TRUST (default H_TLS_ROOT)

# shellcheck disable=SC2034,SC2119,SC2120,SC2153  # public variables, optional arguments
H_HARNESS_SELF="${BASH_SOURCE[0]}"
H_SRCROOT="$(cd "$(dirname "$H_HARNESS_SELF")/../.." && pwd)"

# The EAB key pairs pebble's own example configuration uses.
H_EAB_KID="kid-1"
H_EAB_KEY="zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
H_EAB_KID2="kid-2"
H_EAB_KEY2="b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH"

H_PIDS=()          # pids we started, in start order
H_PID_NAMES=()     # a name for each, for messages
H_LOGS=()          # log files to show on failure
H_USED_PORTS=" "   # ports handed out by this harness
H_KEEP="${H_KEEP:-0}"
H_FAILURES=0
H_T0=${SECONDS}

h_log() { printf '[%s %3ds] %s\n' "${H_NAME:-harness}" "$((SECONDS - H_T0))" "$*" >&2; }
h_die() { h_log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------
# lifecycle

# harness_init [NAME] — temp dir, EXIT trap, tool checks.
harness_init() {
	H_NAME="${1:-$(basename "${0%.sh}")}"
	local t
	for t in pebble pebble-challtestsrv nginx openssl curl; do
		command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
		command -v "$t" >/dev/null 2>&1 || h_die "missing tool: $t"
	done
	H_DIR="$(mktemp -d "${TMPDIR:-/tmp}/renewd-it.${H_NAME}.XXXXXX")"
	chmod 0755 "$H_DIR"
	trap 'harness_cleanup $?' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	h_log "work dir $H_DIR"
}

# Locate renewd: $RENEWD (set by meson), else build/daemon/renewd.  Exit 77 (meson: skip)
# when there is none.
harness_need_renewd() {
	if [[ -z "${RENEWD:-}" ]]; then
		RENEWD="$H_SRCROOT/build/daemon/renewd"
	fi
	if [[ ! -x "$RENEWD" ]]; then
		echo "SKIP: renewd binary not found (RENEWD=$RENEWD)" >&2
		exit 77
	fi
	h_log "renewd: $RENEWD"
}

harness_cleanup() {
	local rc="$1"
	trap - EXIT INT TERM
	set +e
	if [[ "$rc" -ne 0 && "$rc" -ne 77 ]]; then
		harness_dump_logs
	fi
	harness_stop
	if [[ -n "${H_DIR:-}" && -d "$H_DIR" ]]; then
		if [[ "$H_KEEP" == 1 ]]; then
			h_log "kept $H_DIR"
		else
			rm -rf -- "$H_DIR"
		fi
	fi
	h_log "finished with exit status $rc after $((SECONDS - H_T0)) s"
	exit "$rc"
}

harness_dump_logs() {
	local f
	for f in "${H_LOGS[@]}"; do
		[[ -s "$f" ]] || continue
		echo "----- tail of $f -----" >&2
		tail -n 40 "$f" >&2
	done
	echo "----- end of logs -----" >&2
}

# _h_stop_pid PID NAME — TERM, wait up to 5 s, then KILL; reap.
_h_stop_pid() {
	local pid="$1" name="$2" i
	# (every status ignored: this runs under set -e, and wait returns the signal status)
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		h_log "$name (pid $pid) ignored SIGTERM, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	wait "$pid" 2>/dev/null || true
	return 0
}

# harness_stop [NAME] — stop every server we started (or only those called NAME),
# newest first.
harness_stop() {
	local only="${1:-}" i
	for ((i = ${#H_PIDS[@]} - 1; i >= 0; i--)); do
		[[ -n "${H_PIDS[i]}" ]] || continue
		[[ -z "$only" || "${H_PID_NAMES[i]}" == "$only" ]] || continue
		_h_stop_pid "${H_PIDS[i]}" "${H_PID_NAMES[i]}"
		H_PIDS[i]=""
	done
}

harness_stop_pebble() { harness_stop pebble; }

_h_register() { H_PIDS+=("$1"); H_PID_NAMES+=("$2"); }

# harness_start_daemon CONFIG LOG OUT — start renewd -v in the background on CONFIG,
# appending stderr to LOG and stdout to OUT; sets daemon_pid. (Add LOG to H_LOGS yourself.)
harness_start_daemon() {
	"$RENEWD" -c "$1" -v </dev/null >>"$3" 2>>"$2" &
	daemon_pid=$!
	_h_register "$daemon_pid" renewd
	h_log "renewd daemon pid $daemon_pid ($1)"
}

# harness_stop_daemon — SIGTERM to $daemon_pid, wait at most 10 s; sets stop_rc (exit status,
# or "timeout" with the daemon left running) and stop_secs. Once reaped, the pid is
# forgotten (daemon_pid="").
harness_stop_daemon() {
	local i j t0
	t0=$(date +%s%N)
	kill -TERM "$daemon_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_secs="$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
	if kill -0 "$daemon_pid" 2>/dev/null; then
		stop_rc=timeout
		return 0
	fi
	stop_rc=0
	wait "$daemon_pid" || stop_rc=$?
	for j in "${!H_PIDS[@]}"; do [[ "${H_PIDS[j]}" == "$daemon_pid" ]] && H_PIDS[j]=""; done
	daemon_pid=""
	return 0
}

# harness_start_notify_listener SOCKET LOG — receive sd_notify datagrams on SOCKET and
# append each line to LOG (needs python3; returns 1 without it).
harness_start_notify_listener() {
	local i
	command -v python3 >/dev/null 2>&1 || return 1
	: >"$2"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        for line in s.recv(65536).decode(errors="replace").splitlines():
            if line:
                f.write(line + "\n")
' "$1" "$2" >"$H_DIR/notify-listener.err" 2>&1 &
	_h_register $! notify-listener
	for ((i = 0; i < 50; i++)); do [[ -S "$1" ]] && return 0; sleep 0.1; done
	return 1
}

# harness_daemon_alive — true while $daemon_pid is set and runs.
harness_daemon_alive() { [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; }

# harness_wait_until SECONDS COMMAND... — run COMMAND every 0.1 s until it succeeds (0)
# or SECONDS pass (1). While a daemon of harness_start_daemon() is meant to run, its death
# ends the wait early, after one last try.
harness_wait_until() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" 2>/dev/null && return 0
		if [[ -n "${daemon_pid:-}" ]] && ! harness_daemon_alive; then
			"$@" 2>/dev/null
			return
		fi
		sleep 0.1
	done
	return 1
}

_h_pid_of() {
	local i
	for ((i = ${#H_PIDS[@]} - 1; i >= 0; i--)); do
		if [[ "${H_PID_NAMES[i]}" == "$1" && -n "${H_PIDS[i]}" ]]; then
			echo "${H_PIDS[i]}"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------------------------------
# ports

_h_port_busy() {
	local p="$1"
	if command -v ss >/dev/null 2>&1; then
		[[ -n "$(ss -Hltun "sport = :$p" 2>/dev/null)" ]] && return 0
		return 1
	fi
	# No ss: a TCP connect that succeeds means someone listens.
	(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
	return 1
}

# harness_port VAR — a free port in [10000, ephemeral_low) not yet handed out.
harness_port() {
	local var="$1" lo=10000 hi=32767 p tries r
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r r _ </proc/sys/net/ipv4/ip_local_port_range
		if [[ "$r" =~ ^[0-9]+$ ]] && ((r > lo + 1000)); then hi=$((r - 1)); fi
	fi
	for ((tries = 0; tries < 200; tries++)); do
		p=$((lo + ((RANDOM << 15 | RANDOM) % (hi - lo + 1))))
		[[ "$H_USED_PORTS" == *" $p "* ]] && continue
		_h_port_busy "$p" && continue
		H_USED_PORTS+="$p "
		printf -v "$var" '%s' "$p"
		return 0
	done
	h_die "no free port found"
}

# ---------------------------------------------------------------------------------------
# waiting

# _h_wait_ready NAME PID LOG CHECK... — poll CHECK (a command) every 0.1 s for at most
# 15 s; fail at once if the process dies.  Returns 2 if the log says the port was taken.
_h_wait_ready() {
	local name="$1" pid="$2" log="$3" i
	shift 3
	for ((i = 0; i < 150; i++)); do
		if "$@" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			if grep -qi 'address already in use' "$log" 2>/dev/null; then
				return 2
			fi
			h_log "$name (pid $pid) exited during start-up"
			tail -n 30 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	h_log "$name (pid $pid) not ready after 15 s"
	tail -n 30 "$log" >&2
	return 1
}

_h_http_answers() {
	# any HTTP status at all means the server is up
	local code
	code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@")" || true
	[[ -n "$code" && "$code" != 000 ]]
}

_h_tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------------------
# TLS for pebble's own HTTPS

# harness_gen_tls — root CA + leaf for localhost/127.0.0.1/::1 in $H_DIR/tls.
harness_gen_tls() {
	local d="$H_DIR/tls"
	mkdir -p "$d"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/root.key" -out "$d/root.pem" -days 2 \
		-subj "/CN=renewd test harness root $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; h_die "root generation failed"; }
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/leaf.key" -out "$d/leaf.csr" -subj "/CN=localhost" \
		>>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; h_die "leaf key generation failed"; }
	cat >"$d/leaf.ext" <<-'EOF'
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	EOF
	openssl x509 -req -in "$d/leaf.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
		-CAcreateserial -days 2 -extfile "$d/leaf.ext" -out "$d/leaf.pem" \
		>>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; h_die "leaf signing failed"; }
	H_TLS_ROOT="$d/root.pem"
	H_TLS_CERT="$d/leaf.pem"
	H_TLS_KEY="$d/leaf.key"
}

# ---------------------------------------------------------------------------------------
# a private D-Bus with a fake systemd (tests/integration/fake-systemd.c)

# harness_start_fake_systemd LOG — a private dbus-daemon and the fake org.freedesktop.systemd1
# on it, which appends "RELOAD unit mode" to LOG for every ReloadOrRestartUnit. Exports
# DBUS_SYSTEM_BUS_ADDRESS so that renewd started from here talks to it.
harness_start_fake_systemd() {
	local log="$1" conf="$H_DIR/dbus.conf" sock="$H_DIR/dbus.sock" pid i
	[[ -x "${FAKE_SYSTEMD:-}" ]] || h_die "FAKE_SYSTEMD is not set to the built fake-systemd"
	command -v dbus-daemon >/dev/null || h_die "dbus-daemon is not installed"
	cat >"$conf" <<-EOF
		<busconfig>
		  <type>system</type>
		  <listen>unix:path=$sock</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default">
		    <allow user="*"/>
		    <allow own="*"/>
		    <allow send_destination="*" eavesdrop="true"/>
		    <allow eavesdrop="true"/>
		  </policy>
		</busconfig>
	EOF
	dbus-daemon --config-file="$conf" --nofork --nopidfile >"$H_DIR/dbus.log" 2>&1 &
	pid=$!
	_h_register "$pid" dbus-daemon
	H_LOGS+=("$H_DIR/dbus.log")
	for ((i = 0; i < 100; i++)); do [[ -S "$sock" ]] && break; sleep 0.1; done
	[[ -S "$sock" ]] || h_die "dbus-daemon did not start"
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sock"
	: >"$log"
	"$FAKE_SYSTEMD" "$log" >"$H_DIR/fake-systemd.out" 2>&1 &
	pid=$!
	_h_register "$pid" fake-systemd
	H_LOGS+=("$H_DIR/fake-systemd.out")
	for ((i = 0; i < 100; i++)); do grep -q READY "$H_DIR/fake-systemd.out" 2>/dev/null && break; sleep 0.1; done
	grep -q READY "$H_DIR/fake-systemd.out" || h_die "fake-systemd did not start"
	h_log "dbus-daemon at $DBUS_SYSTEM_BUS_ADDRESS with fake-systemd (log $log)"
}

# ---------------------------------------------------------------------------------------
# pebble-challtestsrv

harness_start_challtestsrv() {
	local attempt log pid rc
	log="$H_DIR/challtestsrv.log"
	H_LOGS+=("$log")
	for attempt in 1 2 3; do
		harness_port H_DNS_PORT
		harness_port H_CTS_MGMT_PORT
		pebble-challtestsrv \
			-dns01 "127.0.0.1:$H_DNS_PORT" \
			-management "127.0.0.1:$H_CTS_MGMT_PORT" \
			-defaultIPv4 127.0.0.1 -defaultIPv6 "" \
			-http01 "" -https01 "" -tlsalpn01 "" \
			>"$log" 2>&1 &
		pid=$!
		_h_register "$pid" challtestsrv
		rc=0
		_h_wait_ready challtestsrv "$pid" "$log" _h_cts_ready || rc=$?
		[[ $rc -eq 0 ]] && { h_log "challtestsrv pid $pid dns 127.0.0.1:$H_DNS_PORT management :$H_CTS_MGMT_PORT"; return 0; }
		harness_stop challtestsrv
		[[ $rc -eq 2 ]] || h_die "challtestsrv did not start"
		h_log "challtestsrv lost a port race, retrying ($attempt)"
	done
	h_die "challtestsrv did not start"
}

_h_cts_ready() {
	_h_http_answers "http://127.0.0.1:$H_CTS_MGMT_PORT/" && _h_tcp_open "$H_DNS_PORT"
}

# ---------------------------------------------------------------------------------------
# nginx

# harness_start_nginx WEBROOT [PORT] — serve WEBROOT on 127.0.0.1:PORT (a free port when
# PORT is omitted).  Sets H_WEBROOT, H_HTTP_PORT.  Single-process nginx in the foreground:
# no workers to drop privileges, so a root CI run can read whatever renewd writes.
harness_start_nginx() {
	local webroot="$1" want_port="${2:-}" attempt pid rc d log
	[[ "$webroot" == /* ]] || h_die "harness_start_nginx: webroot must be absolute"
	mkdir -p "$webroot"
	d="$H_DIR/nginx"
	mkdir -p "$d/tmp"
	log="$d/error.log"
	H_LOGS+=("$log" "$d/access.log")
	for attempt in 1 2 3; do
		if [[ -n "$want_port" ]]; then
			H_HTTP_PORT="$want_port"
		else
			harness_port H_HTTP_PORT
		fi
		cat >"$d/nginx.conf" <<-EOF
			daemon off;
			master_process off;
			worker_processes 1;
			pid $d/nginx.pid;
			lock_file $d/nginx.lock;
			error_log $d/error.log info;
			events { worker_connections 64; }
			http {
			    access_log $d/access.log;
			    client_body_temp_path $d/tmp/body;
			    proxy_temp_path $d/tmp/proxy;
			    fastcgi_temp_path $d/tmp/fastcgi;
			    uwsgi_temp_path $d/tmp/uwsgi;
			    scgi_temp_path $d/tmp/scgi;
			    default_type application/octet-stream;
			    server {
			        listen 127.0.0.1:$H_HTTP_PORT default_server;
			        server_name _;
			        root "$webroot";
			        location / { try_files \$uri =404; }
			    }
			}
		EOF
		nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
		pid=$!
		_h_register "$pid" nginx
		rc=0
		_h_wait_ready nginx "$pid" "$log" _h_http_answers "http://127.0.0.1:$H_HTTP_PORT/" || rc=$?
		if [[ $rc -eq 0 ]]; then
			H_WEBROOT="$webroot"
			h_log "nginx pid $pid serving $webroot on 127.0.0.1:$H_HTTP_PORT"
			return 0
		fi
		harness_stop nginx
		[[ $rc -eq 2 && -z "$want_port" ]] || h_die "nginx did not start"
		h_log "nginx lost a port race, retrying ($attempt)"
	done
	h_die "nginx did not start"
}

# Number of challenge fetches nginx has logged so far.
harness_challenge_fetches() {
	local n
	n="$(grep -c '/\.well-known/acme-challenge/' "$H_DIR/nginx/access.log" 2>/dev/null)" || true
	echo "${n:-0}"
}

# ---------------------------------------------------------------------------------------
# pebble

# harness_start_pebble [VAR=VALUE ...] — start pebble with a generated config; extra
# environment overrides the defaults (PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
# PEBBLE_AUTHZREUSE=0).  Needs harness_gen_tls, challtestsrv and nginx to be started.
harness_start_pebble() {
	local attempt pid rc cfg log eab="" validity=""
	[[ -n "${H_TLS_CERT:-}" ]] || harness_gen_tls
	[[ -n "${H_DNS_PORT:-}" ]] || h_die "start challtestsrv before pebble"
	[[ -n "${H_HTTP_PORT:-}" ]] || h_die "start nginx before pebble (its port is pebble's httpPort)"
	H_PEBBLE_N=$(( ${H_PEBBLE_N:-0} + 1 ))
	cfg="$H_DIR/pebble-$H_PEBBLE_N.json"
	log="$H_DIR/pebble-$H_PEBBLE_N.log"
	H_PEBBLE_LOG="$log"
	H_LOGS+=("$log")
	if [[ "${H_PEBBLE_EAB:-0}" == 1 ]]; then
		eab="$(printf ',\n    "externalAccountBindingRequired": true,\n    "externalAccountMACKeys": {\n      "%s": "%s",\n      "%s": "%s"\n    }' \
			"$H_EAB_KID" "$H_EAB_KEY" "$H_EAB_KID2" "$H_EAB_KEY2")"
	else
		eab=$',\n    "externalAccountBindingRequired": false'
	fi
	if [[ -n "${H_PEBBLE_VALIDITY:-}" ]]; then
		validity=$',\n    "certificateValidityPeriod": '"$H_PEBBLE_VALIDITY"
	fi
	for attempt in 1 2 3; do
		harness_port H_PEBBLE_PORT
		harness_port H_PEBBLE_MGMT_PORT
		harness_port H_PEBBLE_TLS_PORT
		cat >"$cfg" <<-EOF
			{
			  "pebble": {
			    "listenAddress": "127.0.0.1:$H_PEBBLE_PORT",
			    "managementListenAddress": "127.0.0.1:$H_PEBBLE_MGMT_PORT",
			    "certificate": "$H_TLS_CERT",
			    "privateKey": "$H_TLS_KEY",
			    "httpPort": $H_HTTP_PORT,
			    "tlsPort": $H_PEBBLE_TLS_PORT,
			    "ocspResponderURL": ""$eab$validity
			  }
			}
		EOF
		env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 "$@" \
			pebble -config "$cfg" -dnsserver "127.0.0.1:$H_DNS_PORT" >"$log" 2>&1 &
		pid=$!
		_h_register "$pid" pebble
		rc=0
		_h_wait_ready pebble "$pid" "$log" _h_pebble_ready || rc=$?
		if [[ $rc -eq 0 ]]; then
			H_PEBBLE_DIR_URL="https://127.0.0.1:$H_PEBBLE_PORT/dir"
			H_PEBBLE_MGMT_URL="https://127.0.0.1:$H_PEBBLE_MGMT_PORT"
			h_log "pebble pid $pid at $H_PEBBLE_DIR_URL (management :$H_PEBBLE_MGMT_PORT, httpPort $H_HTTP_PORT${*:+, env $*})"
			return 0
		fi
		harness_stop pebble
		[[ $rc -eq 2 ]] || h_die "pebble did not start"
		h_log "pebble lost a port race, retrying ($attempt)"
	done
	h_die "pebble did not start"
}

_h_pebble_ready() {
	curl -sf -o /dev/null --max-time 1 --cacert "$H_TLS_ROOT" "https://127.0.0.1:$H_PEBBLE_PORT/dir" &&
		curl -sf -o /dev/null --max-time 1 --cacert "$H_TLS_ROOT" "https://127.0.0.1:$H_PEBBLE_MGMT_PORT/roots/0"
}

# harness_start_all [pebble env...] — TLS, challtestsrv, nginx on $H_DIR/webroot, pebble,
# and pebble's root in H_PEBBLE_ROOT.
harness_start_all() {
	harness_gen_tls
	harness_start_challtestsrv
	harness_start_nginx "$H_DIR/webroot"
	harness_start_pebble "$@"
	harness_pebble_root
}

# harness_mgmt_get PATH OUT — GET from pebble's management API into OUT.
harness_mgmt_get() {
	curl -sSf --max-time 5 --cacert "$H_TLS_ROOT" -o "$2" "https://127.0.0.1:$H_PEBBLE_MGMT_PORT$1"
}

# harness_pebble_root [N] — without N: /roots/0 and /intermediates/0 into H_PEBBLE_ROOT and
# H_PEBBLE_INTERMEDIATE.  With N: /roots/N into H_PEBBLE_ROOT_N (file $H_DIR/pebble-root-N.pem).
harness_pebble_root() {
	local n="${1:-}" tag="p${H_PEBBLE_N:-0}"
	if [[ -z "$n" ]]; then
		H_PEBBLE_ROOT="$H_DIR/pebble-$tag-root.pem"
		H_PEBBLE_INTERMEDIATE="$H_DIR/pebble-$tag-intermediate.pem"
		harness_mgmt_get /roots/0 "$H_PEBBLE_ROOT" || h_die "cannot fetch /roots/0"
		harness_mgmt_get /intermediates/0 "$H_PEBBLE_INTERMEDIATE" || h_die "cannot fetch /intermediates/0"
	else
		H_PEBBLE_ROOT_N="$H_DIR/pebble-$tag-root-$n.pem"
		harness_mgmt_get "/roots/$n" "$H_PEBBLE_ROOT_N" || h_die "cannot fetch /roots/$n"
	fi
}

# ---------------------------------------------------------------------------------------
# renewd configuration

# harness_write_config FILE — [daemon], [ca pebble], [defaults] from the running servers.
# harness_start_front LOG [ARG...] — start ari-front.py (a TLS reverse proxy before pebble
# that adds renewalInfo, and with --profiles meta.profiles, to the directory and logs every
# newOrder payload to LOG as JSON lines). Sets FRONT_PORT and FRONT (its base URL).
harness_start_front() {
	local log="$1" pid i
	shift
	python3 "$(dirname "$H_HARNESS_SELF")/ari-front.py" --port 0 --port-file "$H_DIR/front.port" \
		--cert "$H_TLS_CERT" --key "$H_TLS_KEY" \
		--upstream "https://127.0.0.1:$H_PEBBLE_PORT" --upstream-ca "$H_TLS_ROOT" \
		--log "$log" "$@" >"$H_DIR/front.err" 2>&1 &
	pid=$!
	_h_register "$pid" ari-front
	H_LOGS+=("$H_DIR/front.err")
	for ((i = 0; i < 150; i++)); do
		if [[ -s "$H_DIR/front.port" ]]; then
			FRONT_PORT="$(cat "$H_DIR/front.port")"
			FRONT="https://127.0.0.1:$FRONT_PORT"
			if curl -sf -o /dev/null --max-time 2 --cacert "$H_TLS_ROOT" "$FRONT/test/ping"; then
				h_log "ari-front pid $pid at $FRONT"
				return 0
			fi
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$H_DIR/front.err" >&2; h_die "ari-front exited"; }
		sleep 0.1
	done
	h_die "ari-front did not start"
}

harness_write_config() {
	local f="$1"
	local state="${HC_STATE_DIR:-$H_DIR/state}" certs="${HC_CERTS_DIR:-$H_DIR/certs.d}"
	mkdir -p "$certs"
	{
		echo "# written by tests/integration/harness.sh"
		echo "[daemon]"
		echo "state_dir = $state"
		echo "certs_dir = $certs"
		echo "max_parallel = ${HC_MAX_PARALLEL:-4}"
		echo "control_socket = ${HC_CONTROL_SOCKET:-$H_DIR/control}"
		echo
		echo "[ca pebble]"
		echo "directory = ${HC_DIRECTORY:-$H_PEBBLE_DIR_URL}"
		echo "trust = ${HC_TRUST:-$H_TLS_ROOT}"
		echo "contact = mailto:test@example.com"
		echo "accept_terms = yes"
		if [[ -n "${HC_EAB_KID:-}" ]]; then
			echo "eab_kid = $HC_EAB_KID"
			echo "eab_hmac_key = $HC_EAB_KEY"
		fi
		echo
		echo "[defaults]"
		echo "ca = pebble"
		echo "key_type = ${HC_KEY_TYPE:-ec-256}"
	} >"$f"
}

# harness_add_cert FILE NAME "DOMAINS" [key=value ...] — append a [certificate NAME]
# with webroot = H_WEBROOT (unless a webroot=... argument is given).
harness_add_cert() {
	local f="$1" name="$2" domains="$3" kv have_webroot=0
	shift 3
	for kv in "$@"; do [[ "$kv" == webroot=* ]] && have_webroot=1; done
	{
		echo
		echo "[certificate $name]"
		echo "domains = $domains"
		[[ $have_webroot == 1 ]] || echo "webroot = $H_WEBROOT"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >>"$f"
}

# harness_renewd OUT ARGS... — run renewd (bounded by 180 s); stdout in OUT.out, stderr in
# OUT.err, both in OUT; H_RC gets the exit status; never trips set -e.
harness_renewd() {
	local out="$1" t0=$SECONDS
	shift
	H_LOGS+=("$out")
	H_RC=0
	timeout --foreground -k 5 180 "$RENEWD" "$@" >"$out.out" 2>"$out.err" </dev/null || H_RC=$?
	cat "$out.out" "$out.err" >"$out"
	h_log "renewd $* -> exit $H_RC ($((SECONDS - t0)) s)"
	sed 's/^/    | /' "$out" >&2
}

# ---------------------------------------------------------------------------------------
# checks

# check DESCRIPTION COMMAND... — run COMMAND, print ok/FAIL, count failures.
check() {
	local desc="$1"
	shift
	if "$@"; then
		echo "ok   - $desc"
	else
		echo "FAIL - $desc"
		H_FAILURES=$((H_FAILURES + 1))
	fi
}

# harness_failed_cleanly — the last harness_renewd run failed the way a program should:
# exit status 1..123, not 0, not killed by a signal (ASan aborts: 134), not timed out (124).
harness_failed_cleanly() { [[ "$H_RC" -ge 1 && "$H_RC" -le 123 ]]; }

# harness_done — end of scenario: exit 1 if any check failed.
harness_done() {
	if ((H_FAILURES > 0)); then
		echo "$H_NAME: $H_FAILURES check(s) failed ($((SECONDS - H_T0)) s)"
		exit 1
	fi
	echo "$H_NAME: all checks passed ($((SECONDS - H_T0)) s)"
	exit 0
}

# harness_split_pem FILE PREFIX — PREFIX-1.pem, PREFIX-2.pem ...; prints the count.
harness_split_pem() {
	awk -v p="$2" '
		/-----BEGIN CERTIFICATE-----/ { n++; f = p "-" n ".pem"; inpem = 1 }
		inpem { print > f }
		/-----END CERTIFICATE-----/ { inpem = 0; close(f) }
		END { print n + 0 }' "$1"
}

# CN of a certificate's subject / issuer.
harness_subject_cn() { openssl x509 -noout -subject -nameopt multiline -in "$1" | sed -n 's/^ *commonName *= *//p'; }
harness_issuer_cn() { openssl x509 -noout -issuer -nameopt multiline -in "$1" | sed -n 's/^ *commonName *= *//p'; }
# harness_pid_gone PID — the process has ended (gone, or a zombie nobody reaped: in a
# container without an init that reaps, killed orphans stay zombies).
harness_pid_gone() {
	local st
	[[ -n "$1" ]] || return 1
	st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 0
	[[ -z "$st" || "$st" == Z* ]]
}

harness_serial() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//'; }

# Sorted SANs of a certificate, one a line (DNS names and IP addresses, without prefix).
harness_sans() {
	openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null | tail -n +2 |
		tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' -e 's/^DNS://' -e 's/^IP Address://' |
		grep -v '^$' | sort
}

_h_same_pubkey() {
	local a b
	a="$(openssl pkey -in "$1" -pubout 2>/dev/null)" || return 1
	b="$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null)" || return 1
	[[ -n "$a" && "$a" == "$b" ]]
}

_h_key_type_is() {
	local cert="$1" kt="$2" text
	text="$(openssl x509 -noout -text -in "$cert")" || return 1
	case "$kt" in
	ec-256) grep -q 'NIST CURVE: P-256' <<<"$text" ;;
	ec-384) grep -q 'NIST CURVE: P-384' <<<"$text" ;;
	rsa-*) grep -q 'rsaEncryption' <<<"$text" && grep -q "Public-Key: (${kt#rsa-} bit)" <<<"$text" ;;
	*) return 1 ;;
	esac
}

_h_mode_is() { [[ "$(stat -L -c %a "$1")" == "$2" ]]; }

_h_link_is() {
	[[ -L "$1" ]] || return 1
	[[ "$(readlink "$1")" == "$2" ]] || return 1
	[[ "$(cd "$1" && pwd -P)" == "$(cd "$(dirname "$1")/$2" && pwd -P)" ]]
}

_h_verify_chain() {
	local root="$1" chain="$2" cert="$3" out
	out="$(openssl verify -CAfile "$root" -untrusted "$chain" "$cert" 2>&1)" || { echo "    $out"; return 1; }
	[[ "$out" == *": OK" ]]
}

_h_fullchain_is_cert_plus_chain() {
	diff <(cat "$1/cert.pem" "$1/chain.pem" | grep -v '^[[:space:]]*$') \
		<(grep -v '^[[:space:]]*$' "$1/fullchain.pem") >/dev/null
}

_h_sans_are() {
	local want
	want="$(tr ' ' '\n' <<<"$2" | grep -v '^$' | sort)"
	[[ "$(harness_sans "$1")" == "$want" ]] || {
		echo "    SANs: $(harness_sans "$1" | tr '\n' ' ')   wanted: $(tr '\n' ' ' <<<"$want")"
		return 1
	}
}

# harness_check_cert STATE NAME "DOMAINS" ROOT VERSION [KEY_TYPE] — the installed
# certificate NAME is complete, consistent and points at archive version VERSION.
harness_check_cert() {
	local state="$1" name="$2" domains="$3" root="$4" ver="$5" kt="${6:-}"
	local live="$state/live/$name" n
	check "$name: live/$name is a symlink to ../archive/$name/$ver" _h_link_is "$live" "../archive/$name/$ver"
	for n in privkey cert chain fullchain; do
		check "$name: $n.pem exists and is not empty" test -s "$live/$n.pem"
	done
	[[ -s "$live/cert.pem" && -s "$live/privkey.pem" ]] || return 0
	check "$name: privkey.pem has mode 0600" _h_mode_is "$live/privkey.pem" 600
	check "$name: cert.pem holds exactly one certificate" \
		test "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$live/cert.pem")" = 1
	check "$name: fullchain.pem = cert.pem + chain.pem" _h_fullchain_is_cert_plus_chain "$live"
	check "$name: cert chains to pebble's root (verify -untrusted chain.pem)" \
		_h_verify_chain "$root" "$live/chain.pem" "$live/cert.pem"
	check "$name: fullchain.pem verifies against pebble's root" \
		_h_verify_chain "$root" "$live/fullchain.pem" "$live/fullchain.pem"
	check "$name: private key matches the certificate" _h_same_pubkey "$live/privkey.pem" "$live/cert.pem"
	check "$name: SANs are exactly: $domains" _h_sans_are "$live/cert.pem" "$domains"
	if [[ -n "$kt" ]]; then
		check "$name: key type is $kt" _h_key_type_is "$live/cert.pem" "$kt"
	fi
}

# No files left behind in WEBROOT/.well-known/acme-challenge/.
harness_no_challenge_leftovers() {
	local d="$1/.well-known/acme-challenge"
	[[ -d "$d" ]] || return 0
	local left
	left="$(find "$d" -mindepth 1 -print)"
	[[ -z "$left" ]] || { echo "    left over: $left"; return 1; }
}
