#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016
# dns-01 over RFC 2136 against a real BIND 9: named runs in the foreground with its own
# configuration, keys, zone and journal in the test directory (nothing under /etc/bind or
# /var/cache/bind), on a random port of 127.0.0.1, serving example.test and accepting
# updates signed with one TSIG key. dns-update-tool (lib/dns-update, lib/dns-propagation)
# adds and deletes a TXT record, checked with dig; the propagation check waits for it
# on the given server and on the name servers it finds itself; keys named wrongly, with
# the wrong secret or without the right to update are refused with a clear error and
# change nothing.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init dns-rfc2136

for t in named dig tsig-keygen; do
	command -v "$t" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
	command -v "$t" >/dev/null 2>&1 || h_die "missing tool: $t (apt-get install bind9 bind9-dnsutils)"
done
TOOL="${DNS_UPDATE_TOOL:-$H_SRCROOT/build/tests/integration/dns-update-tool}"
if [[ ! -x "$TOOL" ]]; then
	echo "SKIP: dns-update-tool not built (DNS_UPDATE_TOOL=$TOOL)" >&2
	exit 77
fi

FQDN=_acme-challenge.www.example.test
VALUE=LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0
OTHER=other-value-that-must-never-appear
nd="$H_DIR/named"
mkdir -p "$nd"

# Keys: the one allowed to update, the same name with another secret, a key named
# differently, and a key named known to named but not allowed to update.
tsig-keygen -a hmac-sha256 acme-update >"$nd/acme.key"
tsig-keygen -a hmac-sha256 acme-update >"$nd/wrong-secret.key"
tsig-keygen -a hmac-sha256 stranger >"$nd/stranger.key"
tsig-keygen -a hmac-sha256 readonly >"$nd/readonly.key"
: >"$nd/bind.keys"

cat >"$nd/example.test.zone" <<'EOF'
$TTL 300
@       IN SOA  ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@       IN NS   ns.example.test.
ns      IN A    127.0.0.1
www     IN A    192.0.2.80
_acme-challenge.alias IN CNAME _acme-challenge.alias.delegated.test.
EOF
cat >"$nd/delegated.test.zone" <<'EOF'
$TTL 300
@       IN SOA  ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@       IN NS   ns.example.test.
EOF

# named_start — named on a free port; a port lost to a race is replaced (3 tries).
named_start() {
	local i
	for _ in 1 2 3; do
		harness_port NAMED_PORT
		cat >"$nd/named.conf" <<EOF
options {
	directory "$nd";
	pid-file "$nd/named.pid";
	session-keyfile "$nd/session.key";
	managed-keys-directory "$nd";
	bindkeys-file "$nd/bind.keys";
	dump-file "$nd/cache_dump.db";
	statistics-file "$nd/named.stats";
	listen-on port $NAMED_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
include "$nd/acme.key";
include "$nd/readonly.key";
zone "example.test" {
	type primary;
	file "$nd/example.test.zone";
	journal "$nd/example.test.zone.jnl";
	allow-update { key "acme-update"; };
};
zone "delegated.test" {
	type primary;
	file "$nd/delegated.test.zone";
	journal "$nd/delegated.test.zone.jnl";
	allow-update { key "acme-update"; };
};
EOF
		: >"$nd/named.log"
		# Run as the current user: no -u (as root it stays root, touching only $nd).
		named -g -n 1 -c "$nd/named.conf" >>"$nd/named.log" 2>&1 &
		NAMED_PID=$!
		_h_register "$NAMED_PID" named
		H_LOGS+=("$nd/named.log")
		for ((i = 0; i < 150; i++)); do
			if ! kill -0 "$NAMED_PID" 2>/dev/null; then
				break
			fi
			if dig @127.0.0.1 -p "$NAMED_PORT" +time=1 +tries=1 +short SOA example.test 2>/dev/null | grep -q hostmaster; then
				h_log "named pid $NAMED_PID on 127.0.0.1:$NAMED_PORT"
				return 0
			fi
			sleep 0.1
		done
		harness_stop named
		if grep -q "address in use" "$nd/named.log"; then
			h_log "named lost port $NAMED_PORT to a race; retrying"
			continue
		fi
		cat "$nd/named.log" >&2
		h_die "named did not start"
	done
	h_die "named could not get a port"
}

# txt NAME — the TXT values of NAME at named, one per line, unquoted, sorted.
txt() {
	dig @127.0.0.1 -p "$NAMED_PORT" +time=2 +tries=2 +short TXT "$1" | tr -d '"' | sort
}

# tool NAME ARGS... — run dns-update-tool with a time limit; stdout in $H_DIR/NAME.out,
# stderr in $H_DIR/NAME.err, exit status in TOOL_RC.
tool() {
	local name="$1"
	shift
	TOOL_RC=0
	timeout 120 "$TOOL" "$@" >"$H_DIR/$name.out" 2>"$H_DIR/$name.err" || TOOL_RC=$?
	h_log "dns-update-tool $* -> $TOOL_RC"
	sed 's/^/    | /' "$H_DIR/$name.out" "$H_DIR/$name.err" >&2
}

secret_of() { sed -n 's/.*secret "\(.*\)";.*/\1/p' "$1"; }

named_start
server="127.0.0.1:$NAMED_PORT"

echo "== add the TXT record"
tool add add "$server" "$nd/acme.key" "$FQDN" "$VALUE"
check "add exits 0" test "$TOOL_RC" = 0
check "the zone found is example.test" grep -qx "zone example.test" "$H_DIR/add.out"
check "dig sees the value" test "$(txt "$FQDN")" = "$VALUE"
check "named wrote its journal in the test directory" test -s "$nd/example.test.zone.jnl"
check "... and nothing under /var/cache/bind or /etc/bind" \
	test ! -e /var/cache/bind/example.test.zone.jnl -a ! -e /etc/bind/example.test.zone.jnl

echo "== the propagation check sees it"
tool wait wait "$FQDN" "$VALUE" 30 "$server"
check "wait on the given server exits 0" test "$TOOL_RC" = 0
check "wait names the server" grep -q "visible at $FQDN on $server\$" "$H_DIR/wait.out"
printf 'nameserver [127.0.0.1]:%s\n' "$NAMED_PORT" >"$H_DIR/resolv.conf"
tool discover discover "$FQDN" "$VALUE" 30 "$H_DIR/resolv.conf" "$NAMED_PORT"
check "discovery of example.test's name servers exits 0" test "$TOOL_RC" = 0
check "it found ns.example.test (127.0.0.1) and asked it" grep -q "visible at $FQDN on $server\$" "$H_DIR/discover.out"

echo "== keys that must not work"
tool badsig add "$server" "$nd/wrong-secret.key" "$FQDN" "$OTHER"
check "a wrong secret fails" test "$TOOL_RC" = 1
check "... with BADSIG explained" grep -qF \
	"error: the server $server refused the update of $FQDN: NOTAUTH (TSIG signature not accepted, is the secret right?: BADSIG)" \
	"$H_DIR/badsig.err"
tool badkey add "$server" "$nd/stranger.key" "$FQDN" "$OTHER"
check "an unknown key fails" test "$TOOL_RC" = 1
check "... with BADKEY explained" grep -qF \
	"error: the server $server refused the update of $FQDN: NOTAUTH (TSIG key not accepted: BADKEY)" "$H_DIR/badkey.err"
tool refused add "$server" "$nd/readonly.key" "$FQDN" "$OTHER"
check "a key without the right to update fails" test "$TOOL_RC" = 1
check "... with REFUSED explained" grep -qF \
	"error: the server $server refused the update of $FQDN: REFUSED (the server's policy does not allow this update of zone example.test)" \
	"$H_DIR/refused.err"
check "nothing was changed by them" test "$(txt "$FQDN")" = "$VALUE"
for k in acme wrong-secret stranger readonly; do
	check "the secret of $k.key is in no output" \
		bash -c '! grep -qF -- "$1" "$2"/*.out "$2"/*.err' _ "$(secret_of "$nd/$k.key")" "$H_DIR"
done
printf 'key "acme-update" {\n\talgorithm hmac-md5;\n\tsecret "c2VjcmV0";\n};\n' >"$H_DIR/md5.key"
tool md5 add "$server" "$H_DIR/md5.key" "$FQDN" "$OTHER"
check "an hmac-md5 key file is refused before anything is sent" grep -qF \
	"error: $H_DIR/md5.key: line 2: algorithm hmac-md5 is not supported, only hmac-sha256 is" "$H_DIR/md5.err"

echo "== a CNAME at the name, to another zone, is followed"
tool add2 add "$server" "$nd/acme.key" _acme-challenge.alias.delegated.test "$VALUE"
check "add at the CNAME target exits 0" test "$TOOL_RC" = 0
check "... in the target's zone" grep -qx "zone delegated.test" "$H_DIR/add2.out"
tool cname wait _acme-challenge.alias.example.test "$VALUE" 30 "$server"
check "wait through the CNAME exits 0" test "$TOOL_RC" = 0
check "... and polled the target" grep -q "visible at _acme-challenge.alias.delegated.test on $server\$" "$H_DIR/cname.out"
tool cname2 discover _acme-challenge.alias.example.test "$VALUE" 30 "$H_DIR/resolv.conf" "$NAMED_PORT"
check "discovery through the CNAME exits 0" test "$TOOL_RC" = 0
check "... and polled the target" grep -q "visible at _acme-challenge.alias.delegated.test on $server\$" "$H_DIR/cname2.out"

echo "== delete the TXT record"
tool delete delete "$server" "$nd/acme.key" "$FQDN" "$VALUE"
check "delete exits 0" test "$TOOL_RC" = 0
check "dig sees no TXT record any more" test -z "$(txt "$FQDN")"
check "the other name's record is still there" test "$(txt _acme-challenge.alias.delegated.test)" = "$VALUE"
tool gone wait "$FQDN" "$VALUE" 2 "$server"
check "waiting for the deleted value fails" test "$TOOL_RC" = 1
check "... naming the server and what it answered" grep -qF \
	"error: the TXT record at $FQDN did not have the value on 1 of 1 servers within 2 s: $server (no such name)" \
	"$H_DIR/gone.err"

echo "== renewd: a certificate (with a wildcard) by RFC 2136, Pebble resolving through named"
harness_need_renewd
harness_gen_tls
H_DNS_PORT="$NAMED_PORT" # pebble asks named for the TXT records
harness_port H_HTTP_PORT # unused: no http-01 here
harness_start_pebble
harness_pebble_root
cfg="$H_DIR/renewd.conf"
harness_write_config "$cfg"
harness_add_cert "$cfg" rfc "example.test *.example.test" webroot= challenge=dns-01 \
	"dns_update_server=$server" "dns_update_key_file=$nd/acme.key" "dns_resolver=$server" \
	dns_propagation_timeout=30
harness_renewd "$H_DIR/run-rfc" -c "$cfg" --once
check "renewd --once exits 0" test "$H_RC" = 0
harness_check_cert "$H_DIR/state" rfc "example.test *.example.test" "$H_PEBBLE_ROOT" 1
check "renewd found the zone and set both records" \
	test "$(grep -c 'Setting the TXT record _acme-challenge.example.test.' "$H_DIR/run-rfc")" = 2
check "the records are removed after validation" test -z "$(txt _acme-challenge.example.test)"
check "the key's secret is not in renewd's output" \
	bash -c '! grep -qF -- "$1" "$2"' _ "$(secret_of "$nd/acme.key")" "$H_DIR/run-rfc"

echo "== renewd: a key with the wrong secret is refused with a clear error"
cfg2="$H_DIR/renewd-bad.conf"
HC_STATE_DIR="$H_DIR/state-bad" harness_write_config "$cfg2"
harness_add_cert "$cfg2" bad "bad.example.test" webroot= challenge=dns-01 \
	"dns_update_server=$server" "dns_update_key_file=$nd/wrong-secret.key" "dns_resolver=$server"
harness_renewd "$H_DIR/run-bad" -c "$cfg2" --once
check "renewd --once fails" test "$H_RC" != 0
check "the error names the server and BADSIG" \
	grep -qF "refused the update of _acme-challenge.bad.example.test: NOTAUTH (TSIG signature not accepted, is the secret right?: BADSIG)" \
	"$H_DIR/run-bad"
check "nothing was installed" test ! -e "$H_DIR/state-bad/live/bad"
check "nothing was added to the zone" test -z "$(txt _acme-challenge.bad.example.test)"
check "the wrong secret is not in renewd's output" \
	bash -c '! grep -qF -- "$1" "$2"' _ "$(secret_of "$nd/wrong-secret.key")" "$H_DIR/run-bad"

harness_stop pebble
harness_stop named
check "named is stopped" bash -c '! kill -0 "$1" 2>/dev/null' _ "$NAMED_PID"
harness_done
