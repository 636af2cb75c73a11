#!/usr/bin/env python3
"""Run a command 2×N times: N times directly for wall time and CPU time (user+sys of the
process, from wait4), then N times under /usr/bin/time for peak RSS (%M). A child forked
from Python would report Python's own resident size as its peak, because the kernel keeps
the high-water mark across exec; /usr/bin/time is small enough not to matter.

usage: measure.py LABEL N -- COMMAND...
The string {i} in COMMAND is replaced by the run index (0 … 2N-1), so each run can use
its own configuration. Exits non-zero if any run fails."""
import os, statistics, sys, time

label, n = sys.argv[1], int(sys.argv[2])
cmd = sys.argv[sys.argv.index("--") + 1:]
rss_file = f"/tmp/measure-rss.{os.getpid()}"


def run(argv):
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execvp(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"{label}: {' '.join(argv)} failed with status {status}", file=sys.stderr)
        sys.exit(1)
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime


walls, cpus, rss = [], [], []
for i in range(n):
    w, c = run([a.replace("{i}", str(i)) for a in cmd])
    walls.append(w)
    cpus.append(c)
for i in range(n, 2 * n):
    run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + [a.replace("{i}", str(i)) for a in cmd])
    with open(rss_file) as f:
        rss.append(int(f.read().split()[-1]) / 1024)
os.unlink(rss_file)


def fmt(xs, unit, scale=1):
    return f"median {statistics.median(xs) * scale:.1f} {unit} (min {min(xs) * scale:.1f}, max {max(xs) * scale:.1f})"


print(f"{label} ({n} runs): wall {fmt(walls, 'ms', 1000)}; CPU {fmt(cpus, 'ms', 1000)}; peak RSS {fmt(rss, 'MiB')}")
