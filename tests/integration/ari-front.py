#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ARI test front for Pebble (tests/integration/test-ari.sh).

Pebble 2.4.0 has no ACME Renewal Information (RFC 9773).  This is a small TLS-terminating
HTTP reverse proxy that sits in front of a real Pebble and adds it:

  * every request is forwarded to Pebble unchanged (method, path, body, headers) and with
    the *same Host header* the client sent to the front.  Pebble builds every URL it hands
    out (directory, Location, Link, and the JWS "url" it checks) from the Host header, so all
    URLs point at the front and every signed request still verifies at Pebble;
  * the directory gets "renewalInfo": "https://HOST/renewal-info";
  * GET /renewal-info/<certID> is answered here, with "Retry-After: 60" and a window chosen
    by the test (see "plan" below);
  * a newOrder whose "replaces" names a given certID can be refused once with an ACME
    problem (alreadyReplaced, or malformed naming "replaces"), as a CA would;
  * a JSON-lines log records every newOrder's decoded JWS payload and every renewalInfo GET
    with its certID and the window served.

Windows ("plan"): the test POSTs /test/plan {"windows": [SPEC, ...], "default": SPEC}.
Each distinct certID, in the order it is first asked about, takes the next SPEC of the
list; when the list is used up, "default" applies (initially a window years ahead).  A
SPEC is {"start": S, "end": E} with S, E seconds relative to the moment the certID was
first asked about, or {"start_at": S, "end_at": E} in absolute Unix time.  A certID keeps
its window once chosen, so repeated polls agree.

Refusals: a SPEC may also say "reject": "alreadyReplaced" or "malformed"; the first newOrder
whose "replaces" names that certID is then refused with that problem (HTTP 409 or 400,
with a fresh Replay-Nonce from Pebble), as a CA that will not take the replacement would.

Other control endpoints: GET /test/log (the log as JSON lines), GET /test/ping.
The front binds 127.0.0.1 on --port (0: any free port) and writes the port to --port-file.
"""

import argparse
import base64
import http.client
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "content-length", "expect",
}

FAR_FUTURE = {"start": 10 * 365 * 86400, "end": 10 * 365 * 86400 + 86400}


def b64url_decode(s):
    s = s.strip()
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


class State:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.log_path = log_path
        self.plan = []
        self.default = dict(FAR_FUTURE)
        self.windows = {}          # certID -> (start, end)
        self.reject = {}           # certID -> problem type, for its first replacing newOrder
        self.new_order_path = None
        self.new_nonce_path = None

    def log(self, rec):
        rec = dict(rec)
        rec["time"] = time.time()
        line = json.dumps(rec, sort_keys=True)
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def window_for(self, cert_id):
        with self.lock:
            if cert_id not in self.windows:
                now = time.time()
                spec = self.plan.pop(0) if self.plan else self.default
                if "start_at" in spec:
                    w = (int(spec["start_at"]), int(spec["end_at"]))
                else:
                    w = (int(now + spec["start"]), int(now + spec["end"]))
                self.windows[cert_id] = w
                if spec.get("reject"):
                    self.reject[cert_id] = spec["reject"]
            return self.windows[cert_id]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ari-front/1"

    def log_message(self, fmt, *args):  # quiet; the JSON log is what matters
        if self.server.verbose:
            sys.stderr.write("ari-front: " + (fmt % args) + "\n")

    # -- plumbing ----------------------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def reply(self, status, body=b"", headers=(), content_type="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        sent_ct = False
        for k, v in headers:
            if k.lower() == "content-type":
                sent_ct = True
            self.send_header(k, v)
        if body and not sent_ct and content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def upstream(self, method, path, body, headers):
        """One request to Pebble with the client's Host header; returns (status, headers, body)."""
        conn = http.client.HTTPSConnection(self.server.up_host, self.server.up_port,
                                           context=self.server.up_ctx, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                if k.lower() in HOP_BY_HOP:
                    continue
                conn.putheader(k, v)
            if body or method in ("POST", "PUT"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()

    def forward(self, body, rewrite=None):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        hdrs = [(k, v) for k, v in self.headers.items()]
        if not any(k.lower() == "host" for k, _ in hdrs):
            hdrs.insert(0, ("Host", host))
        try:
            status, rhdrs, data = self.upstream(self.command, self.path, body, hdrs)
        except Exception as e:  # pebble down: a gateway error, as a real proxy would say
            self.reply(502, json.dumps({"type": "about:blank", "detail": "ari-front: %s" % e}),
                       content_type="application/problem+json")
            return
        if rewrite and status == 200:
            data = rewrite(data, host)
        out = [(k, v) for k, v in rhdrs if k.lower() not in HOP_BY_HOP]
        self.send_response(status)
        for k, v in out:
            self.send_header(k, v)
        if self.command == "HEAD":
            cl = [v for k, v in rhdrs if k.lower() == "content-length"]
            if cl:
                self.send_header("Content-Length", cl[0])
            else:
                self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- the directory -----------------------------------------------------------------

    def rewrite_directory(self, data, host):
        try:
            d = json.loads(data)
        except ValueError:
            return data
        if not isinstance(d, dict):
            return data
        for key, attr in (("newOrder", "new_order_path"), ("newNonce", "new_nonce_path")):
            if isinstance(d.get(key), str):
                setattr(self.server.state, attr, urllib.parse.urlsplit(d[key]).path)
        d["renewalInfo"] = "https://%s/renewal-info" % host
        if self.server.profiles:
            meta = d.setdefault("meta", {})
            meta["profiles"] = {p: "test profile %s" % p for p in self.server.profiles}
        return json.dumps(d, indent=2).encode()

    # -- renewalInfo -------------------------------------------------------------------

    def renewal_info(self, cert_id):
        st = self.server.state
        start, end = st.window_for(cert_id)
        st.log({"type": "renewalInfo", "certID": cert_id, "start": start, "end": end})
        body = json.dumps({"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}})
        self.reply(200, body, headers=[("Retry-After", "60"), ("Cache-Control", "public, max-age=0")])

    # -- newOrder ----------------------------------------------------------------------

    def fresh_nonce(self):
        st = self.server.state
        if not st.new_nonce_path:
            return None
        try:
            _, hdrs, _ = self.upstream("HEAD", st.new_nonce_path, b"", [("Host", self.headers.get("Host", ""))])
        except Exception:
            return None
        for k, v in hdrs:
            if k.lower() == "replay-nonce":
                return v
        return None

    def maybe_new_order(self, body):
        """Log a newOrder; returns True when it was answered here (refused)."""
        st = self.server.state
        try:
            jws = json.loads(body)
            prot = json.loads(b64url_decode(jws["protected"]))
            url_path = urllib.parse.urlsplit(prot.get("url", "")).path
        except Exception:
            return False
        if not st.new_order_path or url_path != st.new_order_path:
            return False
        try:
            payload = json.loads(b64url_decode(jws.get("payload", ""))) if jws.get("payload") else None
        except Exception:
            payload = None
        refused = None
        with st.lock:
            if isinstance(payload, dict) and isinstance(payload.get("replaces"), str):
                refused = st.reject.pop(payload["replaces"], None)
        st.log({"type": "newOrder", "payload": payload, "refused": refused})
        if not refused:
            return False
        if refused == "alreadyReplaced":
            status = 409
            problem = {"type": "urn:ietf:params:acme:error:alreadyReplaced",
                       "detail": "ari-front: the certificate in \"replaces\" was already replaced"}
        else:
            status = 400
            problem = {"type": "urn:ietf:params:acme:error:malformed",
                       "detail": "ari-front: unknown certificate in the replaces field"}
        hdrs = [("Content-Type", "application/problem+json")]
        nonce = self.fresh_nonce()
        if nonce:
            hdrs.append(("Replay-Nonce", nonce))
        self.reply(status, json.dumps(problem), headers=hdrs)
        return True

    # -- test control ------------------------------------------------------------------

    def control(self, body):
        st = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            self.reply(400, '{"error": "bad json"}')
            return
        if path == "/test/ping":
            self.reply(200, '{"ok": true}')
        elif path == "/test/log":
            with st.lock:
                try:
                    with open(st.log_path, "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    data = b""
            self.reply(200, data, content_type="application/x-ndjson")
        elif path == "/test/plan" and self.command == "POST":
            with st.lock:
                st.plan = list(req.get("windows", []))
                if "default" in req:
                    st.default = req["default"]
            self.reply(200, '{"ok": true}')
        else:
            self.reply(404, '{"error": "unknown control endpoint"}')

    # -- dispatch ----------------------------------------------------------------------

    def handle_any(self):
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/test/"):
            self.control(body)
        elif path.startswith("/renewal-info/") and self.command in ("GET", "HEAD"):
            self.renewal_info(path[len("/renewal-info/"):])
        elif path == self.server.dir_path and self.command == "GET":
            self.forward(body, rewrite=self.rewrite_directory)
        elif self.command == "POST" and self.maybe_new_order(body):
            pass
        elif self.server.drop_challenges:
            self.forward(body, rewrite=self.drop_challenges)
        else:
            self.forward(body)

    def drop_challenges(self, data, host):
        """Leave the challenges of the dropped types out of authorization objects, as a CA
        that does not offer them would."""
        try:
            d = json.loads(data)
        except ValueError:
            return data
        if not isinstance(d, dict) or not isinstance(d.get("challenges"), list):
            return data
        d["challenges"] = [c for c in d["challenges"]
                           if not (isinstance(c, dict) and c.get("type") in self.server.drop_challenges)]
        return json.dumps(d, indent=2).encode()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert", required=True, help="TLS certificate of the front (covers 127.0.0.1)")
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream", required=True, help="Pebble's base URL, https://127.0.0.1:PORT")
    ap.add_argument("--upstream-ca", required=True, help="root that signed Pebble's HTTPS certificate")
    ap.add_argument("--dir-path", default="/dir")
    ap.add_argument("--log", required=True, help="JSON-lines log of newOrder and renewalInfo requests")
    ap.add_argument("--profiles", default="", help="comma-separated names for the directory's meta.profiles")
    ap.add_argument("--drop-challenge", action="append", default=[],
                    help="leave challenges of this type out of authorizations (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    up = urllib.parse.urlsplit(a.upstream)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.verbose = a.verbose
    srv.state = State(a.log)
    srv.dir_path = a.dir_path
    srv.profiles = [p for p in a.profiles.split(",") if p]
    srv.drop_challenges = set(a.drop_challenge)
    srv.up_host = up.hostname
    srv.up_port = up.port or 443
    srv.up_ctx = ssl.create_default_context(cafile=a.upstream_ca)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    open(a.log, "a").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
