#!/usr/bin/env python3
"""token-registry.py - a read-only registry on loopback with bearer-token auth, for tests.

    token-registry.py LAYOUT PORTFILE [--user U:P] [--slow] [--cut-file PATH]

Serves the OCI image layout LAYOUT (its index.json tags) the way Docker Hub does: GET /v2/
answers 401 with `WWW-Authenticate: Bearer realm=".../token",service="cabin-test"`; /token
gives a token (checking basic credentials when --user is set, and the scope); manifests
need the token; blobs answer with a 307 redirect to /storage/ (as registries send blobs to
object storage) where Range requests are honoured. It writes its port to PORTFILE and logs
each request's method, path and Range header to stderr. With --slow, blob bodies go out in
64 KB pieces 10 ms apart after 300 ms, and each /storage/ request logs how many blob transfers are in
flight at its start (`active N`), which shows whether a client downloads in parallel. With --cut-file PATH, when PATH exists
and holds N, the next blob body longer than N is cut after N bytes (the connection is
closed, as a network failure would) and PATH is removed.
"""
import base64
import http.server
import json
import os
import sys
import threading
import time

LAYOUT, PORTFILE = sys.argv[1], sys.argv[2]
USER = sys.argv[sys.argv.index("--user") + 1] if "--user" in sys.argv else None
SLOW = "--slow" in sys.argv
CUT = sys.argv[sys.argv.index("--cut-file") + 1] if "--cut-file" in sys.argv else None
TOKEN = "cabin-test-token"
ACTIVE = [0]
LOCK = threading.Lock()


def tags():
    with open(os.path.join(LAYOUT, "index.json")) as f:
        idx = json.load(f)
    return {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m
            for m in idx["manifests"]}


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        hdrs = getattr(self, "headers", None)
        sys.stderr.write("%s %s range=%s\n" % (getattr(self, "command", "?"),
                                               getattr(self, "path", "?"),
                                               hdrs.get("Range") if hdrs else None))

    def send(self, code, body=b"", headers=(), before_last=None):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not before_last:
            self.wfile.write(body)
            return
        pieces = [body[i:i + 65536] for i in range(0, len(body), 65536)] or [b""]
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(0.01)
            if i == len(pieces) - 1:
                before_last()
            self.wfile.write(piece)
            self.wfile.flush()

    def storage(self, code, body, headers=()):
        done = []

        def leave():
            # before the last bytes go out: the client cannot start its next transfer
            # while this one still counts as active
            if not done:
                done.append(1)
                with LOCK:
                    ACTIVE[0] -= 1
        with LOCK:
            ACTIVE[0] += 1
            sys.stderr.write("active %d\n" % ACTIVE[0])
            cut = None
            if CUT and os.path.exists(CUT):
                n = int(open(CUT).read())
                if len(body) > n:
                    cut = n
                    os.unlink(CUT)
        if cut is not None:
            sys.stderr.write("cut after %d\n" % cut)
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            leave()
            return
        try:
            if SLOW:
                time.sleep(0.3)
                self.send(code, body, headers, before_last=leave)
            else:
                self.send(code, body, headers)
        finally:
            leave()

    def challenge(self):
        host = self.headers.get("Host")
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [
            ("WWW-Authenticate",
             'Bearer realm="http://%s/token",service="cabin-test"' % host)])

    def authed(self):
        return self.headers.get("Authorization") == "Bearer " + TOKEN

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path
        if p.startswith("/token"):
            if USER:
                a = self.headers.get("Authorization", "")
                if a != "Basic " + base64.b64encode(USER.encode()).decode():
                    return self.send(401, b'{"details":"bad credentials"}')
            if "scope=repository%3A" not in p and "scope=repository:" not in p:
                return self.send(400, b'{"details":"no scope"}')
            return self.send(200, json.dumps({"token": TOKEN}).encode(),
                             [("Content-Type", "application/json")])
        if p.startswith("/storage/"):
            data = open(os.path.join(LAYOUT, "blobs", "sha256", p[9:]), "rb").read()
            r = self.headers.get("Range")
            if r and r.startswith("bytes="):
                start = int(r[6:].split("-")[0])
                return self.storage(206, data[start:], [
                    ("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
            return self.storage(200, data)
        if not p.startswith("/v2/"):
            return self.send(404)
        if not self.authed():
            return self.challenge()
        if p == "/v2/":
            return self.send(200, b"{}")
        parts = p.split("/")
        if len(parts) >= 5 and parts[-2] == "manifests":
            ref = parts[-1]
            desc = tags().get(ref)
            digest = desc["digest"] if desc else ref
            path = os.path.join(LAYOUT, "blobs", "sha256", digest[7:])
            if not digest.startswith("sha256:") or not os.path.exists(path):
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            body = open(path, "rb").read()
            mt = json.loads(body).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            return self.send(200, body, [("Content-Type", mt),
                                         ("Docker-Content-Digest", digest)])
        if len(parts) >= 5 and parts[-2] == "blobs":
            return self.send(307, b"", [("Location", "/storage/" + parts[-1][7:])])
        return self.send(404)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
