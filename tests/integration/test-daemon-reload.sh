#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034,SC2317
# The running daemon and changes to its configuration and to live/:
#  (a) SIGHUP with a broken main file (an unknown key, and A's domains changed): the daemon
#      keeps running, logs the FILE:LINE error and that it keeps the running configuration;
#      proof that it does: live/A removed by hand is issued again with the *old* names;
#  (b) the good file again, with a certificate B added, and SIGHUP: B is issued, A is left
#      alone;
#  (c) a drop-in certs_dir/c.conf written (no signal): inotify, a reload, C is issued; a
#      broken drop-in is refused with its FILE:LINE and, once removed, the reload succeeds;
#  (d) live/A replaced by hand: first by a valid certificate for A's names (made by a
#      --once run in another state dir) — the daemon notices (-v: "live/ changed"),
#      reschedules from the new certificate and leaves it in place; then by a certificate
#      for other names — the daemon notices and renews A at once;
#  (e) SIGTERM: exit 0 within 10 s, nothing left behind.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init daemon-reload
harness_need_renewd
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
certs="$H_DIR/certs.d"
a_domains="a.reload.test www.a.reload.test"
b_domains="b.reload.test"
c_domains="c.reload.test www.c.reload.test"

# --- helpers --------------------------------------------------------------------------
daemon_log="$H_DIR/daemon.log"
H_LOGS+=("$daemon_log")

daemon_start() { harness_start_daemon "$cfg" "$daemon_log" "$H_DIR/daemon.out"; }


log_count() { grep -cF -- "$1" "$daemon_log" || true; }
log_grew() { (($(log_count "$1") > $2)); }
# Lines of the log from line N+1 on.
log_since() { tail -n +"$(($1 + 1))" "$daemon_log"; }
log_lines() { wc -l <"$daemon_log"; }

live_is() { _h_link_is "$state/live/$1" "$2"; }
issued() { [[ -L "$state/live/$1" && -s "$state/live/$1/cert.pem" ]]; }

write_good_config() {
	harness_write_config "$cfg"
	harness_add_cert "$cfg" A "$a_domains"
	local with_b="${1:-}"
	[[ -z "$with_b" ]] || harness_add_cert "$cfg" B "$b_domains"
}

# --- start ----------------------------------------------------------------------------
write_good_config
daemon_start

echo "== start: the daemon issues A (bounded wait 30 s)"
check "A issued within 30 s" harness_wait_until 30 issued A
if ! issued A; then
	echo "FAIL - A not issued; cannot continue"
	exit 1
fi
harness_check_cert "$state" A "$a_domains" "$H_PEBBLE_ROOT" 1
check "log: Managing 1 certificate" grep -q 'renewd: Managing 1 certificate\.' "$daemon_log"

echo "== (a) SIGHUP with a broken main file"
cp "$cfg" "$cfg.good"
# A's names changed (so a config that were applied would show) and an unknown key.
sed -i -e "s/^domains = $a_domains\$/domains = a.reload.test other.reload.test/" \
	-e '/^\[daemon\]$/a bogus_key = 1' "$cfg"
bad_line="$(grep -n '^bogus_key' "$cfg" | cut -d: -f1)"
check "the broken file fails --check-config with $cfg:$bad_line" \
	bash -c 'out="$("$1" --check-config -c "$2" 2>&1)" && exit 1; grep -qF "$2:$3:" <<<"$out"' _ "$RENEWD" "$cfg" "$bad_line"
n0="$(log_count 'keeping the running configuration')"
kill -HUP "$daemon_pid"
check "log says the reload failed and the running configuration is kept" \
	harness_wait_until 10 log_grew 'keeping the running configuration' "$n0"
check "log names the error as FILE:LINE ($cfg:$bad_line: ... bogus_key)" \
	grep -qE "$(printf '%s' "$cfg" | sed 's/[.[\*^$/]/\\&/g'):$bad_line: .*bogus_key" "$daemon_log"
grep -F 'Reloading' "$daemon_log" | sed 's/^/    | /'
sleep 1
check "the daemon is still running after the bad SIGHUP" harness_daemon_alive
check "A not touched by the bad reload (still version 1)" live_is A ../archive/A/1
# Proof that the running configuration (A with its old names) is still in force: take A
# away; the daemon notices through inotify on live/ and issues it again, for the old names.
rm "$state/live/A"
check "after live/A was removed by hand, the daemon issues A again within 30 s" harness_wait_until 30 issued A
check "A is version 2 now" live_is A ../archive/A/2
check "the new A carries the running configuration's names, not the broken file's" \
	_h_sans_are "$state/live/A/cert.pem" "$a_domains"
check "log: A renewed because there was no certificate" grep -q 'renewd: A: Renewing (no certificate yet)' "$daemon_log"

echo "== (b) the good file again, with B added, and SIGHUP"
write_good_config with-B
n0="$(log_count 'Configuration reloaded: 2 certificates')"
kill -HUP "$daemon_pid"
check "log: Configuration reloaded: 2 certificates" harness_wait_until 10 log_grew 'Configuration reloaded: 2 certificates' "$n0"
check "B issued within 30 s of the SIGHUP" harness_wait_until 30 issued B
harness_check_cert "$state" B "$b_domains" "$H_PEBBLE_ROOT" 1
check "A left alone by the reload (still version 2)" live_is A ../archive/A/2

echo "== (c) a drop-in written to certs_dir, no signal"
n_hup="$(log_count 'Reloading the configuration (SIGHUP)')"
n0="$(log_count "$certs changed; reloading the configuration.")"
cat >"$certs/c.conf" <<-EOF
	# a drop-in
	[certificate C]
	domains = $c_domains
	webroot = $H_WEBROOT
EOF
check "log: certs_dir changed; reloading (inotify)" harness_wait_until 10 log_grew "$certs changed; reloading the configuration." "$n0"
check "log: Configuration reloaded: 3 certificates" harness_wait_until 10 grep -qF 'Configuration reloaded: 3 certificates' "$daemon_log"
check "C issued within 30 s of writing the drop-in" harness_wait_until 30 issued C
harness_check_cert "$state" C "$c_domains" "$H_PEBBLE_ROOT" 1
check "no SIGHUP was involved" test "$(log_count 'Reloading the configuration (SIGHUP)')" = "$n_hup"
check "A and B left alone (versions 2 and 1)" bash -c '[[ "$(readlink "$1/A")" == ../archive/A/2 && "$(readlink "$1/B")" == ../archive/B/1 ]]' _ "$state/live"

echo "== (c2) a broken drop-in, then removed"
n0="$(log_count 'keeping the running configuration')"
printf '[certificate D]\ndomains = d.reload.test\nwebroot = %s\nno_such_key = x\n' "$H_WEBROOT" >"$certs/d.conf"
check "broken drop-in: log says the reload failed, running configuration kept" \
	harness_wait_until 10 log_grew 'keeping the running configuration' "$n0"
check "broken drop-in: the error names $certs/d.conf:4" grep -qF "$certs/d.conf:4:" "$daemon_log"
check "the daemon is still running" harness_daemon_alive
n0="$(log_count 'Configuration reloaded: 3 certificates')"
rm "$certs/d.conf"
check "drop-in removed: the configuration reloads again (3 certificates)" \
	harness_wait_until 10 log_grew 'Configuration reloaded: 3 certificates' "$n0"
check "D was never issued" test ! -e "$state/live/D"

echo "== (d) live/A replaced by hand"
# Another valid certificate for A's names, and one for other names, made by a --once run
# with its own state directory (and its own account) against the same pebble.
cfg2="$H_DIR/other.conf"
HC_STATE_DIR="$H_DIR/state2" HC_CERTS_DIR="$H_DIR/certs2.d" harness_write_config "$cfg2"
harness_add_cert "$cfg2" A "$a_domains"
harness_add_cert "$cfg2" A-other "other.reload.test"
harness_renewd "$H_DIR/other" -c "$cfg2" --once
check "--once in the other state dir exits 0" test "$H_RC" = 0
hand="$H_DIR/state2/archive/A/1"
other="$H_DIR/state2/archive/A-other/1"
hand_serial="$(harness_serial "$hand/cert.pem" 2>/dev/null || echo none)"
tree_sum() { (cd "$1" && cat cert.pem chain.pem fullchain.pem privkey.pem | cksum); }
other_sum="$(tree_sum "$other" 2>/dev/null || echo none)"

echo "-- (d1) a valid certificate for A's names"
nl="$(log_lines)"
before_next="$(grep -F 'renewd: A: Next renewal at' "$daemon_log" | tail -n 1 | sed 's/.*Next renewal at //')"
ln -s "$hand" "$state/live/.A.hand"
mv -T "$state/live/.A.hand" "$state/live/A"
check "log (-v): A: live/ changed; rescheduling" harness_wait_until 10 bash -c 'tail -n +"$2" "$1" | grep -qF "renewd: A: live/ changed; rescheduling."' _ "$daemon_log" "$((nl + 1))"
sleep 1
after_next="$(log_since "$nl" | grep -F 'renewd: A: Next renewal at' | tail -n 1 | sed 's/.*Next renewal at //')"
echo "    next renewal of A before: $before_next; after the replacement: ${after_next:-none}"
check "A rescheduled from the hand-placed certificate (a new 'Next renewal at' line)" test -n "$after_next"
check "the schedule changed with the certificate ($before_next -> $after_next)" test "$after_next" != "$before_next"
check "the hand-placed certificate is left in place (valid, names match)" \
	bash -c '[[ "$(readlink "$1")" == "$2" ]]' _ "$state/live/A" "$hand"
check "no renewal of A was started" bash -c '! tail -n +"$2" "$1" | grep -q "renewd: A: Renewing"' _ "$daemon_log" "$((nl + 1))"
check "live/A serves the hand-placed serial $hand_serial" \
	test "$(harness_serial "$state/live/A/cert.pem" 2>/dev/null)" = "$hand_serial"

echo "-- (d2) a certificate for other names"
nl="$(log_lines)"
ln -s "$other" "$state/live/.A.hand"
mv -T "$state/live/.A.hand" "$state/live/A"
check "log: A renewed because the domains changed" \
	harness_wait_until 10 bash -c 'tail -n +"$2" "$1" | grep -qF "renewd: A: Renewing (domains changed)."' _ "$daemon_log" "$((nl + 1))"
check "A issued again within 30 s (live/A -> ../archive/A/3)" harness_wait_until 30 live_is A ../archive/A/3
harness_check_cert "$state" A "$a_domains" "$H_PEBBLE_ROOT" 3
check "the files the hand-placed link pointed to were not modified" \
	test "$(tree_sum "$other" 2>/dev/null || echo gone)" = "$other_sum"

echo "== (e) SIGTERM"
harness_stop_daemon
check "daemon exits within 10 s of SIGTERM (took $stop_secs s)" test "$stop_rc" != timeout
check "daemon exit status is 0 (got $stop_rc)" test "$stop_rc" = 0
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "no challenge journal entries left in pending/" \
	bash -c '[[ ! -d "$1" || -z "$(ls -A "$1")" ]]' _ "$state/pending"
check "no renewal failed" bash -c '! grep -q "Renewal failed" "$1"' _ "$daemon_log"
check "no sanitizer report in the daemon log" \
	bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ "$daemon_log"
echo "daemon log (info lines):"
grep -v 'Next renewal at\|: validated$\|: wrote http-01' "$daemon_log" | sed 's/^/    | /' | head -60

harness_done
