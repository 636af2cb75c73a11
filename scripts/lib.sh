# shellcheck shell=bash disable=SC2034,SC2119
# scripts/lib.sh — shared by scripts/test and scripts/demo (sourced, not run).

RENEWD_SRCROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# nginx lives in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
export PATH

# Everything the build, the unit tests, the integration tests and the demo need on Debian 12.
# (libc6-dev: gcc only recommends it, and we install without recommends.)
RENEWD_PACKAGES=(
	meson ninja-build pkg-config gcc libc6-dev
	libssl-dev libcurl4-openssl-dev libcjson-dev libsystemd-dev
	pebble nginx-light openssl curl valgrind python3
	systemd util-linux mount libseccomp2 scdoc
	bind9 bind9-dnsutils dbus-daemon certbot
)

renewd_say() { printf '==> %s\n' "$*" >&2; }
renewd_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# renewd_missing_packages PKG... — prints the packages that are not installed.
renewd_missing_packages() {
	local p status
	for p in "$@"; do
		status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" || status=""
		[[ "$status" == installed ]] || printf '%s\n' "$p"
	done
}

# renewd_install_packages [PKG...] — install whatever is missing (default: RENEWD_PACKAGES)
# with apt-get; runs apt-get update once, only when something has to be installed.
renewd_install_packages() {
	local -a want missing sudo=()
	if (($# > 0)); then want=("$@"); else want=("${RENEWD_PACKAGES[@]}"); fi
	if ! command -v dpkg-query >/dev/null 2>&1; then
		renewd_say "not a Debian system (no dpkg-query): not installing packages, hoping they are there"
		return 0
	fi
	mapfile -t missing < <(renewd_missing_packages "${want[@]}")
	if ((${#missing[@]} == 0)); then
		renewd_say "all required packages are installed"
		return 0
	fi
	renewd_say "installing missing packages: ${missing[*]}"
	if ((EUID != 0)); then
		command -v sudo >/dev/null 2>&1 || renewd_die "not root and no sudo; please install: ${missing[*]}"
		sudo=(sudo)
	fi
	# Keep package maintainer scripts from starting services (nginx on :80) on a CI box
	# that has no policy of its own; removed again afterwards.
	local policy=/usr/sbin/policy-rc.d added_policy=0
	if [[ ! -e "$policy" ]]; then
		if "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 0755 $policy"; then
			added_policy=1
		fi
	fi
	local rc=0
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || rc=$?
	if ((rc == 0)); then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${missing[@]}" || rc=$?
	fi
	if ((added_policy)); then
		"${sudo[@]}" rm -f "$policy" || true
	fi
	((rc == 0)) || renewd_die "apt-get failed (exit $rc) installing: ${missing[*]}"
	mapfile -t missing < <(renewd_missing_packages "${want[@]}")
	((${#missing[@]} == 0)) || renewd_die "still missing after apt-get: ${missing[*]}"
}

# renewd_setup_build DIR [MESON-OPTION...] — configure DIR (reconfigure if it exists) and
# compile it.  Returns non-zero on failure.
renewd_setup_build() {
	local dir="$1"
	shift
	if [[ -f "$dir/meson-private/coredata.dat" ]]; then
		renewd_say "reconfiguring $dir $*"
		meson setup --reconfigure "$dir" "$@" || return 1
	else
		renewd_say "configuring $dir $*"
		meson setup "$dir" "$@" || return 1
	fi
	renewd_say "compiling $dir"
	meson compile -C "$dir" || return 1
}
