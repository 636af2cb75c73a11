#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A small Varlink client and prober for renewd's control socket (tests/integration).

Library: Conn (one connection: raw bytes, calls, messages), encode_call(), roundtrip(),
Monitor (a well-behaved client in a child process that makes a Status call from a fresh
connection every INTERVAL and records the latencies), daemon_cpu()/daemon_mem() (from
/proc/PID), run_as() (drop to another uid/gid/groups in a child).

CLI (every command takes -s SOCKET):
  call METHOD [PARAMS] [--more|--oneway]   print every message received, one JSON a line;
                                           exit 0 on a reply, 1 on an error, 2 on EOF/timeout
  expect METHOD [PARAMS] (--reply [--has KEY]... | --error NAME [--param K=V]... [--message-re RE])
                                           one call; exit 0 when the answer is as expected
  conform TEST [--cert NAME] [--idl FILE]   a conformance probe (split, pipeline, oneway,
                                           errors, getinfo, describe, renew-more, not-due)
  abuse KIND --pid PID [--monitor-uid U --monitor-gid G --monitor-groups G1,G2]
                                           an abuse (flood, total-cap, bigmsg, slowloris,
                                           malformed, noread) with a Monitor running

Probes print "ok   - ..." / "FAIL - ..." lines and "measure: ..." lines and exit 1 if any
check failed. Nothing here kills anything but the children it forked itself.
"""

import argparse
import errno
import json
import os
import re
import select
import signal
import socket
import sys
import time

MAX_CONNECTIONS = 64      # CONTROL_MAX_CONNECTIONS in daemon/control.c
MAX_PER_UID = 16          # CONTROL_MAX_PER_UID
MESSAGE_CAP = 64 * 1024   # VARLINK_MESSAGE_SIZE_DEFAULT (the NUL included)
OUTPUT_CAP = 8 * 1024 * 1024  # CONTROL_MAX_OUTPUT

FAILURES = 0


def ok(cond, desc, detail=None):
    """Print an ok/FAIL line (with detail indented below on failure); count failures."""
    global FAILURES
    if cond:
        print(f"ok   - {desc}", flush=True)
    else:
        FAILURES += 1
        print(f"FAIL - {desc}", flush=True)
        if detail:
            for line in str(detail).splitlines():
                print(f"       {line}", flush=True)
    return cond


def skip(cond, desc, detail=None):
    """A check that is not meaningful here (RSS under ASan, whose quarantine keeps freed
    memory; CPU under a sanitizer): reported, not counted."""
    print(f"skip - {desc}: {'would pass' if cond else 'would fail'} (not checked under a sanitizer)", flush=True)
    return True


def measure(text):
    print(f"measure: {text}", flush=True)


def info(text):
    print(f"    {text}", flush=True)


# ------------------------------------------------------------------------------- wire

def encode_call(method, params=None, more=False, oneway=False):
    m = {"method": method}
    if params is not None:
        m["parameters"] = params
    if more:
        m["more"] = True
    if oneway:
        m["oneway"] = True
    return json.dumps(m, separators=(",", ":")).encode() + b"\0"


class Closed(Exception):
    """The server closed the connection (EOF, or a reset)."""


class Conn:
    """One connection to the control socket. recv_msg() returns the next message (a dict),
    raises Closed on EOF/reset and TimeoutError when nothing complete arrives in time."""

    def __init__(self, path, timeout=5.0, sndbuf=None, rcvbuf=None):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if sndbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.received = 0

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_call(self, method, params=None, more=False, oneway=False):
        self.send_raw(encode_call(method, params, more, oneway))

    def recv_msg(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete message within %.1f s (have %d bytes)" % (timeout, len(self.buf)))
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                d = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(str(e))
            except socket.timeout:
                continue
            if not d:
                raise Closed("EOF" + (" (with %d bytes of an incomplete message)" % len(self.buf) if self.buf else ""))
            self.received += len(d)
            self.buf += d
        raw, _, self.buf = self.buf.partition(b"\0")
        try:
            return json.loads(raw.decode())
        except ValueError as e:
            raise ValueError("not a JSON message (%s): %r" % (e, raw[:200])) from None

    def call(self, method, params=None, timeout=5.0):
        self.send_call(method, params)
        return self.recv_msg(timeout)

    def nothing_within(self, seconds):
        """True if no byte (and no EOF) arrives within seconds."""
        if self.buf:
            return False
        r, _, _ = select.select([self.sock], [], [], seconds)
        return not r

    def closed_by_peer(self, wait=0.0):
        """True if the server has closed this connection (EOF or reset pending)."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return False
        try:
            d = self.sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except BlockingIOError:
            return False
        if d == b"":
            return True
        # data: an unsolicited message, then maybe EOF; drain and look again
        self.sock.recv(len(d))
        return self.closed_by_peer(wait)


def is_error(m, name=None):
    return isinstance(m, dict) and "error" in m and (name is None or m["error"] == name)


def params(m):
    p = m.get("parameters") if isinstance(m, dict) else None
    return p if isinstance(p, dict) else {}


def short(m, n=300):
    s = json.dumps(m, separators=(",", ":")) if not isinstance(m, str) else m
    return s if len(s) <= n else s[:n] + "...(%d bytes)" % len(s)


def roundtrip(path, timeout=2.0, method="io.renewd.Status", params_=None):
    """A call from a fresh connection. Returns (ok, seconds, message-or-reason). ok means a
    reply (not an error) that arrived within timeout."""
    t0 = time.monotonic()
    c = None
    try:
        c = Conn(path, timeout=timeout)
        c.send_call(method, params_)
        m = c.recv_msg(timeout - (time.monotonic() - t0))
        dt = time.monotonic() - t0
        return (not is_error(m) and dt <= timeout), dt, m
    except (OSError, Closed, TimeoutError, ValueError) as e:
        return False, time.monotonic() - t0, "%s: %s" % (type(e).__name__, e)
    finally:
        if c:
            c.close()


# ------------------------------------------------------------------------------- processes

def drop_to(uid, gid, groups):
    os.setgroups(list(groups))
    os.setgid(gid)
    os.setuid(uid)


class Child:
    """fn(result_fd_writer, stop_fd) in a forked child with other credentials; the child
    writes one JSON result line when told to stop (or when fn returns)."""

    def __init__(self, fn, creds=None):
        self.stop_r, self.stop_w = os.pipe()
        self.res_r, self.res_w = os.pipe()
        self.ready_r, self.ready_w = os.pipe()
        sys.stdout.flush()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.stop_w)
                os.close(self.res_r)
                os.close(self.ready_r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                if creds:
                    drop_to(*creds)
                result = fn(self.stop_r, self.ready_w)
                data = json.dumps(result).encode()
                os.write(self.res_w, data)
            except BaseException as e:  # noqa: BLE001 — report anything to the parent
                try:
                    os.write(self.res_w, json.dumps({"child_error": repr(e)}).encode())
                except OSError:
                    pass
            finally:
                os._exit(0)
        os.close(self.stop_r)
        os.close(self.res_w)
        os.close(self.ready_w)

    def wait_ready(self, timeout=10.0):
        r, _, _ = select.select([self.ready_r], [], [], timeout)
        return os.read(self.ready_r, 4096).decode() if r else None

    def stop(self, timeout=15.0):
        try:
            os.write(self.stop_w, b"x")
        except OSError:
            pass
        data = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(self.pid, signal.SIGKILL)  # our own child, by pid
                break
            r, _, _ = select.select([self.res_r], [], [], left)
            if not r:
                continue
            d = os.read(self.res_r, 1 << 20)
            if not d:
                break
            data += d
        os.waitpid(self.pid, 0)
        for fd in (self.stop_w, self.res_r, self.ready_r):
            os.close(fd)
        try:
            return json.loads(data.decode()) if data else {"child_error": "no result"}
        except ValueError:
            return {"child_error": "bad result %r" % data[:200]}


def _stop_requested(stop_fd, wait):
    r, _, _ = select.select([stop_fd], [], [], wait)
    return bool(r)


class Monitor(Child):
    """The well-behaved client: a Status round trip from a fresh connection every interval
    until stopped. The result: n, failures (with reasons), latencies (max, median, p95)."""

    def __init__(self, path, interval=0.1, timeout=2.0, creds=None):
        def loop(stop_fd, ready_fd):
            lat, fails, first = [], [], True
            while True:
                okk, dt, m = roundtrip(path, timeout)
                lat.append(dt)
                if not okk:
                    fails.append("%.3fs %s" % (dt, short(m, 160)))
                if first:
                    os.write(ready_fd, b"ready")
                    first = False
                if _stop_requested(stop_fd, interval):
                    break
            lat.sort()
            return {"n": len(lat), "failures": fails, "max": lat[-1],
                    "median": lat[len(lat) // 2], "p95": lat[min(len(lat) - 1, int(len(lat) * 0.95))]}
        super().__init__(loop, creds)
        self.wait_ready()


def daemon_cpu(pid):
    """utime + stime of pid in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def daemon_mem(pid):
    """(VmRSS, VmHWM) of pid in KiB."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def daemon_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


def daemon_conns(pid):
    """Number of sockets the daemon holds (all kinds: a rough count)."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


# ------------------------------------------------------------------------------- conformance

def conform_split(a):
    """A Status call written one byte at a time (a write each, 2 ms apart), then a Show split
    so that its NUL arrives alone."""
    c = Conn(a.socket)
    data = encode_call("io.renewd.Status")
    for i in range(len(data)):
        c.send_raw(data[i:i + 1])
        time.sleep(0.002)
    try:
        m = c.recv_msg(5)
    except (Closed, TimeoutError) as e:
        m = str(e)
    ok(not is_error(m) and "version" in params(m),
       f"Status written 1 byte at a time ({len(data)} writes) is answered", f"sent {data!r}\ngot {short(m)}")
    data = encode_call("io.renewd.Show", {"name": "no-such-cert"})
    c.send_raw(data[:-1])
    ok(c.nothing_within(0.3), "no answer before the NUL has arrived")
    c.send_raw(b"\0")
    try:
        m = c.recv_msg(5)
    except (Closed, TimeoutError) as e:
        m = str(e)
    ok(is_error(m, "io.renewd.NoSuchCertificate"), "the call completed by a lone NUL is answered",
       f"got {short(m)}")
    c.close()


def conform_pipeline(a):
    """Five calls in one write: five answers, in order."""
    calls = [("io.renewd.Status", None), ("io.renewd.List", None), ("io.renewd.Show", {"name": "no-such-cert"}),
             ("org.varlink.service.GetInfo", None), ("io.renewd.Show", {"name": a.cert})]
    c = Conn(a.socket)
    c.send_raw(b"".join(encode_call(m, p) for m, p in calls))
    got = []
    try:
        for _ in calls:
            got.append(c.recv_msg(5))
    except (Closed, TimeoutError) as e:
        got.append(str(e))
    want = [lambda m: "version" in params(m),
            lambda m: isinstance(params(m).get("certificates"), list),
            lambda m: is_error(m, "io.renewd.NoSuchCertificate"),
            lambda m: "interfaces" in params(m),
            lambda m: params(m).get("certificate", {}).get("name") == a.cert]
    good = len(got) == len(calls) and all(isinstance(m, dict) and w(m) for m, w in zip(got, want))
    ok(good, f"{len(calls)} calls pipelined in one write are answered in order "
       "(Status, List, Show unknown, GetInfo, Show)",
       "\n".join(f"{i}: {short(m, 200)}" for i, m in enumerate(got)))
    ok(c.nothing_within(0.3), "nothing more arrives after the five answers")
    c.close()


def conform_oneway(a):
    """A call with oneway gets no reply: the next call's reply is the first thing to arrive."""
    cases = [
        ("Status oneway, GetInfo in the same write", [encode_call("io.renewd.Status", oneway=True)], 0),
        ("Status oneway, GetInfo 0.3 s later", [encode_call("io.renewd.Status", oneway=True)], 0.3),
        ("Show (unknown name, an error) oneway, GetInfo 0.3 s later",
         [encode_call("io.renewd.Show", {"name": "no-such-cert"}, oneway=True)], 0.3),
        ("unknown method oneway, GetInfo 0.3 s later", [encode_call("io.renewd.NoSuchMethod", oneway=True)], 0.3),
    ]
    for desc, first, pause in cases:
        c = Conn(a.socket)
        follow = encode_call("org.varlink.service.GetInfo")
        sent = b"".join(first)
        if pause:
            c.send_raw(sent)
            time.sleep(pause)
            c.send_raw(follow)
        else:
            c.send_raw(sent + follow)
        msgs = []
        try:
            msgs.append(c.recv_msg(5))
            # anything else within 0.5 s is one reply too many
            while len(msgs) < 4:
                msgs.append(c.recv_msg(0.5))
        except TimeoutError:
            pass
        except (Closed, ValueError) as e:
            msgs.append("%s: %s" % (type(e).__name__, e))
        good = len(msgs) == 1 and isinstance(msgs[0], dict) and "interfaces" in params(msgs[0])
        ok(good, f"oneway: {desc}: exactly one answer, GetInfo's",
           f"sent {sent!r} then {follow!r}\n" + "\n".join(f"got[{i}]: {short(m, 200)}" for i, m in enumerate(msgs)))
        c.close()


def conform_errors(a):
    """Errors of the service and of io.renewd, all on one connection (none of them is a
    protocol error, so the connection stays usable)."""
    cases = [
        ("unknown method io.renewd.NoSuchMethod", "io.renewd.NoSuchMethod", {},
         "org.varlink.service.MethodNotFound", {"method": "io.renewd.NoSuchMethod"}),
        ("unknown method org.varlink.service.Nope", "org.varlink.service.Nope", {},
         "org.varlink.service.MethodNotFound", {"method": "org.varlink.service.Nope"}),
        ("unknown interface com.example.nothing (method Foo)", "com.example.nothing.Foo", {},
         "org.varlink.service.InterfaceNotFound", None),
        ("Show without name", "io.renewd.Show", {}, "org.varlink.service.InvalidParameter", {"parameter": "name"}),
        ("Show with name: 5", "io.renewd.Show", {"name": 5}, "org.varlink.service.InvalidParameter",
         {"parameter": "name"}),
        ("Show with an unknown parameter colour", "io.renewd.Show", {"name": a.cert, "colour": "red"},
         "org.varlink.service.InvalidParameter", {"parameter": "colour"}),
        ("Renew with both names and all", "io.renewd.Renew", {"names": [a.cert], "all": True},
         "org.varlink.service.InvalidParameter", {"parameter": ("all", "names")}),
        ("Renew with neither names nor all", "io.renewd.Renew", {},
         "org.varlink.service.InvalidParameter", {"parameter": ("all", "names")}),
        ("Renew with names: \"A\" (a string, not an array)", "io.renewd.Renew", {"names": a.cert},
         "org.varlink.service.InvalidParameter", {"parameter": "names"}),
        ("Renew with force: \"yes\"", "io.renewd.Renew", {"names": [a.cert], "force": "yes"},
         "org.varlink.service.InvalidParameter", {"parameter": "force"}),
        ("Show of an unknown certificate", "io.renewd.Show", {"name": "no-such-cert"},
         "io.renewd.NoSuchCertificate", {"name": "no-such-cert"}),
        ("Renew of an unknown certificate", "io.renewd.Renew", {"names": ["no-such-cert"]},
         "io.renewd.NoSuchCertificate", {"name": "no-such-cert"}),
        ("GetInterfaceDescription of an unknown interface", "org.varlink.service.GetInterfaceDescription",
         {"interface": "com.example.nothing"}, "org.varlink.service.InterfaceNotFound",
         {"interface": "com.example.nothing"}),
        ("GetInterfaceDescription without interface", "org.varlink.service.GetInterfaceDescription", {},
         "org.varlink.service.InvalidParameter", {"parameter": "interface"}),
    ]
    c = Conn(a.socket)
    for desc, method, p, err, want in cases:
        try:
            m = c.call(method, p)
        except (Closed, TimeoutError, OSError) as e:
            m = "%s: %s" % (type(e).__name__, e)
            c.close()
            c = Conn(a.socket)
        good = is_error(m, err)
        if good and want:
            for k, v in want.items():
                got = params(m).get(k)
                good = good and (got in v if isinstance(v, tuple) else got == v)
        naming = ", ".join(f"{k}={v}" for k, v in (want or {}).items())
        ok(good, f"{desc} -> {err}" + (f" ({naming})" if naming else ""),
           f"sent {encode_call(method, p)!r}\ngot {short(m)}")
    # The interface named by InterfaceNotFound for a call to an unknown interface.
    try:
        m = c.call("com.example.nothing.Foo", {})
    except (Closed, TimeoutError, OSError) as e:
        m = str(e)
    ok(params(m).get("interface") == "com.example.nothing",
       "InterfaceNotFound for com.example.nothing.Foo names the interface (interface=com.example.nothing)",
       f"sent {encode_call('com.example.nothing.Foo', {})!r}\ngot {short(m)}")
    try:
        m = c.call("io.renewd.Status")
    except (Closed, TimeoutError, OSError) as e:
        m = str(e)
    ok("version" in params(m), "the connection still answers Status after all those errors", f"got {short(m)}")
    c.close()


def conform_getinfo(a):
    c = Conn(a.socket)
    m = c.call("org.varlink.service.GetInfo")
    p = params(m)
    ok(not is_error(m) and "io.renewd" in (p.get("interfaces") or []), "GetInfo lists io.renewd", short(m))
    ok(all(isinstance(p.get(k), str) and p.get(k) for k in ("vendor", "product", "version", "url")),
       "GetInfo has vendor, product, version and url", short(m))
    info("GetInfo: " + short(m))
    m = c.call("org.varlink.service.GetInterfaceDescription", {"interface": "org.varlink.service"})
    ok("interface org.varlink.service" in str(params(m).get("description")),
       "GetInterfaceDescription(org.varlink.service) describes org.varlink.service", short(m, 200))
    c.close()


def conform_describe(a):
    with open(a.idl, encoding="utf-8") as f:
        want = f.read()
    c = Conn(a.socket)
    m = c.call("org.varlink.service.GetInterfaceDescription", {"interface": "io.renewd"})
    got = params(m).get("description")
    detail = ""
    if isinstance(got, str) and got != want:
        i = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
        detail = f"lengths: got {len(got)}, file {len(want)}; first difference at {i}: " \
                 f"got {got[max(0, i - 40):i + 40]!r} file {want[max(0, i - 40):i + 40]!r}"
    else:
        detail = short(m)
    ok(got == want, f"GetInterfaceDescription(io.renewd) is exactly {os.path.basename(a.idl)} ({len(want)} bytes)",
       detail)
    c.close()


def conform_renew_more(a):
    """Renew(names=[cert], force=true) with more: replies with continues until the last."""
    c = Conn(a.socket)
    before = params(c.call("io.renewd.Show", {"name": a.cert})).get("certificate", {}).get("serial")
    t0 = time.monotonic()
    c.send_call("io.renewd.Renew", {"names": [a.cert], "force": True}, more=True)
    msgs = []
    try:
        while True:
            m = c.recv_msg(60)
            msgs.append(m)
            if not m.get("continues"):
                break
    except (Closed, TimeoutError) as e:
        msgs.append(str(e))
    dt = time.monotonic() - t0
    for m in msgs:
        info(short(m, 200))
    dicts = [m for m in msgs if isinstance(m, dict)]
    events = [params(m).get("event") for m in dicts]
    last = msgs[-1] if msgs else None
    ok(len(dicts) >= 3 and all(m.get("continues") is True for m in dicts[:-1]),
       f"Renew with more: {len(dicts) - 1} progress replies with continues: true", "\n".join(map(short, msgs)))
    ok(isinstance(last, dict) and not is_error(last) and "continues" not in last,
       "the last reply comes without continues", short(last))
    ok(events[:1] == ["queued"] and all(p.get("name") == a.cert for p in map(params, dicts[:-1])),
       f"the first event is queued, every progress reply names {a.cert}", str(events))
    ok("installed" in events, "an installed event comes before the end", str(events))
    ok(isinstance(last, dict) and params(last).get("event") == "done" and params(last).get("renewed") == 1
       and params(last).get("failed") == 0, "the final reply is event done, renewed 1, failed 0", short(last))
    measure(f"Renew --force with more: {len(dicts)} replies in {dt:.2f} s: {' '.join(str(e) for e in events)}")
    after = params(c.call("io.renewd.Show", {"name": a.cert})).get("certificate", {}).get("serial")
    ok(before and after and before != after, f"Show reports a new serial ({before} -> {after})")
    c.close()


def conform_not_due(a):
    """Renew without force of a certificate that is not due: not-due, then done, renewed 0."""
    c = Conn(a.socket)
    c.send_call("io.renewd.Renew", {"names": [a.cert]}, more=True)
    msgs = []
    try:
        while True:
            m = c.recv_msg(10)
            msgs.append(m)
            if not m.get("continues"):
                break
    except (Closed, TimeoutError) as e:
        msgs.append(str(e))
    evs = [params(m).get("event") if isinstance(m, dict) else m for m in msgs]
    ok(evs == ["not-due", "done"] and params(msgs[-1]).get("renewed") == 0,
       "Renew without force of a valid certificate, with more: not-due (continues), done renewed 0",
       "\n".join(map(short, msgs)))
    m = c.call("io.renewd.Renew", {"names": [a.cert]}, timeout=10)
    ok(not is_error(m) and params(m).get("event") == "done" and params(m).get("renewed") == 0 and "continues" not in m,
       "the same without more: one reply, done renewed 0", short(m))
    c.close()


CONFORM = {"split": conform_split, "pipeline": conform_pipeline, "oneway": conform_oneway,
           "errors": conform_errors, "getinfo": conform_getinfo, "describe": conform_describe,
           "renew-more": conform_renew_more, "not-due": conform_not_due}


# ------------------------------------------------------------------------------- abuse

def monitor_creds(a):
    if a.monitor_uid is None:
        return None
    groups = [int(g) for g in a.monitor_groups.split(",") if g] if a.monitor_groups else []
    return (a.monitor_uid, a.monitor_gid if a.monitor_gid is not None else a.monitor_uid, groups)


def hold_connections(path, n, settle=1.0):
    """Open n connections, wait settle seconds, return (conns, closed_by_server, refused)."""
    conns, refused = [], 0
    for _ in range(n):
        try:
            conns.append(Conn(path, timeout=2))
        except OSError:
            refused += 1
    time.sleep(settle)
    closed = [c for c in conns if c.closed_by_peer()]
    return conns, len(closed), refused


def abuse_flood(a):
    """100 connections from root; the monitor (another uid) is answered throughout."""
    n = a.count
    conns, closed, refused = hold_connections(a.socket, n)
    kept = len(conns) - closed
    measure(f"flood: root opened {n} connections: {kept} kept by the server, {closed} closed by it, "
            f"{refused} refused at connect")
    ok(1 <= kept <= MAX_PER_UID and closed + refused >= n - MAX_PER_UID,
       f"flood: the server keeps at most {MAX_PER_UID} of root's {n} connections and closes the rest "
       f"(kept {kept}, closed {closed})")
    okk, dt, m = roundtrip(a.socket, 2.0)
    measure(f"flood: a fresh root connection while root holds {kept}: "
            + ("answered in %.3f s" % dt if okk else "not answered (%s) — expected: per-uid cap" % short(m, 80)))
    # The held ones still work.
    live = [c for c in conns if not c.closed_by_peer()]
    if live:
        try:
            mm = live[0].call("io.renewd.Status", timeout=2)
        except (Closed, TimeoutError, OSError) as e:
            mm = str(e)
        ok("version" in params(mm), "flood: a connection the server kept is answered", short(mm))
    # Close one: a fresh root connection is answered again.
    if live:
        live[0].close()
        time.sleep(0.1)
        okk, dt, m = roundtrip(a.socket, 2.0)
        ok(okk, "flood: after one of root's connections is closed, a fresh root call is answered "
           f"({dt:.3f} s)", short(m))
    for c in conns:
        c.close()
    t0 = time.monotonic()
    okk, dt, m = roundtrip(a.socket, 2.0)
    ok(okk, f"flood: once the flood is closed, root is answered at once ({dt:.3f} s)", short(m))


def abuse_total_cap(a):
    """Four other uids take 16 connections each (64 = the total cap): everybody else is
    refused until some are closed."""
    uids = [60001, 60002, 60003, 60004]

    def holder(path, n):
        def fn(stop_fd, ready_fd):
            conns, closed, refused = hold_connections(path, n)
            os.write(ready_fd, json.dumps({"kept": len(conns) - closed, "closed": closed,
                                           "refused": refused}).encode())
            _stop_requested(stop_fd, 120)
            for c in conns:
                c.close()
            return {}
        return fn

    holders = []
    for u in uids:
        h = Child(holder(a.socket, 20), (u, u, []))
        holders.append((u, h, json.loads(h.wait_ready(15) or "{}")))
    total = sum(r.get("kept", 0) for _, _, r in holders)
    measure("total-cap: uids %s each opened 20: kept %s (total %d)" %
            (",".join(map(str, uids)), ",".join(str(r.get("kept")) for _, _, r in holders), total))
    ok(total <= MAX_CONNECTIONS and all(r.get("kept", 99) <= MAX_PER_UID for _, _, r in holders),
       f"total-cap: the server holds at most {MAX_PER_UID} per uid and {MAX_CONNECTIONS} in all (holds {total})")
    okk, dt, m = roundtrip(a.socket, 2.0)
    measure("total-cap: a fresh root connection with %d held by others: %s" %
            (total, "answered" if okk else "not answered (%s)" % short(m, 80)))
    if total >= MAX_CONNECTIONS:
        info("note: with the total cap reached by four unprivileged uids, root is locked out too")
    # One holder lets go: answers resume.
    holders[-1][1].stop()
    time.sleep(0.2)
    okk, dt, m = roundtrip(a.socket, 2.0)
    ok(okk, f"total-cap: once uid {uids[-1]} closes its connections, root is answered ({dt:.3f} s)", short(m))
    for _, h, _ in holders[:-1]:
        h.stop()
    okk, dt, m = roundtrip(a.socket, 2.0)
    ok(okk, f"total-cap: all closed: answered ({dt:.3f} s)", short(m))


def abuse_bigmsg(a):
    """10 MiB without a NUL: the server closes the connection after about 64 KiB."""
    c = Conn(a.socket, timeout=10, sndbuf=4096)
    head = b'{"method":"io.renewd.Status","parameters":{"x":"'
    total = 10 * 1024 * 1024
    chunk = b"a" * 4096
    sent = 0
    how = "all sent"
    t0 = time.monotonic()
    try:
        c.send_raw(head)
        sent = len(head)
        while sent < total:
            k = c.sock.send(chunk)
            sent += k
    except (BrokenPipeError, ConnectionResetError) as e:
        how = errno.errorcode.get(e.errno, str(e.errno))
    except socket.timeout:
        how = "send blocked for 10 s"
    dt = time.monotonic() - t0
    sndbuf = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    measure(f"bigmsg: {sent} bytes ({sent / 1024:.0f} KiB) accepted before {how} after {dt:.2f} s "
            f"(client SO_SNDBUF {sndbuf})")
    ok(how in ("EPIPE", "ECONNRESET"), f"bigmsg: the server closes the connection (writes end with {how})")
    ok(sent < MESSAGE_CAP + 16384 + 4 * sndbuf + 65536,
       f"bigmsg: it does so after about 64 KiB ({sent} bytes accepted, limit {MESSAGE_CAP})")
    try:
        m = c.recv_msg(1)
        info("bigmsg: before closing the server said " + short(m))
    except (Closed, TimeoutError, OSError, ValueError) as e:
        info("bigmsg: nothing read back (%s)" % e)
    c.close()


def abuse_slowloris(a):
    """8 connections that each write one byte every 0.5 s for 5 s, then the rest at once."""
    n, secs = 8, 5.0
    conns = [Conn(a.socket) for _ in range(n)]
    data = encode_call("io.renewd.Status")
    pos = 0
    t_end = time.monotonic() + secs
    while time.monotonic() < t_end and pos < len(data) - 1:
        for c in conns:
            c.send_raw(data[pos:pos + 1])
        pos += 1
        time.sleep(0.5)
    measure(f"slowloris: {n} connections wrote {pos} bytes each, one every 0.5 s")
    good = 0
    for c in conns:
        try:
            c.send_raw(data[pos:])
            m = c.recv_msg(2)
            good += "version" in params(m)
        except (Closed, TimeoutError, OSError) as e:
            info("slowloris: " + str(e))
    ok(good == n, f"slowloris: each slow call is answered once complete ({good}/{n})")
    for c in conns:
        c.close()


MALFORMED = [
    ("not JSON", b"not json\0"),
    ("truncated object", b'{"method": "io.renewd.Status"\0'),
    ("an array", b"[1,2,3]\0"),
    ("method is a number", b'{"method": 5}\0'),
    ("unknown top-level key", b'{"method":"io.renewd.Status","bogus":true}\0'),
    ("more with oneway", b'{"method":"io.renewd.Status","more":true,"oneway":true}\0'),
    ("empty message", b"\0"),
    ("parameters a string", b'{"method":"io.renewd.Status","parameters":"x"}\0'),
    ("invalid UTF-8", b'{"method":"io.renewd.Status","parameters":{"x":"\xff\xfe"}}\0'),
    ("nested 30000 deep", b'{"method":"io.renewd.Status","parameters":{"a":' + b"[" * 30000 + b"]" * 30000 + b"}}\0"),
    ("trailing garbage", b'{"method":"io.renewd.Status"} x\0'),
    ("number 1e999", b'{"method":"io.renewd.Show","parameters":{"name":1e999}}\0'),
    ("duplicate key", b'{"method":"io.renewd.Status","method":"io.renewd.List"}\0'),
    ("NUL inside a string", b'{"method":"io.re\0newd.Status"}\0'),
    ("lower-case method", b'{"method":"io.renewd.status"}\0'),
    ("method without interface", b'{"method":"Status"}\0'),
    ("upgrade", b'{"method":"io.renewd.Status","upgrade":true}\0'),
    ("lone surrogate", b'{"method":"io.renewd.Show","parameters":{"name":"\\ud800"}}\0'),
    ("control character in a string", b'{"method":"io.renewd.Show","parameters":{"name":"a\x01b"}}\0'),
    ("binary noise", bytes(range(1, 256)) * 4 + b"\0"),
]


def abuse_malformed(a):
    """Each malformed message on its own connection: an error reply and/or a close, never
    a normal reply, never a hang."""
    outcomes = []
    for desc, data in MALFORMED:
        c = Conn(a.socket)
        msgs, end = [], "open"
        try:
            c.send_raw(data)
            while len(msgs) < 4:
                msgs.append(c.recv_msg(2))
        except Closed:
            end = "closed"
        except TimeoutError:
            end = "open (no more within 2 s)"
        except (OSError, ValueError) as e:
            end = "%s: %s" % (type(e).__name__, e)
        c.close()
        errs = [m.get("error") for m in msgs if is_error(m)]
        normal = [m for m in msgs if not is_error(m)]
        good = not normal and (errs or end == "closed")
        outcomes.append(f"{desc}: {', '.join(errs) or 'no reply'}; {end}")
        ok(good, f"malformed ({desc}): " + (", ".join(f"{e}" for e in errs) or "no reply") + f", then {end}",
           f"sent {data[:120]!r}{'...' if len(data) > 120 else ''}\ngot {[short(m, 200) for m in msgs]}")
        if not daemon_alive(a.pid):
            ok(False, f"malformed ({desc}): the daemon is still running")
            return


def abuse_noread(a):
    """A client that sends 3000 List calls and reads nothing: the server drops it once its
    queue is over the cap."""
    n = a.count
    c = Conn(a.socket, timeout=10, rcvbuf=4096)
    req = encode_call("io.renewd.List") * n
    t0 = time.monotonic()
    how = "all sent"
    try:
        c.send_raw(req)
    except (BrokenPipeError, ConnectionResetError) as e:
        how = errno.errorcode.get(e.errno, str(e.errno))
    except socket.timeout:
        how = "send blocked for 10 s"
    # Has the server let go? Watch for the hang-up without reading anything (reading would
    # let the server send more); then drain what the kernel holds and count it.
    rss_peak = 0
    deadline = time.monotonic() + 15
    dropped = False
    drained = 0
    po = select.poll()
    po.register(c.sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while time.monotonic() < deadline:
        rss_peak = max(rss_peak, daemon_mem(a.pid)[0])
        if po.poll(50):
            dropped = True
            break
    if dropped:
        try:
            while True:
                d = c.sock.recv(1 << 20, socket.MSG_DONTWAIT)
                if not d:
                    break
                drained += len(d)
        except (OSError, BlockingIOError):
            pass
    dt = time.monotonic() - t0
    one = len(json.dumps(params_of_list(a.socket), separators=(",", ":"))) + 30
    measure(f"noread: {n} List calls ({len(req)} bytes; {how}); one reply is ~{one} bytes; "
            f"the client read {drained} bytes (the kernel's buffers) and then "
            f"{'EOF' if dropped else 'no EOF'} after {dt:.2f} s; daemon RSS peak seen {rss_peak} KiB")
    ok(dropped, "noread: the server drops the client that does not read")
    ok(drained < OUTPUT_CAP + 4 * 1024 * 1024,
       f"noread: the client got less than the queue cap plus socket buffers ({drained} bytes)")
    c.close()


def abuse_slowread(a):
    """A client that keeps reading, but slower than the server answers and never quite
    all: it keeps 4 to 6 MiB of replies outstanding (below the 8 MiB cap, far above what
    the kernel buffers), reading 128 KiB every 2 ms, for a few seconds. What the server has
    already sent must not pile up in its memory. The abusing client runs as --abuser-uid
    (default root) and calls --method (List by default; a uid without rights gets small
    PermissionDenied errors instead, the same queue)."""
    method = a.method
    path = a.socket
    M = 1024 * 1024

    def fn(stop_fd, ready_fd):
        c = Conn(path, timeout=10)
        first = c.call(method)
        one = len(json.dumps(first, separators=(",", ":")).encode()) + 1
        os.write(ready_fd, b"ready")
        calls = got = 0
        how = "stopped"
        batch = encode_call(method)
        try:
            while True:
                if _stop_requested(stop_fd, 0):
                    break
                outstanding = calls * one - got
                if outstanding < 4 * M:
                    k = max(1, min(4096, (6 * M - outstanding) // one))
                    c.send_raw(batch * k)
                    calls += k
                    continue
                r, _, _ = select.select([c.sock], [], [], 1.0)
                if r:
                    d = c.sock.recv(min(128 * 1024, outstanding - int(3.5 * M)))
                    if not d:
                        how = "the server closed the connection"
                        break
                    got += len(d)
                    time.sleep(0.002)
        except (OSError, Closed) as e:
            how = "%s: %s" % (type(e).__name__, e)
        c.close()
        return {"calls": calls, "got": got, "how": how, "one": one, "reply": short(first, 120)}

    creds = (a.abuser_uid, a.abuser_gid if a.abuser_gid is not None else a.abuser_uid, []) \
        if a.abuser_uid is not None else None
    rss0, _ = daemon_mem(a.pid)
    child = Child(fn, creds)
    child.wait_ready(10)
    rss_peak, t0, aborted = rss0, time.monotonic(), ""
    while time.monotonic() - t0 < a.seconds:
        time.sleep(0.1)
        rss_peak = max(rss_peak, daemon_mem(a.pid)[0])
        if rss_peak - rss0 > a.abort_rss_growth_kib:
            aborted = "; stopped early: daemon RSS grew by more than %d MiB" % (a.abort_rss_growth_kib // 1024)
            break
    dt = time.monotonic() - t0
    res = child.stop()
    time.sleep(0.3)
    rss1, _ = daemon_mem(a.pid)
    who = "uid %d" % a.abuser_uid if a.abuser_uid is not None else "root"
    if "child_error" in res:
        ok(False, "slowread: the client ran", res["child_error"])
        return
    measure(f"slowread ({who}, {method} -> {res['reply'][:60]}..., {res['one']} bytes a reply): {res['calls']} calls, "
            f"{res['got'] / M:.1f} MiB read in {dt:.1f} s ({res['how']}{aborted}); daemon RSS {rss0} -> peak {rss_peak} KiB "
            f"(+{(rss_peak - rss0) // 1024} MiB), {rss1} KiB after the client closed")
    (ok if a.rss_checks else skip)(rss_peak - rss0 < a.max_growth_kib,
       f"slowread ({who}): the daemon's memory does not grow with what it has already sent "
       f"(+{(rss_peak - rss0) // 1024} MiB while the client read {res['got'] // M} MiB with never more than "
       f"6 MiB outstanding; limit +{a.max_growth_kib // 1024} MiB)")


def params_of_list(path):
    c = Conn(path)
    m = c.call("io.renewd.List", timeout=10)
    c.close()
    return params(m)


ABUSE = {"flood": abuse_flood, "total-cap": abuse_total_cap, "bigmsg": abuse_bigmsg,
         "slowloris": abuse_slowloris, "malformed": abuse_malformed, "noread": abuse_noread,
         "slowread": abuse_slowread}


def run_abuse(a):
    pid = a.pid
    cpu0, t0 = daemon_cpu(pid), time.monotonic()
    rss0, _ = daemon_mem(pid)
    mon = None if a.kind == "total-cap" else Monitor(a.socket, interval=0.1, timeout=2.0, creds=monitor_creds(a))
    try:
        ABUSE[a.kind](a)
        while mon and time.monotonic() - t0 < a.min_seconds:
            time.sleep(0.1)
    finally:
        res = mon.stop() if mon else None
    cpu1, t1 = daemon_cpu(pid), time.monotonic()
    rss1, hwm = daemon_mem(pid)
    cpu = cpu1 - cpu0
    wall = t1 - t0
    if res is not None:
        if "child_error" in res:
            ok(False, f"{a.kind}: the well-behaved client ran", res["child_error"])
        else:
            who = "uid %d" % a.monitor_uid if a.monitor_uid is not None else "root"
            measure(f"{a.kind}: well-behaved client ({who}): {res['n']} Status round trips from fresh connections, "
                    f"median {res['median'] * 1000:.1f} ms, p95 {res['p95'] * 1000:.1f} ms, "
                    f"max {res['max'] * 1000:.1f} ms, {len(res['failures'])} failed")
            ok(not res["failures"] and res["max"] <= 2.0,
               f"{a.kind}: the well-behaved client is answered within 2 s throughout "
               f"({res['n']} calls, max {res['max'] * 1000:.0f} ms)", "\n".join(res["failures"][:10]))
    ok(daemon_alive(pid), f"{a.kind}: the daemon is still running")
    measure(f"{a.kind}: daemon CPU {cpu:.2f} s over {wall:.1f} s ({100 * cpu / wall:.0f}% of a core); "
            f"RSS {rss0} -> {rss1} KiB (peak so far {hwm} KiB)")
    # Under a sanitizer every reply costs several times the CPU: reported, not checked.
    (ok if a.cpu_checks else skip)(cpu / wall <= a.max_cpu, f"{a.kind}: the daemon's CPU stays modest "
                                   f"({100 * cpu / wall:.0f}% of a core <= {100 * a.max_cpu:.0f}%)")
    (ok if a.rss_checks else skip)(rss1 <= a.max_rss_kib,
                                   f"{a.kind}: the daemon's RSS stays bounded ({rss1} KiB <= {a.max_rss_kib} KiB)")


# ------------------------------------------------------------------------------- CLI

def parse_value(s):
    try:
        return json.loads(s)
    except ValueError:
        return s


def cmd_call(a):
    c = Conn(a.socket, timeout=a.timeout)
    c.send_call(a.method, json.loads(a.params) if a.params else None, a.more, a.oneway)
    if a.oneway:
        ok_ = c.nothing_within(0.5)
        print("(no reply)" if ok_ else "unexpected data after a oneway call")
        return 0 if ok_ else 1
    try:
        while True:
            m = c.recv_msg(a.timeout)
            print(json.dumps(m, separators=(",", ":")), flush=True)
            if not m.get("continues"):
                return 1 if is_error(m) else 0
    except (Closed, TimeoutError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 2


def cmd_expect(a):
    p = json.loads(a.params) if a.params else None
    try:
        c = Conn(a.socket, timeout=a.timeout)
        c.send_call(a.method, p)
        m = c.recv_msg(a.timeout)
        c.close()
    except (OSError, Closed, TimeoutError) as e:
        m = "%s: %s" % (type(e).__name__, e)
    good = isinstance(m, dict)
    if a.error:
        good = good and is_error(m, a.error)
        for kv in a.param:
            k, _, v = kv.partition("=")
            good = good and params(m).get(k) == parse_value(v)
        if a.message_re:
            good = good and re.search(a.message_re, str(params(m).get("message", ""))) is not None
    else:
        good = good and not is_error(m)
        for k in a.has:
            good = good and k in params(m)
    print(f"    uid {os.getuid()} gid {os.getgid()} groups {os.getgroups()}: {a.method} -> {short(m, 400)}")
    return 0 if good else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-s", "--socket", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("params", nargs="?")
    c.add_argument("--more", action="store_true")
    c.add_argument("--oneway", action="store_true")
    c.add_argument("--timeout", type=float, default=10)

    e = sub.add_parser("expect")
    e.add_argument("method")
    e.add_argument("params", nargs="?")
    e.add_argument("--error")
    e.add_argument("--param", action="append", default=[], help="KEY=VALUE (VALUE as JSON, else a string)")
    e.add_argument("--message-re")
    e.add_argument("--reply", action="store_true")
    e.add_argument("--has", action="append", default=[])
    e.add_argument("--timeout", type=float, default=10)

    k = sub.add_parser("conform")
    k.add_argument("test", choices=sorted(CONFORM))
    k.add_argument("--cert", default="A")
    k.add_argument("--idl")

    b = sub.add_parser("abuse")
    b.add_argument("kind", choices=sorted(ABUSE))
    b.add_argument("--pid", type=int, required=True)
    b.add_argument("--count", type=int, default=100)
    b.add_argument("--monitor-uid", type=int)
    b.add_argument("--monitor-gid", type=int)
    b.add_argument("--monitor-groups", default="")
    b.add_argument("--max-cpu", type=float, default=0.5, help="fraction of a core")
    b.add_argument("--max-rss-kib", type=int, default=256 * 1024)
    b.add_argument("--seconds", type=float, default=4.0)
    b.add_argument("--min-seconds", type=float, default=2.0, help="let the monitor run at least this long")
    b.add_argument("--abort-rss-growth-kib", type=int, default=256 * 1024)
    b.add_argument("--max-growth-kib", type=int, default=32 * 1024)
    b.add_argument("--method", default="io.renewd.List")
    b.add_argument("--no-rss-checks", dest="rss_checks", action="store_false",
                   help="report RSS, do not check it (ASan builds)")
    b.add_argument("--no-cpu-checks", dest="cpu_checks", action="store_false",
                   help="report CPU use, do not check it (sanitizer builds)")
    b.add_argument("--abuser-uid", type=int)
    b.add_argument("--abuser-gid", type=int)

    a = ap.parse_args()
    if a.cmd == "call":
        return cmd_call(a)
    if a.cmd == "expect":
        return cmd_expect(a)
    if a.cmd == "conform":
        CONFORM[a.test](a)
    else:
        run_abuse(a)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
