#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for renewd's control socket, for tests/integration/test-renewctl-offline.sh.

Listens on a Unix socket and answers io.renewd calls with canned Varlink replies (JSON
object + NUL), so renewctl's output, exit statuses and progress streaming can be checked
without a daemon.  Each connection is served by its own thread; every call received is
appended to --log as one JSON line ({"method", "parameters", "more", "oneway"}).

Modes (--mode):
  ok             every certificate fine; Show knows site-one, site-two and broken;
                 Renew streams queued ... installed per name ("site-two" is not-due
                 unless forced; "broken" fails; "slow" waits between events), then a last
                 reply {"event": "done", renewed, failed}, or RenewalFailed if any failed
  failing        as ok, plus a failing certificate with a long, multi-line last_error
  window         all valid, but one certificate's next_renewal is in the past
  many           List returns --count certificates (a reply far over 64 KiB)
  denied         every call fails with io.renewd.PermissionDenied
  varlink-denied every call fails with org.varlink.service.PermissionDenied
  reload-fails   Reload fails with io.renewd.ReloadFailed
  stuck          reads calls, never answers
  close          closes the connection after reading a call
  garbage        answers with a message that is not a Varlink reply

Replies are written in odd ways on purpose: Status byte by byte, Renew's events of a
non-slow renewal all in one write.  The times are relative to now so the output is stable.
Writes "ready" to --ready once listening.
"""

import argparse
import datetime
import json
import os
import socket
import threading
import time

DAY = 86400


def ts(offset):
    t = datetime.datetime.fromtimestamp(time.time() + offset, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cert(name, domains, state="valid", expires_in=60 * DAY + 3600,
         renew_in=30 * DAY + 3600, error=None, failures=0):
    return {
        "name": name,
        "domains": domains,
        "state": state,
        "not_after": ts(expires_in) if expires_in is not None else None,
        "next_renewal": ts(renew_in) if renew_in is not None else None,
        "serial": "4f3a9c0b1d2e",
        "version": 3,
        "last_error": error,
        "consecutive_failures": failures,
        "last_success": ts(-30 * DAY),
        "last_failure": ts(-3600) if error else None,
        "ari_window_start": None,
        "ari_window_end": None,
    }


LONG_ERROR = ("urn:ietf:params:acme:error:unauthorized: Invalid response from "
              "http://b.example.test/.well-known/acme-challenge/xyz: 404\n\x1b[31mnot found\x1b[0m "
              "and a lot more text that no table column should ever show in full")


def certificates(mode, count):
    if mode == "many":
        return [cert("cert-%05d" % i, ["host%d.example.test" % i]) for i in range(count)]
    certs = [
        cert("site-one", ["a.example.test", "www.a.example.test", "api.a.example.test"]),
        cert("site-two", ["two.example.test"], expires_in=5 * DAY + 3600, renew_in=2 * DAY + 3600),
    ]
    if mode == "failing":
        certs.append(cert("broken", ["b.example.test"], state="failing", expires_in=10 * DAY + 3600,
                          renew_in=-2 * DAY, error=LONG_ERROR, failures=4))
    if mode == "window":
        certs.append(cert("late", ["late.example.test"], expires_in=20 * DAY + 3600, renew_in=-3600))
    return certs


class Conn:
    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.buf = b""

    def send(self, msgs, chunk=None, delay=0.0):
        data = b"".join(json.dumps(m).encode() + b"\0" for m in msgs)
        if chunk:
            for i in range(0, len(data), chunk):
                self.sock.sendall(data[i:i + chunk])
                time.sleep(0.001)
        else:
            self.sock.sendall(data)
        if delay:
            time.sleep(delay)

    def calls(self):
        while True:
            while b"\0" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    return
                self.buf += data
            raw, self.buf = self.buf.split(b"\0", 1)
            yield json.loads(raw)

    def serve(self):
        for call in self.calls():
            with open(self.args.log, "a") as f:
                f.write(json.dumps({
                    "method": call.get("method"),
                    "parameters": call.get("parameters") or {},
                    "more": bool(call.get("more")),
                    "oneway": bool(call.get("oneway")),
                }) + "\n")
            if self.args.mode == "stuck":
                continue
            if self.args.mode == "close":
                return
            if self.args.mode == "garbage":
                self.sock.sendall(b'{"parameters": {}, "bogus": 1}\0')
                continue
            if call.get("oneway"):
                continue
            self.answer(call)

    def error(self, name, params):
        self.send([{"error": name, "parameters": params}])

    def answer(self, call):
        mode = self.args.mode
        method = call.get("method", "")
        params = call.get("parameters") or {}
        if mode == "denied":
            return self.error("io.renewd.PermissionDenied", {"method": method})
        if mode == "varlink-denied":
            return self.error("org.varlink.service.PermissionDenied", {})

        certs = certificates(mode, self.args.count)
        if method == "io.renewd.Status":
            counts = {s: sum(1 for c in certs if c["state"] == s)
                      for s in ("valid", "due", "renewing", "failing", "missing")}
            nxt = min(certs, key=lambda c: c["next_renewal"])
            reply = {"version": "9.9.9-fake", "uptime_sec": 3 * DAY + 4 * 3600 + 5,
                     "certificates": len(certs), **counts,
                     "next_renewal": nxt["next_renewal"], "next_certificate": nxt["name"]}
            return self.send([{"parameters": reply}], chunk=1)
        if method == "io.renewd.List":
            return self.send([{"parameters": {"certificates": certs}}])
        if method == "io.renewd.Show":
            name = params.get("name")
            known = {c["name"]: c for c in certificates("failing", 0)}
            if name not in known:
                return self.error("io.renewd.NoSuchCertificate", {"name": name})
            return self.send([{"parameters": {"certificate": known[name]}}])
        if method == "io.renewd.Reload":
            if mode == "reload-fails":
                return self.error("io.renewd.ReloadFailed",
                                  {"message": "/etc/renewd/renewd.conf:7: unknown key 'colour'"})
            return self.send([{}])
        if method == "io.renewd.Renew":
            return self.renew(call, params)
        return self.error("org.varlink.service.MethodNotFound", {"method": method})

    def renew(self, call, params):
        names = params.get("names") or []
        if params.get("all"):
            names = [c["name"] for c in certificates(self.args.mode, self.args.count)]
        for n in names:
            if n not in ("site-one", "site-two", "broken", "slow", "late"):
                return self.error("io.renewd.NoSuchCertificate", {"name": n})
        if not call.get("more"):
            return self.send([{"parameters": {"event": "done", "renewed": len(names), "failed": 0}}])
        renewed = 0
        failed = []
        for n in names:
            if n == "site-two" and not params.get("force"):
                self.send([{"parameters": {"name": n, "event": "not-due"}, "continues": True}])
                continue
            events = [("queued", None), ("order-created", "order 17"), ("challenge-ready", "http-01"),
                      ("validated", None)]
            if n == "broken":
                events.append(("failed", "urn:ietf:params:acme:error:unauthorized: 404 for the token"))
                failed.append(n)
            else:
                events += [("finalized", None), ("downloaded", None), ("installed", "version 4")]
                renewed += 1
            msgs = []
            for ev, detail in events:
                p = {"name": n, "event": ev}
                if detail:
                    p["detail"] = detail
                msgs.append({"parameters": p, "continues": True})
            if n == "slow":
                for m in msgs:
                    self.send([m], delay=0.5)
            else:
                self.send(msgs)
        if failed:
            # As renewd does: the stream of a renewal that failed ends with an error.
            return self.error("io.renewd.RenewalFailed", {"names": failed, "message": "renewal failed"})
        self.send([{"parameters": {"event": "done", "renewed": renewed, "failed": 0}}])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--count", type=int, default=3000)
    args = ap.parse_args()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    srv.listen(16)
    with open(args.ready, "w") as f:
        f.write("ready\n")

    def handle(sock):
        with sock:
            try:
                Conn(sock, args).serve()
            except (BrokenPipeError, ConnectionResetError):
                pass

    while True:
        sock, _ = srv.accept()
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
