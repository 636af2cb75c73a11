#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2119,SC2034
# renewd --check-config: a good configuration is printed in effect (defaults inherited)
# with exit 0; each kind of bad file gets FILE:LINE: and a non-zero exit.  No servers.
set -euo pipefail
source "$(dirname "$0")/harness.sh"
harness_init check-config
harness_need_renewd
harness_gen_tls
H_WEBROOT="$H_DIR/webroot"
mkdir -p "$H_WEBROOT"
HC_DIRECTORY="https://127.0.0.1:9/dir"
export HC_DIRECTORY

# lineno FILE PATTERN — line number of the first line matching PATTERN
lineno() { grep -n -m1 -e "$2" "$1" | cut -d: -f1; }

echo "== good configuration"
good="$H_DIR/good.conf"
HC_KEY_TYPE=ec-384 harness_write_config "$good"
harness_add_cert "$good" site-one "one.example.test www.one.example.test"
harness_add_cert "$good" site-two "two.example.test" key_type=rsa-3072
cat >"$H_DIR/certs.d/extra.conf" <<-EOF2
	[certificate dropin-cert]
	domains = dropin.example.test
	webroot = $H_WEBROOT
EOF2
harness_renewd "$H_DIR/good" -c "$good" --check-config
check "good config: exit 0" test "$H_RC" = 0
check "good config: prints certificate site-one" grep -q 'site-one' "$H_DIR/good"
check "good config: prints its domains" grep -q 'www.one.example.test' "$H_DIR/good"
check "good config: prints site-two's own key_type rsa-3072" grep -q 'rsa-3072' "$H_DIR/good"
check "good config: prints the inherited key_type ec-384" grep -q 'ec-384' "$H_DIR/good"
check "good config: prints the state_dir" grep -qF "$H_DIR/state" "$H_DIR/good"
check "good config: includes the certs.d drop-in certificate" grep -q 'dropin-cert' "$H_DIR/good"
check "good config: creates no state" test ! -e "$H_DIR/state/live"
rm -f "$H_DIR/certs.d/extra.conf"

# bad NAME DESCRIPTION FILE LINE — run --check-config on FILE, expect FILE:LINE:
bad() {
	local name="$1" desc="$2" file="$3" line="$4" cfg="${5:-$3}"
	harness_renewd "$H_DIR/bad-$name" -c "$cfg" --check-config
	check "$desc: exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
	check "$desc: message starts with $(basename "$file"):$line:" grep -qF "$file:$line:" "$H_DIR/bad-$name"
}

echo "== unknown key"
f="$H_DIR/unknown-key.conf"
harness_write_config "$f"
harness_add_cert "$f" site-one "one.example.test" "colour=blue"
bad unknown "unknown key 'colour'" "$f" "$(lineno "$f" '^colour')"
check "unknown key: the message names the key" grep -q 'colour' "$H_DIR/bad-unknown"

echo "== unknown key in [daemon]"
f="$H_DIR/unknown-daemon-key.conf"
harness_write_config "$f"
sed -i 's/^max_parallel = .*/&\nmax_paralel = 2/' "$f"
harness_add_cert "$f" site-one "one.example.test"
bad unknown-daemon "misspelt max_paralel in [daemon]" "$f" "$(lineno "$f" '^max_paralel')"

echo "== relative path"
f="$H_DIR/relative.conf"
harness_write_config "$f"
harness_add_cert "$f" site-one "one.example.test" "webroot=relative/webroot"
bad relative "relative webroot" "$f" "$(lineno "$f" '^webroot = relative')"

echo "== bad value"
f="$H_DIR/bad-value.conf"
harness_write_config "$f"
harness_add_cert "$f" site-one "one.example.test" "key_type=ec-999"
bad value "key_type = ec-999" "$f" "$(lineno "$f" '^key_type = ec-999')"

echo "== error in a certs.d drop-in"
f="$H_DIR/dropin-main.conf"
harness_write_config "$f"
d="$H_DIR/certs.d/broken.conf"
printf '# drop-in\n[certificate broken]\ndomains = broken.example.test\nwebroot = %s\nfrobnicate = yes\n' "$H_WEBROOT" >"$d"
bad dropin "unknown key in drop-in" "$d" 5 "$f"
rm -f "$d"

echo "== missing domains"
f="$H_DIR/missing.conf"
harness_write_config "$f"
printf '\n[certificate nodomains]\nwebroot = %s\n' "$H_WEBROOT" >>"$f"
harness_renewd "$H_DIR/bad-missing" -c "$f" --check-config
check "missing domains: exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "missing domains: message has $(basename "$f"):LINE:" grep -Eq "$(printf '%s' "$f" | sed 's/[.[\*^$/]/\\&/g'):[0-9]+:" "$H_DIR/bad-missing"

echo "== duplicate certificate name"
f="$H_DIR/duplicate.conf"
harness_write_config "$f"
harness_add_cert "$f" twice "a.example.test"
harness_add_cert "$f" twice "b.example.test"
bad duplicate "duplicate [certificate twice]" "$f" "$(grep -n '^\[certificate twice\]' "$f" | tail -n1 | cut -d: -f1)"

echo "== missing file"
harness_renewd "$H_DIR/bad-nofile" -c "$H_DIR/does-not-exist.conf" --check-config
check "missing config file: exits with a failure status, not a crash (got $H_RC)" harness_failed_cleanly
check "missing config file: message names the file" grep -qF "does-not-exist.conf" "$H_DIR/bad-nofile"

harness_done
