#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Real renewals by the daemon: pebble issues 60-second certificates
# (certificateValidityPeriod 60), so without ARI the daemon renews at half-life minus a
# jitter of up to 3 s, i.e. every 27-30 s.  For SOAK_SECONDS (default 300;
# RENEWD_SOAK_SECONDS overrides) the test looks at live/<name> once a second: a
# certificate is always there, verifies against pebble's root with its own chain, matches
# its private key and has not expired — no lapse, never a key from one version and a
# certificate from another.  Distinct serials count the renewals (at least one per 40 s).
# Then SIGTERM: exit 0 within 10 s, no challenge file left in the webroot, nothing left in
# the challenge journal (pending/).
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init daemon-soak
harness_need_renewd

SOAK_SECONDS="${RENEWD_SOAK_SECONDS:-300}"
[[ "$SOAK_SECONDS" =~ ^[1-9][0-9]*$ ]] || h_die "RENEWD_SOAK_SECONDS must be a positive integer"
MIN_RENEWALS=$((SOAK_SECONDS / 40))

H_PEBBLE_VALIDITY=60
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
name=soak
domains="soak.test www.soak.test"
harness_write_config "$cfg"
harness_add_cert "$cfg" "$name" "$domains" key_type=ec-256
live="$state/live/$name"

# --- the daemon: started and stopped by pid -------------------------------------------
daemon_log="$H_DIR/daemon.log"
H_LOGS+=("$daemon_log")
harness_start_daemon "$cfg" "$daemon_log" "$H_DIR/daemon.out"

# --- one look at live/<name> ----------------------------------------------------------
# Copy the version live/<name> points to and check the copy: the link is resolved once,
# and re-read afterwards; if it moved meanwhile (a renewal swapped it, and pruning may have
# removed the old directory) the look is repeated, as any reader has to.
snap="$H_DIR/snap"
look() {
	local try target again
	for try in 1 2 3; do
		rm -rf "$snap"
		target="$(readlink "$live" 2>/dev/null)" || { look_err="live/$name is missing"; return 1; }
		mkdir "$snap"
		cp "$live/cert.pem" "$live/chain.pem" "$live/privkey.pem" "$snap/" 2>/dev/null || true
		again="$(readlink "$live" 2>/dev/null)" || true
		[[ "$again" == "$target" ]] && break
	done
	look_target="$target"
	if [[ ! -s "$snap/cert.pem" || ! -s "$snap/privkey.pem" || ! -s "$snap/chain.pem" ]]; then
		look_err="$target: cert.pem, chain.pem or privkey.pem missing or empty"
		return 1
	fi
	local out
	if ! out="$(openssl verify -CAfile "$H_PEBBLE_ROOT" -untrusted "$snap/chain.pem" "$snap/cert.pem" 2>&1)"; then
		look_err="$target: does not verify: $out"
		return 1
	fi
	if ! _h_same_pubkey "$snap/privkey.pem" "$snap/cert.pem"; then
		look_err="$target: privkey.pem does not match cert.pem"
		return 1
	fi
	if ! openssl x509 -checkend 0 -noout -in "$snap/cert.pem" >/dev/null 2>&1; then
		look_err="$target: expired ($(openssl x509 -noout -enddate -in "$snap/cert.pem"))"
		return 1
	fi
	look_serial="$(harness_serial "$snap/cert.pem")"
	look_left=$(($(date -d "$(openssl x509 -noout -enddate -in "$snap/cert.pem" | sed 's/^notAfter=//')" +%s) - $(date +%s)))
	return 0
}

echo "== the daemon issues the first certificate (bounded wait 60 s)"
t_first=$SECONDS
for ((i = 0; i < 600; i++)); do
	[[ -L "$live" && -s "$live/cert.pem" ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
check "daemon issued live/$name within 60 s (took $((SECONDS - t_first)) s)" test -s "$live/cert.pem"
if [[ ! -s "$live/cert.pem" ]]; then
	echo "FAIL - nothing issued; cannot soak"
	exit 1
fi
harness_check_cert "$state" "$name" "$domains" "$H_PEBBLE_ROOT" 1 ec-256
lifetime=$(($(date -d "$(openssl x509 -noout -enddate -in "$live/cert.pem" | sed 's/^notAfter=//')" +%s) - $(date -d "$(openssl x509 -noout -startdate -in "$live/cert.pem" | sed 's/^notBefore=//')" +%s)))
echo "certificate lifetime: $lifetime s"

echo "== soak for $SOAK_SECONDS s: one look a second (want >= $MIN_RENEWALS renewals)"
declare -A seen=()
serials=()
renew_times=()
bad_looks=0
looks=0
min_left=999999
first_bad=""
soak_t0=$(date +%s)
deadline=$((soak_t0 + SOAK_SECONDS))
daemon_died=0
while (($(date +%s) < deadline)); do
	tick=$(date +%s)
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		daemon_died=1
		break
	fi
	looks=$((looks + 1))
	if look; then
		((look_left < min_left)) && min_left=$look_left
		if [[ -z "${seen[$look_serial]:-}" ]]; then
			seen[$look_serial]=$tick
			serials+=("$look_serial")
			renew_times+=("$(date -u -d "@$tick" +%H:%M:%S) +$((tick - soak_t0))s ${look_target##*/} $look_serial")
		fi
	else
		bad_looks=$((bad_looks + 1))
		[[ -n "$first_bad" ]] || first_bad="at +$((tick - soak_t0)) s: $look_err"
		echo "    bad look at +$((tick - soak_t0)) s: $look_err"
	fi
	# next whole second
	while (($(date +%s) == tick)); do sleep 0.05; done
done
renewals=$((${#serials[@]} - 1))
# the shortest time between two serials seen (the policy: 27-30 s for 60 s certificates)
min_gap=999999
prev=""
for s in "${serials[@]}"; do
	if [[ -n "$prev" ]]; then
		gap=$((seen[$s] - seen[$prev]))
		((gap < min_gap)) && min_gap=$gap
	fi
	prev=$s
done

echo "certificates seen (time, offset, version, serial):"
printf '    %s\n' "${renew_times[@]}"
echo "daemon log, renewals:"
grep -E 'Renewed in|Renewal failed' "$daemon_log" | sed 's/^/    | /' || true

check "the daemon ran for the whole soak" test "$daemon_died" = 0
check "every one of $looks looks found a complete certificate that verifies, matches its key and has not expired${first_bad:+ (first bad: $first_bad)}" \
	test "$bad_looks" = 0
check "at least one look a second on average ($looks in $SOAK_SECONDS s)" test "$looks" -ge $((SOAK_SECONDS * 9 / 10))
check "at least $MIN_RENEWALS renewals in $SOAK_SECONDS s (saw $renewals)" test "$renewals" -ge "$MIN_RENEWALS"
check "no renewal came earlier than a third of the lifetime after the previous one (shortest gap: $min_gap s)" \
	test "$min_gap" -ge $((lifetime / 3))
check "the certificate never came closer than 10 s to expiry (least left: $min_left s)" test "$min_left" -ge 10
n_renewed_log="$(grep -c "renewd: $name: Renewed in" "$daemon_log" || true)"
n_failed_log="$(grep -c "renewd: $name: Renewal failed" "$daemon_log" || true)"
check "no renewal failed against a healthy CA (log: $n_failed_log failures)" test "$n_failed_log" = 0
check "log shows as many renewals as serials seen (log: $n_renewed_log, serials: ${#serials[@]})" \
	test "$n_renewed_log" -ge "${#serials[@]}"
check "log has debug 'Next renewal at' lines (-v)" grep -q "renewd: $name: Next renewal at" "$daemon_log"

echo "== SIGTERM"
harness_stop_daemon
check "daemon exits within 10 s of SIGTERM (took $stop_secs s)" test "$stop_rc" != timeout
check "daemon exit status is 0 (got $stop_rc)" test "$stop_rc" = 0
check "log says it stops on SIGTERM" grep -q 'Stopping (SIGTERM)' "$daemon_log"
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "no challenge journal entries left in pending/" \
	bash -c '[[ ! -d "$1" || -z "$(ls -A "$1")" ]] || { echo "    left: $(ls -A "$1")"; exit 1; }' _ "$state/pending"
check "no .new-* version directory left" \
	bash -c '[[ -z "$(find "$1" -name ".new-*")" ]]' _ "$state/archive"
check "no sanitizer report in the daemon log" \
	bash -c '! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$1"' _ "$daemon_log"
versions="$(find "$state/archive/$name" -mindepth 1 -maxdepth 1 -regex '.*/[0-9]+' -printf '%f\n' | sort -n | tr '\n' ' ' | sed 's/ $//')"
echo "archive/$name after the soak: $versions"
check "old versions pruned: at most 5 kept (the default keep_versions; kept: $versions)" \
	test "$(wc -w <<<"$versions")" -le 5
# the installed version after the stop is complete too
final_ver="$(readlink "$live" | sed 's|.*/||')"
harness_check_cert "$state" "$name" "$domains" "$H_PEBBLE_ROOT" "$final_ver" ec-256

harness_done
