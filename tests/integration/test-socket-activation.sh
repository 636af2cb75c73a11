#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Socket activation: the control socket is handed over by systemd's protocol
# (systemd-socket-activate stands in for renewd.socket); renewd must answer on it instead
# of binding control_socket itself.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init socket-activation
harness_need_renewd
command -v systemd-socket-activate >/dev/null || { h_log "SKIP: no systemd-socket-activate"; exit 77; }
[[ -n "${RENEWCTL:-}" && -x "$RENEWCTL" ]] || { h_log "SKIP: no renewctl"; exit 77; }
harness_start_all

cfg="$H_DIR/renewd.conf"
sock="$H_DIR/activated.sock"
# control_socket names another path: renewd must not bind it when it is given a socket.
HC_CONTROL_SOCKET="$H_DIR/not-used.sock" harness_write_config "$cfg"
harness_add_cert "$cfg" act "act.test"

systemd-socket-activate -l "$sock" -- "$RENEWD" -c "$cfg" >"$H_DIR/daemon.log" 2>&1 &
pid=$!
_h_register "$pid" renewd-activated
H_LOGS+=("$H_DIR/daemon.log")

# The first connection starts renewd (systemd-socket-activate execs it on demand).
out=""
for ((i = 0; i < 100; i++)); do
	if out="$("$RENEWCTL" --socket "$sock" --json status 2>/dev/null)" && [[ -n "$out" ]]; then
		break
	fi
	sleep 0.1
done
check "renewctl status answered on the activated socket" grep -q '"version"' <<<"$out"
check "renewd did not bind control_socket itself" test ! -e "$H_DIR/not-used.sock"

# The certificate gets issued by the activated daemon.
for ((i = 0; i < 300; i++)); do
	[[ -L "$H_DIR/state/live/act" ]] && break
	sleep 0.1
done
check "the activated daemon issued its certificate" test -L "$H_DIR/state/live/act"
check "renewctl list --json shows it" bash -c '"$1" --socket "$2" --json list | grep -q "\"name\":[[:space:]]*\"act\""' _ "$RENEWCTL" "$sock"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: exit status 0 (got $rc)" test "$rc" = 0

echo "== renewd-http.socket: the http-01 port is handed over too"
# A second pebble validates http-01 on a port that only systemd-socket-activate binds;
# http_listen names a port renewd could not bind, so only the handed-over socket works.
harness_port H_HTTP_PORT
harness_start_pebble
harness_pebble_root
cfg2="$H_DIR/renewd-http.conf"
sock2="$H_DIR/activated2.sock"
HC_STATE_DIR="$H_DIR/state2" HC_CONTROL_SOCKET="$H_DIR/not-used2.sock" harness_write_config "$cfg2"
sed -i "/^\[daemon\]/a http_listen = 127.0.0.1:1" "$cfg2"
harness_add_cert "$cfg2" builtin "builtin-act.test" webroot=
systemd-socket-activate -l "$sock2" -l "127.0.0.1:$H_HTTP_PORT" -- "$RENEWD" -c "$cfg2" >"$H_DIR/daemon2.log" 2>&1 &
pid=$!
_h_register "$pid" renewd-activated-http
H_LOGS+=("$H_DIR/daemon2.log")
code=""
for ((i = 0; i < 100; i++)); do
	code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$H_HTTP_PORT/.well-known/acme-challenge/nothing-here")" || true
	[[ "$code" == 404 ]] && break
	sleep 0.1
done
check "the handed-over http socket answers 404 for an unknown token (got $code)" test "$code" = 404
for ((i = 0; i < 300; i++)); do
	[[ -L "$H_DIR/state2/live/builtin" ]] && break
	sleep 0.1
done
check "the built-in responder on the handed-over socket got a certificate issued" test -L "$H_DIR/state2/live/builtin"
check "renewd never tried http_listen (no bind error logged)" bash -c '! grep -q "cannot listen on 127.0.0.1:1" "$1"' _ "$H_DIR/daemon2.log"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$H_HTTP_PORT/.well-known/acme-challenge/nothing-here")" || true
check "the socket still answers after the challenge (404, got $code)" test "$code" = 404
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM: exit status 0 (got $rc)" test "$rc" = 0
harness_done
