#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# Crash safety: kill -9 the daemon at random moments during renewals, 50 times.
#
# Pebble issues certificates valid for 4 s (certificateValidityPeriod 4; Pebble makes that
# notBefore + 3 s), so the half-life rule makes each one due about 2 s after issuance.  Two
# certificates renew side by side (max_parallel 4).  Each round starts the daemon, waits
# until it logs "Renewing" (a round where nothing is due yet first waits, with the daemon
# stopped, until something is; every fifth round does not wait for the log line at all, to
# kill during start-up as well), sleeps a random 0-400 ms (skewed towards 0), sends SIGKILL
# and reaps it.
# After every kill, with the daemon dead:
#   - every live/<name> that exists is a symlink to ../archive/<name>/<N> whose cert.pem,
#     chain.pem, fullchain.pem and privkey.pem are complete: they parse, the key matches
#     the certificate, fullchain = cert + chain, the chain leads to Pebble's root;
#   - every file in the webroot's .well-known/acme-challenge/ is recorded in STATE/pending/
#     (the journal of challenges in flight), so the next start can remove it;
#   - the challenge files left by the previous kill are gone once the next daemon got as
#     far as "Managing N certificates" (it sweeps the journal before that line).
# At the end the daemon runs once more for 3 s and is stopped with SIGTERM while a renewal
# is in flight (a clean stop abandons it and removes its challenges): exit status 0, the
# challenge directory and STATE/pending/ are empty, every live certificate and every
# archived version is complete.  At least 20 renewals must have completed in all.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init crash
harness_need_renewd
H_PEBBLE_VALIDITY=4
harness_start_all

ROUNDS="${CRASH_ROUNDS:-50}"
MIN_RENEWALS="${CRASH_MIN_RENEWALS:-20}"
cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
runs="$H_DIR/runs"
chdir="$H_WEBROOT/.well-known/acme-challenge"
names=(crash-a crash-b)
declare -A doms=([crash-a]="crash-a.test www.crash-a.test" [crash-b]="crash-b.test")
mkdir -p "$runs"

harness_write_config "$cfg"
for n in "${names[@]}"; do
	harness_add_cert "$cfg" "$n" "${doms[$n]}" keep_versions=1000
done

# ---------------------------------------------------------------------------------------
# the daemon

DPID=""
start_daemon() { # LOG
	"$RENEWD" -v -c "$cfg" >"$1" 2>&1 </dev/null &
	DPID=$!
	_h_register "$DPID" renewd
}

kill_daemon() {
	kill -KILL "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	harness_stop renewd # forget the (reaped) pid
}

# wait_log LOG PATTERN SECONDS — poll the log every 10 ms.
wait_log() {
	local deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# Seconds from now until the first certificate is due (0 when one is due or missing): the
# half-life rule, notAfter - lifetime/2 (jitter is lifetime/20 = 0 s here).
secs_until_due() {
	local n nb na due now min=999999
	now="$(date +%s)"
	for n in "${names[@]}"; do
		if [[ ! -s "$state/live/$n/cert.pem" ]]; then
			echo 0
			return
		fi
		nb="$(date -u -d "$(openssl x509 -noout -startdate -in "$state/live/$n/cert.pem" | sed 's/^notBefore=//')" +%s)"
		na="$(date -u -d "$(openssl x509 -noout -enddate -in "$state/live/$n/cert.pem" | sed 's/^notAfter=//')" +%s)"
		due=$((na - (na - nb) / 2))
		((due - now < min)) && min=$((due - now))
	done
	((min < 0)) && min=0
	echo "$min"
}

# ---------------------------------------------------------------------------------------
# the checks (each prints why it fails)

# version_complete DIR — the four files of one version are complete and consistent.
version_complete() {
	local d="$1" f
	for f in cert chain fullchain privkey; do
		[[ -s "$d/$f.pem" ]] || { echo "    $d/$f.pem is missing or empty"; return 1; }
	done
	[[ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$d/cert.pem")" == 1 ]] ||
		{ echo "    $d/cert.pem does not hold exactly one certificate"; return 1; }
	openssl x509 -noout -in "$d/cert.pem" 2>/dev/null || { echo "    $d/cert.pem does not parse"; return 1; }
	_h_same_pubkey "$d/privkey.pem" "$d/cert.pem" || { echo "    $d: privkey.pem does not match cert.pem"; return 1; }
	_h_fullchain_is_cert_plus_chain "$d" || { echo "    $d: fullchain.pem is not cert.pem + chain.pem"; return 1; }
	# The certificates live 3 s: their validity period is no business of this check.
	local out
	out="$(openssl verify -no_check_time -CAfile "$H_PEBBLE_ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" 2>&1)" ||
		{ echo "    $d: $out"; return 1; }
}

# live_ok NAME — absent, or a link to a complete archive version.
live_ok() {
	local n="$1" l="$state/live/$1" t
	[[ -e "$l" || -L "$l" ]] || return 0
	[[ -L "$l" ]] || { echo "    live/$n is not a symlink"; return 1; }
	t="$(readlink "$l")"
	[[ "$t" =~ ^\.\./archive/$n/[1-9][0-9]*$ ]] || { echo "    live/$n -> $t"; return 1; }
	[[ -d "$l" ]] || { echo "    live/$n -> $t, which does not exist"; return 1; }
	version_complete "$l"
}

# Files in the challenge directory / journal entries (dot names are temporary files).
challenge_files() { [[ -d "$chdir" ]] && find "$chdir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort; return 0; }
journal_tokens() { [[ -d "$state/pending" ]] && find "$state/pending" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\n' | sort; return 0; }

# webroot_journaled — every challenge file is in the journal.
webroot_journaled() {
	local stray
	stray="$(comm -23 <(challenge_files) <(journal_tokens))"
	[[ -z "$stray" ]] || { echo "    challenge files not in STATE/pending/: $stray"; return 1; }
}

# none_of_left FILE — none of the challenge files listed in FILE is still there.
none_left_of() {
	local still
	still="$(comm -12 <(challenge_files) <(sort "$1"))"
	[[ -z "$still" ]] || { echo "    still in the webroot after a restart: $still"; return 1; }
}

versions_of() { find "$state/archive/$1" -mindepth 1 -maxdepth 1 -type d -regex '.*/[1-9][0-9]*' 2>/dev/null | wc -l; }
total_versions() { local n t=0; for n in "${names[@]}"; do t=$((t + $(versions_of "$n"))); done; echo "$t"; }

# phase LOG NAME — how far NAME's renewal got in this run.
phase() {
	local line
	line="$(grep -E "^renewd: $2: (Renewing|order-created|wrote http-01|challenge-ready|validated|finalized|downloaded|Renewed)" "$1" | tail -n 1)" || true
	case "$line" in
	"") echo idle ;;
	*Renewed*) echo installed ;;
	*downloaded*) echo downloaded ;;
	*finalized*) echo finalized ;;
	*validated*) echo validated ;;
	*challenge-ready*) echo challenge-ready ;;
	*"wrote http-01"*) echo challenge-written ;;
	*order-created*) echo order-created ;;
	*) echo renewing ;;
	esac
}

# ---------------------------------------------------------------------------------------

round_failures=0
swept_runs=0
declare -A phases=()
: >"$H_DIR/left.prev"
t_loop=$SECONDS

echo "== $ROUNDS rounds of start, random delay, kill -9"
for ((i = 1; i <= ROUNDS; i++)); do
	log="$runs/$i.log"
	startup_kill=$((i % 5 == 0))
	if ((!startup_kill)); then
		w="$(secs_until_due)"
		# Due at the start of second w from now: wait for that second to begin.
		if ((w > 0)); then
			target=$(($(date +%s) + w))
			while (($(date +%s) < target)); do sleep 0.02; done
		fi
	fi
	start_daemon "$log"
	if ((!startup_kill)); then
		wait_log "$log" 'Renewing' 5 || h_log "round $i: no \"Renewing\" within 5 s"
	fi
	# 0-400 ms, skewed towards 0 (the square of a uniform draw): a renewal against Pebble
	# takes well under 100 ms, and about half of the kills should land inside one.
	r=$((RANDOM % 401))
	ms=$((r * r / 400))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill_daemon

	fail=0
	summary=""
	for n in "${names[@]}"; do
		p="$(phase "$log" "$n")"
		phases[$p]=$((${phases[$p]:-0} + 1))
		summary+=" $n:$p"
		live_ok "$n" || { echo "     round $i: live/$n is not complete"; fail=1; }
	done
	webroot_journaled || { echo "     round $i: a challenge file is not journaled"; fail=1; }
	if grep -q 'Managing [0-9]* certificate' "$log"; then
		none_left_of "$H_DIR/left.prev" || { echo "     round $i: the restart did not remove the leftovers"; fail=1; }
	fi
	grep -q 'challenge files\? left behind by an earlier run' "$log" && swept_runs=$((swept_runs + 1))
	if grep -E -q 'AddressSanitizer|runtime error:' "$log"; then
		echo "     round $i: sanitizer report"
		fail=1
	fi
	challenge_files >"$H_DIR/left.prev"
	left=$(wc -l <"$H_DIR/left.prev")
	printf '     round %2d: %s kill after %3d ms;%s; versions %d; challenge files left %d\n' \
		"$i" "$( ((startup_kill)) && echo "start-up" || echo "renewing")" "$ms" "$summary" "$(total_versions)" "$left"
	if ((fail)); then
		round_failures=$((round_failures + 1))
		sed 's/^/       | /' "$log" | tail -n 20
	fi
done
loop_secs=$((SECONDS - t_loop))

check "after each of $ROUNDS kills: live certificates complete, challenge files journaled, leftovers swept on restart" \
	test "$round_failures" = 0
echo "     kill points (per certificate and round):$(for p in "${!phases[@]}"; do printf ' %s=%d' "$p" "${phases[$p]}"; done)"
echo "     restarts that removed challenge files left by a kill: $swept_runs"
echo "     rounds took $loop_secs s"

echo "== a last run of 3 s, stopped with SIGTERM during a renewal"
log="$runs/final.log"
start_daemon "$log"
sleep 3
# Stop it while a renewal is in flight if one comes within 3 s more (certificates are due
# every 2 s), so that the clean stop has challenges to remove.
n0="$(grep -c 'Renewing' "$log" || true)"
for ((k = 0; k < 300; k++)); do
	[[ "$(grep -c 'Renewing' "$log" || true)" -gt "$n0" ]] && break
	sleep 0.01
done
sleep 0.03
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
harness_stop renewd
sed 's/^/    | /' "$log" | grep -v -E 'Next renewal|live/ changed' | tail -n 30
check "SIGTERM: exit status 0" test "$rc" = 0
grep -q 'renewals in flight are abandoned' "$log" && echo "     (a renewal was in flight at SIGTERM)"
check "the challenge directory is empty" harness_no_challenge_leftovers "$H_WEBROOT"
check "STATE/pending/ is empty (no journal entry, no temporary file)" \
	bash -c '[[ ! -d "$1" || -z "$(ls -A "$1")" ]] || { echo "    left in pending/: $(ls -A "$1" | tr "\n" " ")"; exit 1; }' _ "$state/pending"
for n in "${names[@]}"; do
	check "$n: live/$n exists" test -L "$state/live/$n"
	check "$n: live/$n is complete and consistent" live_ok "$n"
	bad=0
	for d in "$state/archive/$n"/*/; do
		d="${d%/}"
		[[ "$(basename "$d")" =~ ^[1-9][0-9]*$ ]] || continue
		version_complete "$d" || bad=$((bad + 1))
	done
	check "$n: all $(versions_of "$n") archived versions are complete" test "$bad" = 0
done
check "no sanitizer reports in any run" bash -c '! grep -l -E "AddressSanitizer|LeakSanitizer|runtime error:" "$1"/*.log' _ "$runs"
stale="$(find "$state/archive" -mindepth 2 -maxdepth 2 -name '.new-*' | wc -l)"
echo "     unfinished .new-N version directories left in archive/ (swept by the next install): $stale"

total="$(total_versions)"
renewals=$((total - ${#names[@]}))
echo "     archive versions: $total ($(for n in "${names[@]}"; do printf '%s=%d ' "$n" "$(versions_of "$n")"; done)); renewals after the first issuance: $renewals"
check "at least $MIN_RENEWALS renewals completed across the run ($renewals)" test "$renewals" -ge "$MIN_RENEWALS"

harness_done
