#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2016,SC2034,SC2119,SC2153,SC2317
# The daemon under renewd.service's sandbox, applied by hand (this machine's PID 1 is not
# necessarily systemd): renewd runs in daemon mode (no --once) against pebble + nginx and
# must still issue its certificates, notify READY=1, ping the watchdog, reload on SIGHUP
# and exit 0 on SIGTERM.
#
# What stands for what (see sandbox_inside below):
#   ProtectSystem=strict     every mount remounted read-only, /dev and /proc replaced
#   ReadWritePaths=          bind mounts made writable again: the state dir (StateDirectory=),
#                            the certs dir (certs.d), a run dir (RuntimeDirectory=) and the
#                            web root's .well-known/acme-challenge only, as the drop-in
#                            example recommends
#   PrivateTmp=              fresh tmpfs on /tmp and /var/tmp; this test's directory (which
#                            lives in /tmp) is carried over read-only, as the host's /etc is
#   ProtectHome=yes          /home, /root, /run/user replaced by inaccessible empty mounts
#   PrivateDevices=          a /dev with null, zero, full, random, urandom, tty only
#   ProtectProc=invisible, ProcSubset=pid   a new procfs with hidepid=invisible,subset=pid
#   ProtectKernelTunables=, ProtectControlGroups=   /sys read-only, /proc/sys absent
#   CapabilityBoundingSet=, NoNewPrivileges=        setpriv --bounding-set --no-new-privs
#   UMask=0077               umask 077
#   SystemCallFilter=, SystemCallErrorNumber=EPERM, RestrictAddressFamilies=,
#   MemoryDenyWriteExecute=, RestrictNamespaces=, LockPersonality=, RestrictSUIDSGID=
#   (chmod family), SystemCallArchitectures=native
#                            a seccomp filter loaded through libseccomp (python3 ctypes),
#                            built from the unit's own SystemCallFilter= lines and
#                            systemd-analyze's group lists; skipped with a message when
#                            python3, libseccomp or systemd-analyze is missing
# The capability set and the filter are read from systemd/renewd.service, so the test
# follows the unit. Exit 77 (skip) only when mount namespaces are not permitted here.
set -euo pipefail

SANDBOX_SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

# =======================================================================================
# Inside the mount namespace (bash test-sandbox.sh __inside CMD...), as root with all
# capabilities, before exec'ing CMD with the restrictions. Configured by SB_* variables:
#   SB_HDIR      the test's directory (carried into the sandbox read-only)
#   SB_RW        colon-separated paths under SB_HDIR to keep writable
#   SB_STAGE     an empty directory under SB_HDIR for building mounts
#   SB_PIDFILE   where to write our pid (the pid CMD keeps: only exec follows)
#   SB_CAPS      setpriv bounding set, e.g. -all,+chown,+net_bind_service
#   SB_SECCOMP   python3 helper command line prefix (empty: no seccomp layer)
#   SB_KEEP      colon-separated paths that must stay reachable (binary, script)
# =======================================================================================
sandbox_inside() {
	local S="$SB_STAGE" p k mp rel t top carried=""
	local -a rw keep
	echo "$$" >"$SB_PIDFILE"
	note() { printf 'sandbox: %s\n' "$*" >&2; }

	mount -n --make-rprivate /
	mount -n -t tmpfs -o mode=0755 renewd-stage "$S"

	# PrivateDevices=: a minimal /dev, built aside and moved over /dev at the end.
	mkdir "$S/dev"
	mount -n -t tmpfs -o mode=0755,nosuid,noexec renewd-dev "$S/dev"
	for p in null zero full random urandom tty; do
		[[ -e "/dev/$p" ]] || continue
		: >"$S/dev/$p"
		mount -n --bind "/dev/$p" "$S/dev/$p"
	done
	mkdir "$S/dev/shm" "$S/dev/pts"
	mount -n -t tmpfs -o mode=1777,nosuid,nodev renewd-shm "$S/dev/shm"
	ln -s /proc/self/fd "$S/dev/fd"
	ln -s /proc/self/fd/0 "$S/dev/stdin"
	ln -s /proc/self/fd/1 "$S/dev/stdout"
	ln -s /proc/self/fd/2 "$S/dev/stderr"

	# PrivateTmp=: new /tmp and /var/tmp. SB_HDIR is carried over read-only into the one it
	# lives in, with the writable paths bound on top.
	for t in /tmp /var/tmp; do
		[[ -d "$t" && ! -L "$t" ]] || continue
		top="$S/tmp${t//\//_}"
		mkdir "$top"
		mount -n -t tmpfs -o mode=1777,nosuid,nodev renewd-privtmp "$top"
		if [[ "$SB_HDIR" == "$t"/* && -z "$carried" ]]; then
			rel="${SB_HDIR#"$t"/}"
			mkdir -p "$top/$rel"
			mount -n --bind "$SB_HDIR" "$top/$rel"
			IFS=: read -r -a rw <<<"$SB_RW"
			for p in "${rw[@]}"; do
				mount -n --bind "$p" "$top/$rel/${p#"$SB_HDIR"/}"
			done
			mount -n -o remount,bind,ro "$top/$rel"
			carried="$t"
		fi
		# What the test runs from a tmp directory (a checkout in /tmp, as CI may have)
		# stays reachable there, read-only.
		IFS=: read -r -a keep <<<"$SB_KEEP"
		for k in "${keep[@]}"; do
			[[ "$k" == "$t"/* && "$k" != "$SB_HDIR" && "$k" != "$SB_HDIR"/* ]] || continue
			rel="${k#"$t"/}"
			if [[ -d "$k" ]]; then
				mkdir -p "$top/$rel"
			else
				mkdir -p "$top/${rel%/*}"
				: >"$top/$rel"
			fi
			mount -n --bind "$k" "$top/$rel"
			mount -n -o remount,bind,ro "$top/$rel"
		done
	done

	# ProtectSystem=strict (+ ProtectKernelTunables=, ProtectControlGroups= for /sys):
	# every mount read-only, except /proc and /dev (replaced below) and our own.
	while read -r _ _ _ _ mp _; do
		mp="$(printf '%b' "$mp")"
		case "$mp" in
		/proc | /proc/* | /dev | /dev/* | "$S" | "$S"/*) continue ;;
		esac
		if ! mount -n -o remount,bind,ro "$mp" 2>/dev/null; then
			[[ "$mp" != / ]] || { note "cannot remount / read-only"; exit 120; }
			note "could not remount $mp read-only (ignored)"
		fi
	done </proc/self/mountinfo

	# ReadWritePaths= when SB_HDIR is not in a tmp directory: writable binds in place.
	if [[ -z "$carried" ]]; then
		IFS=: read -r -a rw <<<"$SB_RW"
		for p in "${rw[@]}"; do
			mount -n --bind "$p" "$p"
			mount -n -o remount,bind,rw "$p"
		done
	fi

	# Into place. The tmp directory that holds SB_HDIR last: it hides SB_STAGE.
	mount -n --move "$S/dev" /dev
	for t in /tmp /var/tmp; do
		if [[ "$t" != "$carried" && -d "$S/tmp${t//\//_}" ]]; then
			mount -n --move "$S/tmp${t//\//_}" "$t"
		fi
	done
	if [[ -n "$carried" ]]; then
		mount -n --move "$S/tmp${carried//\//_}" "$carried"
	fi

	# ProtectProc=invisible, ProcSubset=pid (and thereby no /proc/sys, /proc/kmsg).
	if ! mount -n -t proc -o nosuid,nodev,noexec,hidepid=invisible,subset=pid renewd-proc /proc 2>/dev/null; then
		note "procfs hidepid=invisible,subset=pid not supported by this kernel: keeping /proc, /proc/sys read-only"
		mount -n --bind /proc/sys /proc/sys && mount -n -o remount,bind,ro /proc/sys
	fi

	# ProtectHome=yes: inaccessible (mode 000, read-only) empty mounts.
	for p in /home /root /run/user; do
		[[ -d "$p" ]] || continue
		IFS=: read -r -a keep <<<"$SB_KEEP"
		for k in "${keep[@]}"; do
			if [[ "$k" == "$p"/* ]]; then
				note "not hiding $p: $k lives there"
				continue 2
			fi
		done
		mount -n -t tmpfs -o ro,mode=000,nosuid,nodev,noexec renewd-inaccessible "$p"
	done

	umask 077
	# shellcheck disable=SC2086  # SB_SECCOMP is a word list
	exec setpriv --no-new-privs --inh-caps=-all --bounding-set="$SB_CAPS" -- $SB_SECCOMP "$@"
}

if [[ "${1:-}" == __inside ]]; then
	shift
	sandbox_inside "$@"
fi

# =======================================================================================
# The test
# =======================================================================================
source "$(dirname "$0")/harness.sh"
harness_init sandbox
harness_need_renewd
# SANDBOX_UNIT: another unit file to take the settings from (for trying changes).
UNIT="${SANDBOX_UNIT:-$H_SRCROOT/systemd/renewd.service}"

# --- can we do this here? --------------------------------------------------------------
for t in unshare setpriv mount; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "SKIP: $t not found (apt-get install util-linux mount)" >&2
		exit 77
	fi
done
mkdir -p "$H_DIR/nsprobe"
if ! unshare --mount --propagation private --fork \
	mount -t tmpfs renewd-probe "$H_DIR/nsprobe" >"$H_DIR/nsprobe.log" 2>&1; then
	echo "SKIP: mount namespaces are not permitted here:" >&2
	cat "$H_DIR/nsprobe.log" >&2
	exit 77
fi
check "a mount made in a private namespace does not leak out" \
	test -z "$(find "$H_DIR/nsprobe" -mindepth 1 -print -quit)"

# --- the unit's settings ----------------------------------------------------------------
# CapabilityBoundingSet= of the unit -> setpriv's syntax and /proc's CapBnd mask.
unit_caps="$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | grep -v '^$' | sort -u)"
check "the unit has a CapabilityBoundingSet=" test -n "$unit_caps"
sb_caps="-all"
capbnd_want=0
for c in $unit_caps; do
	n="$(tr '[:upper:]' '[:lower:]' <<<"${c#CAP_}")"
	sb_caps+=",+$n"
	case "$c" in
	CAP_CHOWN) bit=0 ;; CAP_DAC_OVERRIDE) bit=1 ;; CAP_DAC_READ_SEARCH) bit=2 ;;
	CAP_FOWNER) bit=3 ;; CAP_FSETID) bit=4 ;; CAP_KILL) bit=5 ;; CAP_SETGID) bit=6 ;;
	CAP_SETUID) bit=7 ;; CAP_SETPCAP) bit=8 ;; CAP_NET_BIND_SERVICE) bit=10 ;;
	CAP_NET_RAW) bit=13 ;; CAP_IPC_LOCK) bit=14 ;; CAP_SYS_ADMIN) bit=21 ;;
	*) h_die "capability $c: add its bit number to this test" ;;
	esac
	capbnd_want=$((capbnd_want | (1 << bit)))
done
printf -v capbnd_want '%016x' "$capbnd_want"
h_log "bounding set from the unit: $sb_caps (CapBnd $capbnd_want)"

# The seccomp layer: python3 + libseccomp, the unit's SystemCallFilter= lines and
# systemd-analyze's definition of the groups.
sb_seccomp=""
if command -v python3 >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze syscall-filter >"$H_DIR/syscall-groups.txt" 2>/dev/null || true
	sed -n 's/^SystemCallFilter=//p' "$UNIT" >"$H_DIR/syscall-filter.txt"
	# LeakSanitizer stops the world with ptrace() at exit, which @system-service does not
	# allow (a sanitizer build is never run under the real unit). Allow @debug for it.
	if grep -qaF -e __asan_init -e AddressSanitizer "$RENEWD" 2>/dev/null ||
		{ command -v readelf >/dev/null 2>&1 && readelf -d "$RENEWD" 2>/dev/null | grep -q 'NEEDED.*libasan'; }; then
		h_log "NOTE: renewd is built with AddressSanitizer: allowing @debug (ptrace, for LeakSanitizer)"
		echo "@debug" >>"$H_DIR/syscall-filter.txt"
	fi
	cat >"$H_DIR/seccomp.py" <<-'PY'
		# seccomp.py GROUPS FILTER -- CMD...: load a seccomp filter equivalent to the unit's
		# SystemCallFilter= (allow list), SystemCallErrorNumber=EPERM, RestrictAddressFamilies=
		# AF_UNIX AF_INET AF_INET6, MemoryDenyWriteExecute=, RestrictNamespaces=,
		# LockPersonality=, RestrictSUIDSGID= (chmod family) and SystemCallArchitectures=native,
		# then exec CMD. "--check" instead of "--": only check that it can be built.
		import ctypes, ctypes.util, errno, os, sys

		groups_file, filter_file, mode = sys.argv[1:4]
		cmd = sys.argv[4:]

		groups, cur = {}, None
		for line in open(groups_file):
		    if line.startswith("@"):
		        cur = groups.setdefault(line.split()[0], [])
		    elif line.startswith("#") or not line.strip():
		        cur = None if line.startswith("#") else cur
		    elif cur is not None and not line.strip().startswith("#"):
		        cur.append(line.split()[0])

		def expand(name, seen=()):
		    if not name.startswith("@"):
		        return {name}
		    if name not in groups:
		        sys.exit("seccomp.py: unknown group " + name)
		    out = set()
		    for m in groups[name]:
		        if m not in seen:
		            out |= expand(m, seen + (name,))
		    return out

		allow, first = set(), True
		for line in open(filter_file):
		    words = line.split()
		    if not words:
		        continue
		    deny = words[0].startswith("~")
		    if deny:
		        words[0] = words[0][1:]
		    if first:
		        if deny:
		            sys.exit("seccomp.py: a deny-list filter is not supported")
		        allow |= expand("@default")   # systemd adds @default to every allow list
		    first = False
		    for w in words:
		        allow = (allow - expand(w)) if deny else (allow | expand(w))

		lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
		class Cmp(ctypes.Structure):
		    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
		                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]
		lib.seccomp_init.restype = ctypes.c_void_p
		lib.seccomp_init.argtypes = [ctypes.c_uint32]
		lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
		lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
		                                       ctypes.c_uint, ctypes.POINTER(Cmp)]
		lib.seccomp_load.argtypes = [ctypes.c_void_p]
		ALLOW = 0x7FFF0000
		def ERRNO(e): return 0x00050000 | (e & 0xFFFF)
		EQ, GT, MASKED_EQ = 4, 6, 7

		ctx = lib.seccomp_init(ERRNO(errno.EPERM))
		if not ctx:
		    sys.exit("seccomp.py: seccomp_init failed")

		def rule(action, name, *cmps):
		    nr = lib.seccomp_syscall_resolve_name(name.encode())
		    if nr < 0:      # not a system call of this architecture
		        return
		    arr = (Cmp * max(1, len(cmps)))(*[Cmp(*c) for c in cmps])
		    r = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
		    if r < 0:
		        sys.exit("seccomp.py: rule for %s: %s" % (name, os.strerror(-r)))

		NS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
		special = {
		    # RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 (others: EAFNOSUPPORT)
		    "socket": [(ALLOW, (0, EQ, f, 0)) for f in (1, 2, 10)]
		              + [(ERRNO(errno.EAFNOSUPPORT), (0, EQ, f, 0)) for f in (0, 3, 4, 5, 6, 7, 8, 9)]
		              + [(ERRNO(errno.EAFNOSUPPORT), (0, GT, 10, 0))],
		    # MemoryDenyWriteExecute=
		    "mmap": [(ALLOW, (2, MASKED_EQ, 6, v, )) for v in (0, 2, 4)],
		    "mmap2": [(ALLOW, (2, MASKED_EQ, 6, v)) for v in (0, 2, 4)],
		    "mprotect": [(ALLOW, (2, MASKED_EQ, 4, 0))],
		    "pkey_mprotect": [(ALLOW, (2, MASKED_EQ, 4, 0))],
		    "shmat": [(ALLOW, (2, MASKED_EQ, 0o100000, 0))],
		    # RestrictNamespaces=yes (systemd answers clone3 with ENOSYS: glibc falls back)
		    "clone": [(ALLOW, (0, MASKED_EQ, NS, 0))],
		    "unshare": [(ALLOW, (0, MASKED_EQ, NS, 0))],
		    "clone3": [(ERRNO(errno.ENOSYS),)],
		    "setns": [],
		    # LockPersonality=
		    "personality": [(ALLOW, (0, EQ, 0, 0)), (ALLOW, (0, EQ, 0xFFFFFFFF, 0))],
		    # RestrictSUIDSGID= (the chmod family; creation with set-id modes is not covered)
		    "chmod": [(ALLOW, (1, MASKED_EQ, 0o6000, 0))],
		    "fchmod": [(ALLOW, (1, MASKED_EQ, 0o6000, 0))],
		    "fchmodat": [(ALLOW, (2, MASKED_EQ, 0o6000, 0))],
		    "fchmodat2": [(ALLOW, (2, MASKED_EQ, 0o6000, 0))],
		}
		for name in sorted(allow - set(special)):
		    rule(ALLOW, name)
		for name, rules in special.items():
		    if name not in allow and name != "clone3":
		        continue
		    for r in rules:
		        rule(r[0], name, *r[1:])

		if mode == "--check":
		    print("seccomp filter: %d system calls allowed" % len(allow))
		    sys.exit(0)
		if lib.seccomp_load(ctx) < 0:
		    sys.exit("seccomp.py: seccomp_load failed")
		os.execv(cmd[0], cmd)
	PY
	if python3 "$H_DIR/seccomp.py" "$H_DIR/syscall-groups.txt" "$H_DIR/syscall-filter.txt" --check \
		>"$H_DIR/seccomp-check.log" 2>&1; then
		sb_seccomp="python3 $H_DIR/seccomp.py $H_DIR/syscall-groups.txt $H_DIR/syscall-filter.txt --"
		h_log "$(cat "$H_DIR/seccomp-check.log")"
	else
		h_log "NOTE: seccomp layer not applied (cannot build the filter here):"
		sed 's/^/    | /' "$H_DIR/seccomp-check.log" >&2
	fi
else
	h_log "NOTE: seccomp layer not applied (needs python3 and systemd-analyze)"
fi

# --- the world ------------------------------------------------------------------------
harness_start_all

cfg="$H_DIR/renewd.conf"
state="$H_DIR/state"
certs="$H_DIR/certs.d"
rundir="$H_DIR/run"
challenge_dir="$H_WEBROOT/.well-known/acme-challenge"
mkdir -p "$state" "$certs" "$rundir" "$challenge_dir"
HC_CONTROL_SOCKET="$rundir/control" harness_write_config "$cfg"
# A deploy hook (posix_spawn, a new process group) must work under the unit's filter; it
# may write only where renewd may, so it leaves its mark in the state directory.
cat >"$H_DIR/sandbox-hook" <<EOF
#!/bin/sh
echo "\$RENEWD_CERT_NAME \$*" >"$state/deploy-hook-ran"
EOF
chmod 755 "$H_DIR/sandbox-hook"
harness_add_cert "$certs/sandbox.conf" sandbox "sandbox.test www.sandbox.test" "deploy_hook=$H_DIR/sandbox-hook one"
# key_group exercises CAP_CHOWN and fchown() through the filter.
key_group=""
for g in nogroup daemon bin; do
	if getent group "$g" >/dev/null 2>&1; then key_group="$g"; break; fi
done
if [[ -n "$key_group" ]]; then
	harness_add_cert "$certs/sandbox-group.conf" sandbox-group "group.sandbox.test" key_group="$key_group"
else
	h_log "NOTE: no group to test key_group with"
fi
chmod 0644 "$cfg" "$certs"/*.conf

sb_env=(
	SB_HDIR="$H_DIR"
	SB_RW="$state:$certs:$rundir:$challenge_dir"
	SB_CAPS="$sb_caps"
	SB_SECCOMP="$sb_seccomp"
	SB_KEEP="$RENEWD:$SANDBOX_SELF:$H_DIR"
)

# sandbox_run STAGE PIDFILE CMD... — run CMD in a new sandbox, in the background; $! is
# unshare's pid (its exit status is CMD's).
sandbox_run() {
	local stage="$H_DIR/$1" pidfile="$2"
	shift 2
	mkdir -p "$stage"
	env "${sb_env[@]}" SB_STAGE="$stage" SB_PIDFILE="$pidfile" \
		unshare --mount --propagation private --fork --kill-child \
		bash "$SANDBOX_SELF" __inside "$@" &
}

# --- 1. the sandbox is what it claims to be ------------------------------------------
echo "== probe: what a process in the sandbox can and cannot do"
cat >"$H_DIR/probe.sh" <<-'EOF'
	#!/bin/bash
	# Runs inside the sandbox; prints "name=yes|no" lines.
	t() { if "${@:2}" >/dev/null 2>&1; then echo "$1=yes"; else echo "$1=no"; fi; }
	echo "tmp_entries=$(ls -A /tmp | LC_ALL=C sort | tr '\n' ' ')"
	unexpected=""
	for e in $(ls -A /dev); do
		case "$e" in null | zero | full | random | urandom | tty | shm | pts | fd | stdin | stdout | stderr) ;;
		*) unexpected+="$e " ;;
		esac
	done
	echo "dev_unexpected=$unexpected"
	echo "sys_options=$(awk '$5 == "/sys" { print $6 }' /proc/self/mountinfo | tail -n 1)"
	t write_state touch "$P_STATE/.probe"; rm -f "$P_STATE/.probe"
	t write_certs touch "$P_CERTS/.probe"; rm -f "$P_CERTS/.probe"
	t write_run touch "$P_RUN/.probe"; rm -f "$P_RUN/.probe"
	t write_challenge touch "$P_CHALLENGE/.probe"; rm -f "$P_CHALLENGE/.probe"
	t write_webroot touch "$P_WEBROOT/.probe"
	t write_testdir touch "$P_HDIR/.probe"
	t write_etc touch /etc/.renewd-probe
	t write_usr touch /usr/.renewd-probe
	t write_var touch /var/lib/.renewd-probe
	t write_tmp touch /tmp/.probe
	t read_conf cat "$P_CONF"
	t list_root_home ls /root/
	t dev_null sh -c 'echo x >/dev/null'
	t proc_sys test -e /proc/sys/kernel
	t chmod_suid sh -c 'touch "$P_STATE/.suid" && chmod 4755 "$P_STATE/.suid"'; rm -f "$P_STATE/.suid"
	t unshare_user unshare --user true
	echo "umask=$(umask)"
	grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t' | sed 's/:/=/'
EOF
chmod 0755 "$H_DIR/probe.sh"
export P_STATE="$state" P_CERTS="$certs" P_RUN="$rundir" P_CHALLENGE="$challenge_dir" \
	P_WEBROOT="$H_WEBROOT" P_HDIR="$H_DIR" P_CONF="$cfg"
sandbox_run stage-probe "$H_DIR/probe.pid" "$H_DIR/probe.sh" >"$H_DIR/probe.out" 2>"$H_DIR/probe.err" </dev/null
probe_rc=0
wait $! || probe_rc=$?
H_LOGS+=("$H_DIR/probe.err")
check "the probe ran in the sandbox (exit $probe_rc)" test "$probe_rc" = 0
sed 's/^/    | /' "$H_DIR/probe.out" "$H_DIR/probe.err" >&2
probe() { grep -qxF "$1" "$H_DIR/probe.out"; }
check "sandbox: the state dir is writable" probe write_state=yes
check "sandbox: the certs dir is writable" probe write_certs=yes
check "sandbox: the run dir is writable" probe write_run=yes
check "sandbox: the web root's .well-known/acme-challenge is writable" probe write_challenge=yes
check "sandbox: the rest of the web root is read-only" probe write_webroot=no
check "sandbox: the rest of the test dir is read-only" probe write_testdir=no
check "sandbox: /etc is read-only" probe write_etc=no
check "sandbox: /usr is read-only" probe write_usr=no
check "sandbox: /var/lib is read-only" probe write_var=no
check "sandbox: /tmp is writable" probe write_tmp=yes
# /tmp holds only what was carried over: the test dir and the programs run from there.
tmp_expected=""
for p in "$H_DIR" "$RENEWD" "$SANDBOX_SELF"; do
	[[ "$p" == /tmp/* ]] || continue
	e="$(cut -d/ -f3 <<<"$p")"
	[[ " $tmp_expected" == *" $e "* ]] || tmp_expected+="$e "
done
tmp_expected="$(tr ' ' '\n' <<<"$tmp_expected" | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' ')"
check "sandbox: /tmp holds only what was carried over (${tmp_expected:-nothing})" \
	probe "tmp_entries=$tmp_expected" 
check "sandbox: the configuration is readable" probe read_conf=yes
check "sandbox: /root is inaccessible" probe list_root_home=no
check "sandbox: /dev/null works" probe dev_null=yes
check "sandbox: /dev has only the pseudo devices" probe "dev_unexpected="
check "sandbox: /sys is mounted read-only" grep -q '^sys_options=ro' "$H_DIR/probe.out"
check "sandbox: umask 0077" probe umask=0077
check "sandbox: bounding set is the unit's ($capbnd_want)" probe "CapBnd=$capbnd_want"
check "sandbox: no new privileges" probe NoNewPrivs=1
if [[ -n "$sb_seccomp" ]]; then
	check "sandbox: cannot create a user namespace" probe unshare_user=no
	check "sandbox: seccomp filter active" probe Seccomp=2
	check "sandbox: /proc has no /proc/sys (ProcSubset=pid)" probe proc_sys=no
	check "sandbox: chmod to set-uid is refused" probe chmod_suid=no
fi
check "the probe left nothing outside the writable paths" \
	test ! -e "$H_WEBROOT/.probe" -a ! -e "$H_DIR/.probe" -a ! -e /etc/.renewd-probe \
	-a ! -e /usr/.renewd-probe -a ! -e /var/lib/.renewd-probe
rm -f /etc/.renewd-probe /usr/.renewd-probe /var/lib/.renewd-probe "$H_WEBROOT/.probe"

# --- 2. the daemon in the sandbox ----------------------------------------------------
echo "== the daemon, sandboxed: issue, notify, watchdog, reload, stop"
notify_sock="$H_DIR/notify.sock"
notify_log="$H_DIR/notify.log"
harness_start_notify_listener "$notify_sock" "$notify_log" || true
have_notify=0
[[ -S "$notify_sock" ]] && have_notify=1
((have_notify)) || h_log "NOTE: no python3: sd_notify is not checked"

daemon_log="$H_DIR/renewd-daemon.log"
H_LOGS+=("$daemon_log" "$notify_log")
daemon_pidfile="$H_DIR/daemon.pid"
if ((have_notify)); then
	export NOTIFY_SOCKET="$notify_sock" WATCHDOG_USEC=2000000
fi
sandbox_run stage-daemon "$daemon_pidfile" "$RENEWD" -c "$cfg" >"$daemon_log" 2>&1 </dev/null
ns_pid=$!
unset NOTIFY_SOCKET WATCHDOG_USEC
_h_register "$ns_pid" unshare
daemon_pid=""
for ((i = 0; i < 100; i++)); do
	[[ -s "$daemon_pidfile" ]] && { daemon_pid="$(cat "$daemon_pidfile")"; break; }
	kill -0 "$ns_pid" 2>/dev/null || break
	sleep 0.1
done
[[ -n "$daemon_pid" ]] || h_die "the sandboxed daemon did not start"
_h_register "$daemon_pid" renewd-sandboxed
# The pid is the sandbox script's; it becomes renewd after setpriv and the seccomp loader.
renewd_real="$(readlink -f "$RENEWD")"
for ((i = 0; i < 100; i++)); do
	[[ "$(readlink "/proc/$daemon_pid/exe" 2>/dev/null)" == "$renewd_real" ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
check "the sandboxed process became renewd" test "$(readlink "/proc/$daemon_pid/exe" 2>/dev/null)" = "$renewd_real"
h_log "sandboxed renewd pid $daemon_pid (unshare pid $ns_pid)"

# wait_for SECONDS DESC COMMAND... — poll every 0.2 s; false when the time is up or the
# daemon is gone.
wait_for() {
	local n=$(($1 * 5)) desc="$2" i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" 2>/dev/null && return 0
		kill -0 "$daemon_pid" 2>/dev/null || { h_log "daemon exited while waiting for: $desc"; return 1; }
		sleep 0.2
	done
	h_log "timed out waiting for: $desc"
	return 1
}
notified() { grep -qx "$1" "$notify_log"; }
count_notified() { grep -cx "$1" "$notify_log" || true; }
both_live() { [[ -e "$state/live/sandbox" && ( -z "$key_group" || -e "$state/live/sandbox-group" ) ]]; }

check "the daemon is running with the unit's bounding set" \
	grep -qx "CapBnd:	$capbnd_want" "/proc/$daemon_pid/status"
check "the daemon runs with no_new_privs" grep -qx 'NoNewPrivs:	1' "/proc/$daemon_pid/status"
if [[ -n "$sb_seccomp" ]]; then
	check "the daemon runs under the seccomp filter" grep -qx 'Seccomp:	2' "/proc/$daemon_pid/status"
fi
check "the daemon's root file system is read-only" \
	bash -c 'awk '\''$5 == "/" { print $6 }'\'' "/proc/$1/mountinfo" | grep -q "^ro"' _ "$daemon_pid"

check "certificates issued within 90 s" wait_for 90 "live/sandbox${key_group:+ and live/sandbox-group}" both_live
harness_check_cert "$state" sandbox "sandbox.test www.sandbox.test" "$H_PEBBLE_ROOT" 1
if [[ -n "$key_group" ]]; then
	check "sandbox-group: live/sandbox-group installed" test -s "$state/live/sandbox-group/cert.pem"
	check "sandbox-group: privkey.pem is 0640 (key_group)" _h_mode_is "$state/live/sandbox-group/privkey.pem" 640
	check "sandbox-group: privkey.pem belongs to group $key_group (CAP_CHOWN kept)" \
		test "$(stat -L -c %G "$state/live/sandbox-group/privkey.pem" 2>/dev/null)" = "$key_group"
fi
check "pebble validated http-01 through nginx" test "$(harness_challenge_fetches)" -gt 0
check "the deploy hook ran inside the sandbox" wait_for 10 "the deploy hook's mark" grep -qx 'sandbox one' "$state/deploy-hook-ran"
check "no challenge files left in the webroot" harness_no_challenge_leftovers "$H_WEBROOT"
check "nothing written into the web root outside .well-known/acme-challenge" \
	test -z "$(find "$H_WEBROOT" -mindepth 1 -not -path "$H_WEBROOT/.well-known" -not -path "$challenge_dir" -print -quit)"

if ((have_notify)); then
	check "sd_notify READY=1 arrived through the read-only mount" wait_for 10 READY=1 notified READY=1
	check "the watchdog is pinged (WATCHDOG=1)" wait_for 10 WATCHDOG=1 notified WATCHDOG=1
	check "a STATUS= line was sent" grep -q '^STATUS=' "$notify_log"
	ready_before="$(count_notified READY=1)"
	kill -HUP "$daemon_pid" 2>/dev/null || true
	check "SIGHUP: RELOADING=1 sent" wait_for 15 RELOADING=1 notified RELOADING=1
	check "SIGHUP: READY=1 sent again after the reload" \
		wait_for 15 "READY=1 after reload" bash -c '(( $(grep -cx READY=1 "$1") > $2 ))' _ "$notify_log" "$ready_before"
else
	kill -HUP "$daemon_pid" 2>/dev/null || true
	sleep 2
fi
check "the daemon still runs after SIGHUP" kill -0 "$daemon_pid"

kill -TERM "$daemon_pid" 2>/dev/null || true
rc=0
for ((i = 0; i < 150; i++)); do kill -0 "$ns_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$ns_pid" 2>/dev/null; then
	check "the daemon exits within 15 s of SIGTERM" false
else
	wait "$ns_pid" || rc=$?
	check "SIGTERM: the daemon exits with status 0 (got $rc)" test "$rc" = 0
fi
if ((have_notify)); then
	check "STOPPING=1 sent on the way out" notified STOPPING=1
fi
check "no challenge files left in the webroot after stopping" harness_no_challenge_leftovers "$H_WEBROOT"
check "the daemon did not complain about a read-only file system" \
	bash -c '! grep -qi "read-only file system" "$1"' _ "$daemon_log"
check "the daemon did not run into a refused operation (EPERM)" \
	bash -c '! grep -qi "operation not permitted" "$1"' _ "$daemon_log"
h_log "daemon log:"
sed 's/^/    | /' "$daemon_log" >&2

harness_done
