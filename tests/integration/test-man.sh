#!/bin/bash
# The man pages (docs/*.scd): each builds with scdoc without a warning, renewctl.1 names
# every command and option `renewctl --help` lists, and renewd.conf.5 every key that
# `renewd --check-config` prints for conf/renewd.conf (with conf/certs.d as its drop-ins).
# Skipped (77) without scdoc. No servers.
set -euo pipefail

SRCROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${RENEWD:=$SRCROOT/build/daemon/renewd}"
: "${RENEWCTL:=$SRCROOT/build/ctl/renewctl}"

if ! command -v scdoc >/dev/null 2>&1; then
	echo "SKIP: scdoc is not installed (apt-get install scdoc)"
	exit 77
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
pass() { echo "ok: $*"; }

echo "== every page builds without warnings"
for page in renewd.8 renewctl.1 renewd.conf.5; do
	src="$SRCROOT/docs/$page.scd"
	if ! scdoc <"$src" >"$TMP/$page" 2>"$TMP/$page.err"; then
		fail "$page: scdoc failed: $(cat "$TMP/$page.err")"
	elif [[ -s "$TMP/$page.err" ]]; then
		fail "$page: scdoc warned: $(cat "$TMP/$page.err")"
	elif [[ ! -s "$TMP/$page" ]]; then
		fail "$page: empty output"
	else
		pass "$page builds"
	fi
	# And renders without troff warnings, where man-db is installed.
	if command -v man >/dev/null 2>&1 && [[ -s "$TMP/$page" ]]; then
		if ! MANWIDTH=80 man --warnings -E UTF-8 -l "$TMP/$page" >"$TMP/$page.txt" 2>"$TMP/$page.merr"; then
			fail "$page: man -l failed: $(cat "$TMP/$page.merr")"
		elif [[ -s "$TMP/$page.merr" ]]; then
			fail "$page: troff warned: $(cat "$TMP/$page.merr")"
		else
			pass "$page renders"
		fi
	fi
done

echo "== renewctl.1 names every command and option of renewctl --help"
"$RENEWCTL" --help >"$TMP/help"
# Command lines: two blanks and a lower-case word between "Commands:" and "Options:"
# ("revoke, events" lists two).
mapfile -t commands < <(sed -n '/^Commands:/,/^Options:/p' "$TMP/help" |
	sed -n 's/^  \([a-z][a-z, ]*[a-z]\)\( .*\)\{0,1\}$/\1/p' |
	sed 's/  .*//; s/ [A-Z].*//' | tr ',' '\n' | tr -d ' ' | grep -v '^$' | sort -u)
mapfile -t options < <(grep -o -- '--[a-z][a-z-]*' "$TMP/help" | sort -u)
if ((${#commands[@]} < 5)); then
	fail "found only ${#commands[@]} commands in renewctl --help: ${commands[*]}"
fi
for cmd in "${commands[@]}"; do
	if grep -q -F -- "*$cmd*" "$SRCROOT/docs/renewctl.1.scd"; then
		pass "command $cmd"
	else
		fail "renewctl.1 does not document the command $cmd"
	fi
done
for opt in "${options[@]}"; do
	if grep -q -F -- "*$opt*" "$SRCROOT/docs/renewctl.1.scd"; then
		pass "option $opt"
	else
		fail "renewctl.1 does not document the option $opt"
	fi
done

echo "== renewd.conf.5 names every key of renewd --check-config"
sed "s|^certs_dir = .*|certs_dir = $SRCROOT/conf/certs.d|" "$SRCROOT/conf/renewd.conf" >"$TMP/renewd.conf"
if ! "$RENEWD" --check-config -c "$TMP/renewd.conf" >"$TMP/effective" 2>"$TMP/effective.err"; then
	fail "renewd --check-config of conf/renewd.conf failed: $(cat "$TMP/effective.err")"
fi
mapfile -t keys < <(sed -n 's/^\([a-z_][a-z0-9_]*\) =.*/\1/p' "$TMP/effective" | sort -u)
if ((${#keys[@]} < 20)); then
	fail "found only ${#keys[@]} keys in the output of renewd --check-config"
fi
grep -q '^\[certificate ' "$TMP/effective" || fail "no [certificate] section in the effective configuration"
for key in "${keys[@]}"; do
	if grep -q -F -- "*$key* =" "$SRCROOT/docs/renewd.conf.5.scd"; then
		pass "key $key"
	else
		fail "renewd.conf.5 does not document the key $key"
	fi
done

if ((failed)); then
	echo "man pages: FAILED"
	exit 1
fi
echo "man pages: all checks passed"
