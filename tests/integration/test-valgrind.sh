#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# renewd under valgrind: one --once run that issues an ec-256 (with a deploy hook) and an
# rsa-2048 certificate over http-01, one over tls-alpn-01 and one over dns-01 by a hook,
# then a second run with nothing due, both under memcheck with definite and indirect leaks
# counted as errors.  Either run must exit 0 with no memcheck error; the valgrind summary
# is shown when one does not.  Skipped (77) without valgrind, and for a renewd built with
# AddressSanitizer (the two do not work together; the ASan build checks itself).
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init valgrind
harness_need_renewd

if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is not installed" >&2
	exit 77
fi

# AddressSanitizer: the runtime's entry point in the binary (a static or dynamic symbol,
# found even in a stripped binary: grep -a on the file), libasan among what the dynamic
# loader would map (ldd), or a DT_NEEDED entry (readelf) — any one of them is enough.
renewd_has_asan() {
	grep -qaF -e __asan_init -e AddressSanitizer "$RENEWD" 2>/dev/null && return 0
	if command -v nm >/dev/null 2>&1; then
		{ nm -an "$RENEWD"; nm -D "$RENEWD"; } 2>/dev/null | grep -q '__asan_init' && return 0
	fi
	if command -v readelf >/dev/null 2>&1; then
		readelf -d "$RENEWD" 2>/dev/null | grep -q 'NEEDED.*libasan' && return 0
	fi
	if command -v ldd >/dev/null 2>&1; then
		ldd "$RENEWD" 2>/dev/null | grep -q 'libasan' && return 0
	fi
	return 1
}
if renewd_has_asan; then
	echo "SKIP: $RENEWD is built with AddressSanitizer; valgrind cannot run it" >&2
	exit 77
fi
h_log "$(valgrind --version) on $RENEWD"

harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
ec_domains="vg-ec.test www.vg-ec.test"
rsa_domains="vg-rsa.test"
harness_write_config "$cfg"
sed -i "/^\[daemon\]/a tls_alpn_listen = 127.0.0.1:$H_PEBBLE_TLS_PORT" "$cfg"
# The hooks (a deploy hook, a dns hook into challtestsrv) and the tls-alpn-01 responder
# run under memcheck too; the hooks themselves run natively (no --trace-children).
cat >"$H_DIR/deploy-hook" <<EOF
#!/bin/sh
echo "\$RENEWD_CERT_NAME" >>"$H_DIR/deployed"
EOF
cat >"$H_DIR/dns-hook" <<EOF
#!/bin/sh
case "\$1" in
set) curl -sSf -X POST -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" http://127.0.0.1:$H_CTS_MGMT_PORT/set-txt ;;
clear) curl -sSf -X POST -d "{\"host\":\"\$2\"}" http://127.0.0.1:$H_CTS_MGMT_PORT/clear-txt ;;
esac
EOF
chmod 755 "$H_DIR/deploy-hook" "$H_DIR/dns-hook"
harness_add_cert "$cfg" vg-ec "$ec_domains" key_type=ec-256 "deploy_hook=$H_DIR/deploy-hook"
harness_add_cert "$cfg" vg-rsa "$rsa_domains" key_type=rsa-2048
harness_add_cert "$cfg" vg-alpn "vg-alpn.test" webroot= challenge=tls-alpn-01
harness_add_cert "$cfg" vg-dns "vg-dns.test" webroot= challenge=dns-01 "dns_hook=$H_DIR/dns-hook" \
	"dns_resolver=127.0.0.1:$H_DNS_PORT"

# valgrind_renewd OUT TIMEOUT ARGS... — like harness_renewd, but renewd runs under memcheck
# (log in OUT.vg) and the bound is TIMEOUT seconds: memcheck makes renewd 20-50x slower.
valgrind_renewd() {
	local out="$1" limit="$2" t0=$SECONDS
	shift 2
	H_LOGS+=("$out" "$out.vg")
	H_RC=0
	timeout --foreground -k 10 "$limit" \
		valgrind --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--track-fds=no --num-callers=40 --log-file="$out.vg" \
		"$RENEWD" "$@" >"$out.out" 2>"$out.err" </dev/null || H_RC=$?
	cat "$out.out" "$out.err" >"$out"
	h_log "valgrind renewd $* -> exit $H_RC ($((SECONDS - t0)) s)"
	sed 's/^/    | /' "$out" >&2
	if [[ "$H_RC" != 0 ]]; then
		echo "----- valgrind log $out.vg -----" >&2
		if grep -q 'ERROR SUMMARY: [1-9]' "$out.vg" 2>/dev/null; then
			cat "$out.vg" >&2 # the error reports are what matters
		else
			tail -n 40 "$out.vg" >&2
		fi
		echo "----- end of valgrind log -----" >&2
	fi
}

# The meson timeout of the whole scenario is 300 s: leave room for start-up and the
# second run.  (About 10-20 s each on a quiet machine.)
echo "== first run under valgrind: issue ec-256 and rsa-2048"
valgrind_renewd "$H_DIR/run1" 200 -c "$cfg" --once
check "valgrind: first --once exits 0 (got $H_RC; 99 = memcheck errors, 124 = timeout)" test "$H_RC" = 0
check "valgrind: first run ERROR SUMMARY is 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$H_DIR/run1.vg"
grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$H_DIR/run1.vg" | sed 's/^==[0-9]*== */    valgrind: /' || true
check "vg-ec renewed" grep -q '^vg-ec: renewed' "$H_DIR/run1.out"
check "vg-rsa renewed" grep -q '^vg-rsa: renewed' "$H_DIR/run1.out"
harness_check_cert "$state" vg-ec "$ec_domains" "$H_PEBBLE_ROOT" 1 ec-256
harness_check_cert "$state" vg-rsa "$rsa_domains" "$H_PEBBLE_ROOT" 1 rsa-2048
harness_check_cert "$state" vg-alpn "vg-alpn.test" "$H_PEBBLE_ROOT" 1
harness_check_cert "$state" vg-dns "vg-dns.test" "$H_PEBBLE_ROOT" 1
check "the deploy hook ran for vg-ec" grep -qx vg-ec "$H_DIR/deployed"
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"

echo "== second run under valgrind: nothing is due"
limit=$((285 - (SECONDS - H_T0)))
((limit >= 30)) || limit=30
valgrind_renewd "$H_DIR/run2" "$limit" -c "$cfg" --once
check "valgrind: second --once exits 0 (got $H_RC)" test "$H_RC" = 0
check "valgrind: second run ERROR SUMMARY is 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$H_DIR/run2.vg"
grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$H_DIR/run2.vg" | sed 's/^==[0-9]*== */    valgrind: /' || true
check "second run: 4 'valid until' lines" test "$(grep -c ': valid until' "$H_DIR/run2.out" || true)" = 4
check "nothing renewed in the second run" \
	test ! -e "$state/archive/vg-ec/2" -a ! -e "$state/archive/vg-rsa/2"

harness_done
