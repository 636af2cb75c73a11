#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034,SC2317
# renewctl import-certbot against lineages made by Debian's real certbot and Pebble: a
# webroot one (served by nginx: a real [[webroot_map]], --reuse-key, a deploy hook) and a
# standalone rsa-2048 one, plus two edited copies (names on different webroots; manual,
# i.e. dns-01). --dry-run changes nothing; the import writes drop-ins that renewd
# --check-config accepts and installs certbot's very certificates and keys; the lineages
# it cannot take are skipped with the reason (exit 1); a second run with --dns-hook takes
# the dns-01 one and makes a running daemon reload; renewd --once then finds nothing due
# with the CA down; running again says "already imported".
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init import-certbot
harness_need_renewd
: "${RENEWCTL:=$H_SRCROOT/build/ctl/renewctl}"
[[ -x "$RENEWCTL" ]] || { echo "SKIP: renewctl binary not found (RENEWCTL=$RENEWCTL)" >&2; exit 77; }
command -v certbot >/dev/null 2>&1 || h_die "missing tool: certbot (apt-get install certbot)"
harness_start_all

le="$H_DIR/le"
cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
certs="$H_DIR/certs.d"
sock="$H_DIR/control"
dlog="$H_DIR/daemon.log"
H_LOGS+=("$H_DIR/certbot.log" "$dlog")
harness_write_config "$cfg"
: >"$H_DIR/cli.ini"   # so that no /etc/letsencrypt/cli.ini of the machine gets in

# certbot_run ARGS... — certbot certonly against pebble, everything under $H_DIR.
certbot_run() {
	h_log "certbot certonly $*"
	REQUESTS_CA_BUNDLE="$H_TLS_ROOT" timeout -k 5 180 certbot certonly -c "$H_DIR/cli.ini" \
		--server "$H_PEBBLE_DIR_URL" --config-dir "$le" --work-dir "$H_DIR/work" --logs-dir "$H_DIR/logs" \
		--non-interactive --agree-tos --register-unsafely-without-email "$@" >>"$H_DIR/certbot.log" 2>&1
}

# import NAME ARGS... — renewctl import-certbot $le ARGS; stdout in $H_DIR/NAME.out, stderr
# in NAME.err, exit status in RC.
import() {
	local n="$1"
	shift
	RC=0
	"$RENEWCTL" import-certbot "$le" --config "$cfg" "$@" >"$H_DIR/$n.out" 2>"$H_DIR/$n.err" </dev/null || RC=$?
	h_log "renewctl import-certbot $* -> exit $RC"
	sed 's/^/    | /' "$H_DIR/$n.out" "$H_DIR/$n.err" >&2
}
out_has() { grep -qF -- "$2" "$H_DIR/$1.out"; }
err_has() { grep -qF -- "$2" "$H_DIR/$1.err"; }
no_sanitizer_report() { ! grep -qE 'Sanitizer|runtime error:' "$H_DIR/$1.err"; }
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }
same_key() { cmp -s <(pubkey_of_key "$1") <(pubkey_of_key "$2"); }
# The certificates of a PEM file, as fingerprints, one a line.
chain_fingerprints() {
	local d n i
	d="$(mktemp -d "$H_DIR/split.XXXXXX")"
	n="$(harness_split_pem "$1" "$d/c")"
	for ((i = 1; i <= n; i++)); do fingerprint "$d/c-$i.pem"; done
}
# Every file under certs.d and the state directory (which may not exist yet), with its
# type, size and mtime.
tree_state() { { find "$certs" "$state" -printf '%p %y %s %T@\n' 2>/dev/null || true; } | sort; }

echo "== certbot issues two lineages"
check "certbot --webroot (nginx serves it) issued 'web'" \
	certbot_run --webroot -w "$H_WEBROOT" -d a.test -d b.test --cert-name web --reuse-key \
	--deploy-hook "/bin/echo deployed, really"
harness_stop nginx   # certbot's standalone server takes pebble's httpPort
check "certbot --standalone issued 'alone' (rsa-2048)" \
	certbot_run --standalone --http-01-port "$H_HTTP_PORT" --http-01-address 127.0.0.1 \
	-d c.test -d d.test --cert-name alone --key-type rsa --rsa-key-size 2048
[[ -s "$le/renewal/web.conf" && -s "$le/renewal/alone.conf" ]] || h_die "certbot did not write its renewal configurations"
check "certbot wrote a [[webroot_map]] for web" grep -q '^\[\[webroot_map\]\]' "$le/renewal/web.conf"
check "certbot's live/web/cert.pem is a symlink into archive/" test -L "$le/live/web/cert.pem"

# Two more lineages on web's files: its names on two webroots, and validated by hand
# (manual: dns-01 for renewd).
sed -e "s|^b\.test = .*|b.test = $H_DIR/other-webroot|" "$le/renewal/web.conf" >"$le/renewal/split.conf"
sed -e 's|^authenticator = webroot|authenticator = manual|' "$le/renewal/web.conf" >"$le/renewal/viadns.conf"

echo "== --dry-run changes nothing"
before="$(tree_state)"
import dry --dry-run
check "dry run: exit 1 (two lineages cannot be imported as they are)" test "$RC" = 1
check "dry run: prints the drop-in of web" out_has dry "--- $certs/web.conf (not written: --dry-run)"
check "dry run: web would be imported" out_has dry "web: would be imported"
check "dry run: alone would be imported" out_has dry "alone: would be imported"
check "dry run: no drop-in written" test -z "$(find "$certs" -mindepth 1)"
check "dry run: no state written" test ! -e "$state"
check "dry run: the tree is as it was" test "$(tree_state)" = "$before"
check "dry run: no sanitizer report" no_sanitizer_report dry

echo "== import, the daemon not running"
import one
check "import: exit 1 (split and viadns skipped)" test "$RC" = 1
check "import: web imported" out_has one "web: imported into $certs/web.conf (http-01)"
check "import: alone imported" out_has one "alone: imported into $certs/alone.conf (http-01)"
check "import: split skipped, naming the two webroots" \
	out_has one "split: skipped: the names use different webroots (a.test: $H_WEBROOT, b.test: $H_DIR/other-webroot)"
check "import: viadns skipped for want of --dns-hook" out_has one "viadns: skipped: authenticator manual means dns-01"
check "import: says the daemon will pick the files up" out_has one "renewd is not running"
check "import: warns about the deploy hook" err_has one "web: warning: certbot's renew_hook is a shell command line"
check "import: prints no private key" bash -c '! grep -q "PRIVATE KEY" "$1" "$2"' _ "$H_DIR/one.out" "$H_DIR/one.err"
check "import: no sanitizer report" no_sanitizer_report one

check "web.conf starts with where it came from" \
	test "$(head -n 1 "$certs/web.conf")" = "# Imported from certbot's $le/renewal/web.conf by renewctl import-certbot"
check "web.conf: the names" grep -qx 'domains = a.test b.test' "$certs/web.conf"
check "web.conf: the webroot of the map" grep -qx "webroot = $H_WEBROOT" "$certs/web.conf"
check "web.conf: reuse_key = yes" grep -qx 'reuse_key = yes' "$certs/web.conf"
check "web.conf: ca = pebble" grep -qx 'ca = pebble' "$certs/web.conf"
check "web.conf: key_type = ec-256" grep -qx 'key_type = ec-256' "$certs/web.conf"
check "alone.conf: key_type = rsa-2048" grep -qx 'key_type = rsa-2048' "$certs/alone.conf"
check "alone.conf: the built-in responder (empty webroot)" grep -qx 'webroot =' "$certs/alone.conf"
check "alone.conf: the names" grep -qx 'domains = c.test d.test' "$certs/alone.conf"
check "no drop-in for the skipped lineages" test ! -e "$certs/split.conf" -a ! -e "$certs/viadns.conf"
check "no state for the skipped lineages" test ! -e "$state/live/split" -a ! -e "$state/live/viadns"

harness_check_cert "$state" web "a.test b.test" "$H_PEBBLE_ROOT" 1 ec-256
harness_check_cert "$state" alone "c.test d.test" "$H_PEBBLE_ROOT" 1 rsa-2048
for n in web alone; do
	check "$n: the same certificate as certbot's (SHA-256 fingerprint)" \
		test "$(fingerprint "$state/live/$n/cert.pem")" = "$(fingerprint "$le/live/$n/cert.pem")"
	check "$n: the same serial as certbot's" \
		test "$(harness_serial "$state/live/$n/cert.pem")" = "$(harness_serial "$le/live/$n/cert.pem")"
	check "$n: the same key as certbot's" same_key "$state/live/$n/privkey.pem" "$le/live/$n/privkey.pem"
	check "$n: the same chain as certbot's" \
		test "$(chain_fingerprints "$state/live/$n/chain.pem")" = "$(chain_fingerprints "$le/live/$n/chain.pem")"
done

harness_renewd "$H_DIR/check" --check-config -c "$cfg"
check "renewd --check-config accepts the drop-ins" test "$H_RC" = 0
check "  with [certificate web]" grep -q '^\[certificate web\]' "$H_DIR/check.out"
check "  and [certificate alone]" grep -q '^\[certificate alone\]' "$H_DIR/check.out"

echo "== import again with --dns-hook, the daemon running"
rm -f "$le/renewal/split.conf"
ctl() { "$RENEWCTL" --socket "$sock" "$@"; }
answering() { ctl status >/dev/null 2>&1 || [[ $? == 1 ]]; }
listed() { ctl --json list | python3 -c 'import json,sys; print(" ".join(sorted(c["name"] for c in json.load(sys.stdin)["certificates"])))'; }
harness_start_daemon "$cfg" "$dlog" "$dlog"
check "the daemon answers on its socket" harness_wait_until 20 answering
check "the daemon manages web and alone" test "$(listed)" = "alone web"
import two --dns-hook /bin/true
check "second import: exit 0" test "$RC" = 0
check "second import: web already imported" out_has two "web: already imported"
check "second import: alone already imported" out_has two "alone: already imported"
check "second import: viadns imported (dns-01)" out_has two "viadns: imported into $certs/viadns.conf (dns-01)"
check "second import: renewd reloaded" out_has two "Configuration reloaded."
check "viadns.conf: dns-01 through the hook" grep -qx 'dns_hook = /bin/true' "$certs/viadns.conf"
check "the daemon now manages viadns too" test "$(listed)" = "alone viadns web"
check "second import: no sanitizer report" no_sanitizer_report two
harness_stop_daemon
check "the daemon stopped cleanly" test "$stop_rc" = 0

echo "== renewd --once: nothing is due; pebble is stopped so any contact would fail"
harness_stop_pebble
harness_renewd "$H_DIR/once" -c "$cfg" --once
check "renewd --once exits 0" test "$H_RC" = 0
for n in web alone viadns; do
	check "--once: $n is not due" grep -q "^$n: valid until .*, not due before" "$H_DIR/once.out"
done
check "no certificate was issued again" test -z "$(find "$state/archive" -mindepth 2 -maxdepth 2 ! -name 1)"
check "web: still certbot's certificate" \
	test "$(fingerprint "$state/live/web/cert.pem")" = "$(fingerprint "$le/live/web/cert.pem")"

echo "== once more: everything already imported; a dry run for a new lineage changes nothing"
import three
check "third import: exit 0" test "$RC" = 0
for n in web alone viadns; do
	check "third import: $n already imported" out_has three "$n: already imported"
done
check "third import: nothing imported, so no reload" bash -c '! grep -q "reload\|not running" "$1"' _ "$H_DIR/three.out"
cp "$le/renewal/alone.conf" "$le/renewal/extra.conf"
before="$(tree_state)"
import dry2 --dry-run
check "dry run: exit 0" test "$RC" = 0
check "dry run: extra would be imported" out_has dry2 "extra: would be imported"
check "dry run: the tree is as it was" test "$(tree_state)" = "$before"

harness_done
