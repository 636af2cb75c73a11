#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034
# Every way to prove control, validated by a real Pebble:
#   - the built-in http-01 responder on pebble's httpPort (no nginx at all), also for an
#     IP-address certificate (RFC 8738);
#   - tls-alpn-01 (RFC 8737) on pebble's tlsPort;
#   - dns-01 through a dns_hook that sets TXT records in pebble-challtestsrv, with the
#     propagation check asking challtestsrv; a wildcard certificate;
#   - a certificate that mixes methods (challenge_override);
#   - hostile hook arguments reach the hook as plain data; a hook that hangs is killed
#     with its children and the renewal fails with a clear error.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init challenges
harness_need_renewd
harness_gen_tls
harness_start_challtestsrv
harness_port H_HTTP_PORT # pebble validates http-01 here: renewd's built-in responder
harness_start_pebble
harness_pebble_root

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
mkdir -p "$H_DIR/hook"
calls="$H_DIR/hook/calls"

# A dns_hook as a user would write it: argv is "set|clear FQDN VALUE" after the configured
# arguments. challtestsrv's clear-txt drops every value of a name, so the hook keeps the
# values it set per name and puts back the others (a wildcard and its base name share
# _acme-challenge.NAME).
hook="$H_DIR/hook/dns-hook"
cat >"$hook" <<'EOF'
#!/bin/bash
set -euo pipefail
dir="$(dirname "$0")"
exec 9>"$dir/lock" # renewd may run set and clear for one name at once
flock 9
nargs=$(( $# - 3 ))
{ printf 'CALL'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'; } >>"$dir/calls"
env | grep '^RENEWD_' | sort >"$dir/env.last"
shift "$nargs"
action="$1" fqdn="$2" value="$3"
mgmt="http://127.0.0.1:$(cat "$dir/mgmt-port")"
db="$dir/values-$fqdn"
case "$action" in
set)
	echo "$value" >>"$db"
	curl -sSf -X POST -d "{\"host\":\"$fqdn\",\"value\":\"$value\"}" "$mgmt/set-txt"
	;;
clear)
	grep -vxF "$value" "$db" >"$db.new" || true
	mv "$db.new" "$db"
	curl -sSf -X POST -d "{\"host\":\"$fqdn\"}" "$mgmt/clear-txt"
	while read -r v; do
		curl -sSf -X POST -d "{\"host\":\"$fqdn\",\"value\":\"$v\"}" "$mgmt/set-txt"
	done <"$db"
	;;
*) echo "unknown action $action" >&2; exit 2 ;;
esac
echo "dns hook: $action $fqdn done"
EOF
chmod 755 "$hook"
echo "$H_CTS_MGMT_PORT" >"$H_DIR/hook/mgmt-port"

harness_write_config "$cfg"
cat >>"$cfg" <<EOF

# appended by test-challenges.sh
EOF
sed -i "/^\[daemon\]/a http_listen = 127.0.0.1:$H_HTTP_PORT\ntls_alpn_listen = 127.0.0.1:$H_PEBBLE_TLS_PORT" "$cfg"
dns_common=(challenge=dns-01 "dns_hook=$hook"
	"dns_resolver=127.0.0.1:$H_DNS_PORT" dns_propagation_timeout=30)
harness_add_cert "$cfg" builtin "builtin.test www.builtin.test" webroot=
harness_add_cert "$cfg" ipcert "127.0.0.1" webroot=
harness_add_cert "$cfg" alpn "alpn.test www.alpn.test" webroot= challenge=tls-alpn-01
harness_add_cert "$cfg" wild "wild.test *.wild.test" webroot= "${dns_common[@]}"
harness_add_cert "$cfg" mixed "mixed.test *.mixed.test" webroot= \
	"challenge_override=*.mixed.test=dns-01" "dns_hook=$hook" "dns_resolver=127.0.0.1:$H_DNS_PORT"

echo "== the configuration is accepted"
harness_renewd "$H_DIR/check" -c "$cfg" --check-config
check "--check-config exits 0" test "$H_RC" = 0

echo "== one --once run issues all five"
harness_renewd "$H_DIR/run1" -c "$cfg" --once
check "--once exits 0" test "$H_RC" = 0
harness_check_cert "$state" builtin "builtin.test www.builtin.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" ipcert "127.0.0.1" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" alpn "alpn.test www.alpn.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" wild "wild.test *.wild.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" mixed "mixed.test *.mixed.test" "$H_PEBBLE_ROOT" 1

check "ipcert: the IP is a SAN of type IP Address" \
	bash -c 'openssl x509 -noout -ext subjectAltName -in "$1" | grep -q "IP Address:127.0.0.1"' _ "$state/live/ipcert/cert.pem"
# (Pebble copies the first name into the subject CN itself, IP or not; that renewd's CSR
# keeps IPs out of the CN is checked in tests/unit/test-csr.c.)
check "the built-in http-01 responder is closed after the run" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ "$H_HTTP_PORT"
check "the tls-alpn-01 responder is closed after the run" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null' _ "$H_PEBBLE_TLS_PORT"
check "the dns hook set three records (wild.test twice, mixed.test once)" \
	test "$(grep -c '\[set\]' "$calls")" = 3
check "the dns hook cleared every record it set" \
	test "$(grep -c '\[clear\]' "$calls")" = 3
check "the hook was called with set _acme-challenge.wild.test. VALUE" \
	grep -q '^CALL \[set\] \[_acme-challenge.wild.test.\] \[[A-Za-z0-9_-]\{43\}\]$' "$calls"
check "the hook got RENEWD_CERT_NAME and RENEWD_DNS_FQDN" \
	bash -c 'grep -q "^RENEWD_CERT_NAME=" "$1" && grep -q "^RENEWD_DNS_FQDN=_acme-challenge." "$1"' _ "$H_DIR/hook/env.last"
check "no TXT record is left in challtestsrv" \
	bash -c 'for f in "$1"/values-*; do [[ ! -s "$f" ]] || exit 1; done' _ "$H_DIR/hook"

echo "== tls-alpn-01 alone, for a name and an IP address: http-01 could not work here"
cfg4="$H_DIR/renewd-alpn.conf"
HC_STATE_DIR="$H_DIR/state4" harness_write_config "$cfg4"
sed -i "/^\[daemon\]/a http_listen = 127.0.0.1:1\ntls_alpn_listen = 127.0.0.1:$H_PEBBLE_TLS_PORT" "$cfg4"
harness_add_cert "$cfg4" alpn2 "alpn2.test" webroot= challenge=tls-alpn-01
harness_add_cert "$cfg4" alpnip "127.0.0.1" webroot= challenge=tls-alpn-01
harness_renewd "$H_DIR/run-alpn" -c "$cfg4" --once
check "alpn only: --once exits 0" test "$H_RC" = 0
harness_check_cert "$H_DIR/state4" alpn2 "alpn2.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$H_DIR/state4" alpnip "127.0.0.1" "$H_PEBBLE_ROOT" 1

echo "== hostile hook arguments reach the hook as data"
cfg2="$H_DIR/renewd-hostile.conf"
HC_STATE_DIR="$H_DIR/state2" harness_write_config "$cfg2"
sed -i "/^\[daemon\]/a http_listen = 127.0.0.1:$H_HTTP_PORT" "$cfg2"
: >"$calls"
harness_add_cert "$cfg2" hostile "hostile.test" webroot= challenge=dns-01 \
	"dns_hook=$hook \"\$(touch $H_DIR/pwned)\" ; \"\`touch $H_DIR/pwned2\`\" \"a b\"" \
	"dns_resolver=127.0.0.1:$H_DNS_PORT"
harness_renewd "$H_DIR/run-hostile" -c "$cfg2" --once
check "hostile: --once exits 0" test "$H_RC" = 0
check "hostile: no command substitution ran" test ! -e "$H_DIR/pwned" -a ! -e "$H_DIR/pwned2"
check "hostile: the arguments arrived verbatim" \
	grep -qF "CALL [\$(touch $H_DIR/pwned)] [;] [\`touch $H_DIR/pwned2\`] [a b] [set]" "$calls"

echo "== a hook that hangs is killed with its children"
cfg3="$H_DIR/renewd-hang.conf"
HC_STATE_DIR="$H_DIR/state3" harness_write_config "$cfg3"
hang="$H_DIR/hook/hang"
cat >"$hang" <<EOF
#!/bin/bash
sleep 1000 &
echo \$! >"$H_DIR/hook/hang-child"
echo "hanging now"
wait
EOF
chmod 755 "$hang"
harness_add_cert "$cfg3" hang "hang.test" webroot= challenge=dns-01 "dns_hook=$hang" hook_timeout=2 \
	"dns_resolver=127.0.0.1:$H_DNS_PORT"
harness_renewd "$H_DIR/run-hang" -c "$cfg3" --once
check "hang: --once fails" test "$H_RC" != 0
check "hang: the error says the hook timed out" grep -qi 'timed out' "$H_DIR/run-hang"
check "hang: the hook's child is gone" harness_pid_gone "$(cat "$H_DIR/hook/hang-child")"
check "hang: nothing was installed" test ! -e "$H_DIR/state3/live/hang"

echo "== the daemon stopped while waiting for DNS propagation removes the record first"
cfg6="$H_DIR/renewd-term.conf"
HC_STATE_DIR="$H_DIR/state6" HC_CONTROL_SOCKET="$H_DIR/control6" harness_write_config "$cfg6"
harness_port silent_port # nothing answers there: the propagation check keeps waiting
harness_add_cert "$cfg6" term "term.test" webroot= challenge=dns-01 "dns_hook=$hook" \
	"dns_resolver=127.0.0.1:$silent_port" dns_propagation_timeout=120
: >"$calls"
harness_start_daemon "$cfg6" "$H_DIR/daemon6.err" "$H_DIR/daemon6.out"
H_LOGS+=("$H_DIR/daemon6.err")
check "term: the hook set the record" harness_wait_until 30 grep -q '^CALL \[set\] \[_acme-challenge.term.test.\]' "$calls"
harness_stop_daemon
check "term: SIGTERM: exit status 0 within 10 s (got $stop_rc after $stop_secs s)" test "$stop_rc" = 0
check "term: the record was cleared before the daemon exited" grep -q '^CALL \[clear\] \[_acme-challenge.term.test.\]' "$calls"
check "term: the log says so" grep -q 'Removing the DNS records of abandoned orders' "$H_DIR/daemon6.err"
check "term: nothing was installed" test ! -e "$H_DIR/state6/live/term"

echo "== a CA that offers no configured challenge: a clear error"
harness_start_front "$H_DIR/front.log" --drop-challenge tls-alpn-01
cfg5="$H_DIR/renewd-offer.conf"
HC_STATE_DIR="$H_DIR/state5" HC_DIRECTORY="$FRONT/dir" harness_write_config "$cfg5"
sed -i "/^\[daemon\]/a tls_alpn_listen = 127.0.0.1:$H_PEBBLE_TLS_PORT" "$cfg5"
harness_add_cert "$cfg5" nooffer "nooffer.test" webroot= challenge=tls-alpn-01
harness_renewd "$H_DIR/run-offer" -c "$cfg5" --once
check "no offer: --once fails" test "$H_RC" != 0
check "no offer: the error names the wanted and the offered challenges" \
	grep -qE 'The CA offers no tls-alpn-01 challenge for nooffer.test \(offered: (http-01, dns-01|dns-01, http-01)\)' "$H_DIR/run-offer"
check "no offer: nothing was installed" test ! -e "$H_DIR/state5/live/nooffer"

harness_done
