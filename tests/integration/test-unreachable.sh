#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# The CA goes away: issue a short-lived certificate (certificateValidityPeriod 4 s), stop
# pebble, wait (bounded) until the certificate has expired so it is certainly due, and run
# --once against the dead port.  It must fail quickly with a non-zero exit, say on stderr
# which CA / connection failed, and leave the installed version alone.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init unreachable
harness_need_renewd
H_PEBBLE_VALIDITY=4
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
harness_write_config "$cfg"
harness_add_cert "$cfg" gone "gone.test www.gone.test"

echo "== first run: issue"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "first --once exits 0" test "$H_RC" = 0
check "live/gone -> ../archive/gone/1" _h_link_is "$state/live/gone" ../archive/gone/1
if [[ ! -s "$state/live/gone/cert.pem" ]]; then
	echo "FAIL - no certificate issued; cannot continue"
	exit 1
fi
serial1="$(harness_serial "$state/live/gone/cert.pem")"
echo "issued serial $serial1, notAfter $(openssl x509 -noout -enddate -in "$state/live/gone/cert.pem")"

dead_port="$H_PEBBLE_PORT"
harness_stop_pebble
check "pebble's port $dead_port is closed now" bash -c '! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null' _ "$dead_port"

# bounded wait until the certificate has expired (due under any renewal rule)
for ((i = 0; i < 150; i++)); do
	openssl x509 -checkend 0 -noout -in "$state/live/gone/cert.pem" >/dev/null || break
	sleep 0.1
done
check "certificate has expired (so it is due)" \
	bash -c '! openssl x509 -checkend 0 -noout -in "$1" >/dev/null' _ "$state/live/gone/cert.pem"

echo "== second run: due, CA unreachable"
t0=$SECONDS
harness_renewd "$H_DIR/run2" -c "$cfg" --once
elapsed=$((SECONDS - t0))
check "--once with the CA down exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "--once with the CA down gives up within 60 s (took $elapsed s)" test "$elapsed" -lt 60
check "stderr names the CA address or the connection failure" \
	grep -Eqi "127\.0\.0\.1:$dead_port|connect|refused|unreachable" "$H_DIR/run2.err"
check "stderr names the certificate" grep -q 'gone' "$H_DIR/run2.err"
check "live/gone still -> ../archive/gone/1" _h_link_is "$state/live/gone" ../archive/gone/1
check "serial unchanged ($serial1)" test "$(harness_serial "$state/live/gone/cert.pem")" = "$serial1"
check "no complete version 2 was written" test ! -e "$state/archive/gone/2/cert.pem"

harness_done
