#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034
# After renewal: units reloaded through D-Bus (a private dbus-daemon with a fake systemd),
# once per batch; deploy_hook with argv and RENEWD_* environment; install copies with
# owner, group and modes; a failing hook makes "deployed with errors" that keeps the new
# certificate, is retried by deploying again (no new order) and runs on_failure; a hook
# that hangs is killed with its children; metrics_file parses strictly and matches the
# state.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init deploy
harness_need_renewd
harness_start_all
reloads="$H_DIR/reloads.log"
harness_start_fake_systemd "$reloads"
promparse="$(dirname "$0")/../tools/promparse.py"

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
hooks="$H_DIR/hooks"
out="$H_DIR/out"
mkdir -p "$hooks" "$out"
metrics="$H_DIR/metrics/renewd.prom"
mkdir -p "$(dirname "$metrics")"

# A deploy hook that records its argv and environment (one file per certificate).
cat >"$hooks/record" <<'EOF'
#!/bin/bash
dir="$(dirname "$0")"
name="$RENEWD_CERT_NAME"
{ printf 'ARGV'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'; } >>"$dir/deploy-$name"
env | sort >"$dir/env-$name"
echo "deployed $name"
EOF
# A deploy hook that fails until told otherwise.
cat >"$hooks/flaky" <<'EOF'
#!/bin/bash
dir="$(dirname "$0")"
echo "flaky run" >>"$dir/flaky-runs"
if [[ -e "$dir/flaky-ok" ]]; then echo "now fine"; exit 0; fi
echo "cannot push the certificate" >&2
exit 3
EOF
# on_failure: records what it was told.
cat >"$hooks/page" <<'EOF'
#!/bin/bash
dir="$(dirname "$0")"
{ echo "CALL $*"; env | grep '^RENEWD_' | sort; echo; } >>"$dir/pages"
EOF
# A deploy hook that hangs with a child.
cat >"$hooks/hang" <<'EOF'
#!/bin/bash
dir="$(dirname "$0")"
sleep 1000 &
echo $! >"$dir/hang-child"
wait
EOF
chmod 755 "$hooks"/*

harness_write_config "$cfg"
sed -i "/^\[daemon\]/a metrics_file = $metrics" "$cfg"
harness_add_cert "$cfg" alpha "alpha.test www.alpha.test" "reload=web.service" \
	"deploy_hook=$hooks/record --quiet \"two words\" '\$(id)'" \
	"install_fullchain=$out/alpha.crt" "install_key=$out/alpha.key" "install_combined=$out/alpha.pem" \
	install_owner=nobody install_group=nogroup install_mode=0644
harness_add_cert "$cfg" beta "beta.test" "reload=web.service mail.service" "deploy_hook=$hooks/record"

echo "== two certificates renewed together"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "--once exits 0" test "$H_RC" = 0
harness_check_cert "$state" alpha "alpha.test www.alpha.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" beta "beta.test" "$H_PEBBLE_ROOT" 1
check "web.service was reloaded exactly once" test "$(grep -c '^RELOAD web.service replace$' "$reloads")" = 1
check "mail.service was reloaded exactly once" test "$(grep -c '^RELOAD mail.service replace$' "$reloads")" = 1
check "nothing else was reloaded" test "$(wc -l <"$reloads")" = 2
check "alpha: the deploy hook got its argv verbatim" \
	grep -qxF "ARGV [--quiet] [two words] ['\$(id)']" "$hooks/deploy-alpha"
check "beta: the deploy hook ran once, without arguments" grep -qx 'ARGV' "$hooks/deploy-beta"
for v in RENEWD_CERT_NAME=alpha "RENEWD_DOMAINS=alpha.test www.alpha.test" "RENEWD_LIVE_DIR=$state/live/alpha" \
	"RENEWD_FULLCHAIN=$state/live/alpha/fullchain.pem" "RENEWD_PRIVKEY=$state/live/alpha/privkey.pem"; do
	check "alpha: the hook's environment has $v" grep -qxF "$v" "$hooks/env-alpha"
done
check "alpha: RENEWD_SERIAL is the certificate's serial" \
	grep -qix "RENEWD_SERIAL=$(harness_serial "$state/live/alpha/cert.pem")" "$hooks/env-alpha"
check "alpha: RENEWD_NOT_AFTER is an RFC 3339 time" grep -qE '^RENEWD_NOT_AFTER=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$hooks/env-alpha"
check "the hook does not inherit renewd's environment" bash -c '! grep -q "^DBUS_SYSTEM_BUS_ADDRESS=" "$1"' _ "$hooks/env-alpha"
check "the hook's output is in the log" grep -q 'deploy_hook: deployed alpha' "$H_DIR/run1"
check "alpha.crt is the full chain" cmp -s "$out/alpha.crt" "$state/live/alpha/fullchain.pem"
check "alpha.key is the key" cmp -s "$out/alpha.key" "$state/live/alpha/privkey.pem"
check "alpha.pem is the full chain then the key" \
	bash -c 'cat "$1/fullchain.pem" "$1/privkey.pem" | cmp -s - "$2"' _ "$state/live/alpha" "$out/alpha.pem"
check "alpha.crt has mode 0644" _h_mode_is "$out/alpha.crt" 644
check "alpha.key is not readable by others (0640)" _h_mode_is "$out/alpha.key" 640
check "alpha.pem is not readable by others (0640)" _h_mode_is "$out/alpha.pem" 640
if [[ $(id -u) == 0 ]]; then
	check "the copies belong to nobody:nogroup" \
		bash -c '[[ "$(stat -c %U:%G "$1" "$2" "$3" | sort -u)" == nobody:nogroup ]]' _ "$out/alpha.crt" "$out/alpha.key" "$out/alpha.pem"
fi

echo "== metrics_file"
check "metrics_file exists" test -s "$metrics"
check "metrics_file parses as Prometheus text format" bash -c 'python3 "$1" "$2" >/dev/null' _ "$promparse" "$metrics"
python3 "$promparse" "$metrics" >"$H_DIR/metrics.json" 2>/dev/null || true
na_alpha=$(date -d "$(openssl x509 -noout -enddate -in "$state/live/alpha/cert.pem" | cut -d= -f2)" +%s)
check "alpha's not_after metric is the certificate's" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
v = [x["value"] for x in s if x["name"] == "renewd_certificate_not_after_timestamp_seconds" and x["labels"].get("name") == "alpha"]
sys.exit(0 if v and int(float(v[0])) == int(sys.argv[2]) else 1)' "$H_DIR/metrics.json" "$na_alpha"
check "renewd_renewals_total is 2" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
v = [x["value"] for x in s if x["name"] == "renewd_renewals_total"]
sys.exit(0 if v and float(v[0]) == 2 else 1)' "$H_DIR/metrics.json"

echo "== a failing deploy hook: deployed with errors, kept, retried, on_failure"
cfg2="$H_DIR/renewd-flaky.conf"
HC_STATE_DIR="$H_DIR/state2" harness_write_config "$cfg2"
sed -i "/^\[daemon\]/a metrics_file = $metrics" "$cfg2"
harness_add_cert "$cfg2" flaky "flaky.test" "deploy_hook=$hooks/flaky" "on_failure=$hooks/page flaky-alert" \
	"reload=web.service fail-app.service"
: >"$reloads"
harness_renewd "$H_DIR/run-flaky" -c "$cfg2" --once
check "flaky: --once fails" test "$H_RC" != 0
check "flaky: the output says deployed with errors" grep -q 'deployed with errors' "$H_DIR/run-flaky"
check "flaky: the error names the hook's exit status" grep -q 'deploy_hook exited with status 3' "$H_DIR/run-flaky"
check "flaky: the error names the unit that failed to reload" grep -q 'fail-app.service' "$H_DIR/run-flaky"
check "flaky: the hook's stderr is in the log" grep -q 'cannot push the certificate' "$H_DIR/run-flaky"
check "flaky: the new certificate stays live (no rollback)" _h_link_is "$H_DIR/state2/live/flaky" ../archive/flaky/1
check "flaky: status records deployPending" grep -q '"deployPending"' "$H_DIR/state2/status/flaky.json"
check "flaky: on_failure ran once with the error" test "$(grep -c '^CALL flaky-alert$' "$hooks/pages")" = 1
check "flaky: on_failure was told RENEWD_EVENT=deploy-failed" grep -qx 'RENEWD_EVENT=deploy-failed' "$hooks/pages"
check "flaky: on_failure got RENEWD_ERROR" grep -q '^RENEWD_ERROR=deployed with errors: deploy_hook exited with status 3' "$hooks/pages"
check "flaky: on_failure got RENEWD_DAYS_LEFT" grep -qE '^RENEWD_DAYS_LEFT=[0-9]+$' "$hooks/pages"
check "flaky: the metrics count one hook failure" grep -qx 'renewd_hook_failures_total 1' "$metrics"

echo "== fixed: the next run deploys again without ordering"
touch "$hooks/flaky-ok"
sed -i 's/reload = web.service fail-app.service/reload = web.service/' "$cfg2"
harness_renewd "$H_DIR/run-flaky2" -c "$cfg2" --once
check "flaky fixed: --once exits 0" test "$H_RC" = 0
check "flaky fixed: it says it deploys again" grep -q 'Deploying again' "$H_DIR/run-flaky2"
check "flaky fixed: still version 1 (no new order)" _h_link_is "$H_DIR/state2/live/flaky" ../archive/flaky/1
check "flaky fixed: no archive version 2" test ! -e "$H_DIR/state2/archive/flaky/2"
check "flaky fixed: the hook ran twice in all" test "$(wc -l <"$hooks/flaky-runs")" = 2
check "flaky fixed: deployPending is gone" bash -c '! grep -q deployPending "$1"' _ "$H_DIR/state2/status/flaky.json"
check "flaky fixed: on_failure did not run again" test "$(grep -c '^CALL' "$hooks/pages")" = 1

echo "== a deploy hook that hangs is killed with its children"
cfg3="$H_DIR/renewd-hang.conf"
HC_STATE_DIR="$H_DIR/state3" harness_write_config "$cfg3"
harness_add_cert "$cfg3" hang "hang.test" "deploy_hook=$hooks/hang" hook_timeout=2
harness_renewd "$H_DIR/run-hang" -c "$cfg3" --once
check "hang: --once fails" test "$H_RC" != 0
check "hang: the error says the hook timed out" grep -q 'deploy_hook timed out' "$H_DIR/run-hang"
check "hang: the certificate is live anyway" test -s "$H_DIR/state3/live/hang/cert.pem"
check "hang: the hook's child was killed" harness_pid_gone "$(cat "$hooks/hang-child")"

echo "== the daemon: a failing renewal in STATUS=, renewctl status, metrics and on_failure"
cfg5="$H_DIR/renewd-daemon.conf"
mkdir -p "$H_DIR/not-served"
HC_STATE_DIR="$H_DIR/state5" HC_CONTROL_SOCKET="$H_DIR/control5" harness_write_config "$cfg5"
metrics5="$H_DIR/metrics/daemon.prom"
sed -i "/^\[daemon\]/a metrics_file = $metrics5" "$cfg5"
harness_add_cert "$cfg5" good "good.test"
harness_add_cert "$cfg5" broken "broken.test" "webroot=$H_DIR/not-served" "on_failure=$hooks/page daemon-alert"
: >"$hooks/pages"
notify_log="$H_DIR/notify5.log"
have_notify=0
harness_start_notify_listener "$H_DIR/notify5.sock" "$notify_log" && have_notify=1
((have_notify)) && export NOTIFY_SOCKET="$H_DIR/notify5.sock"
harness_start_daemon "$cfg5" "$H_DIR/daemon5.err" "$H_DIR/daemon5.out"
unset NOTIFY_SOCKET
H_LOGS+=("$H_DIR/daemon5.err")
failing_metric() { grep -qx 'renewd_certificate_consecutive_failures{name="broken"} 1' "$metrics5"; }
check "the daemon records the failure in metrics_file" harness_wait_until 60 failing_metric
check "good was issued meanwhile" harness_wait_until 60 test -L "$H_DIR/state5/live/good"
check "metrics_file still parses" bash -c 'python3 "$1" "$2" >/dev/null' _ "$promparse" "$metrics5"
if ((have_notify)); then
	check "STATUS= names the failing certificate" \
		harness_wait_until 10 grep -q '^STATUS=2 certificates, 1 failing (broken)' "$notify_log"
fi
check "on_failure ran for the failed renewal" harness_wait_until 10 grep -q '^RENEWD_EVENT=renewal-failed$' "$hooks/pages"
check "on_failure was told there is no certificate yet" grep -qx 'RENEWD_DAYS_LEFT=' "$hooks/pages"
"$RENEWCTL" --socket "$H_DIR/control5" status >"$H_DIR/status5.out" 2>&1 && status_rc=0 || status_rc=$?
sed 's/^/    | /' "$H_DIR/status5.out" >&2
check "renewctl status exits 1 while a certificate fails" test "$status_rc" = 1
check "renewctl status counts the failing certificate" grep -qi 'failing' "$H_DIR/status5.out"
"$RENEWCTL" --socket "$H_DIR/control5" list >"$H_DIR/list5.out" 2>&1 || true
sed 's/^/    | /' "$H_DIR/list5.out" >&2
check "renewctl list shows broken's error" grep -q 'broken.*unauthorized\|broken.*invalid' "$H_DIR/list5.out"
harness_stop_daemon
check "the daemon stops cleanly" test "$stop_rc" = 0

harness_done
