"""A token check in front of a Chroma server: ``semsearch serve`` on an address other than
loopback.

Chroma's own server (``chroma run``, 1.x) accepts every request, and its token settings are
not read by it, so semsearch puts this proxy on the public address and runs Chroma on a
loopback port behind it. Every request must carry the token, as ``X-Chroma-Token: TOKEN``
or ``Authorization: Bearer TOKEN`` (what Chroma's own token client sends); only the
heartbeat answers without it, so a client can tell "wrong token" from "no server".
Requests and answers are passed through whole (Chroma's are small JSON).
"""

from __future__ import annotations

import hmac
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HEADER = "X-Chroma-Token"
PUBLIC = {"/api/v2/heartbeat", "/api/v1/heartbeat"}
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
       "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
#: seconds the proxy waits for Chroma
UPSTREAM_TIMEOUT = 300


def token_of(headers: Any) -> str:
    given = headers.get(HEADER) or ""
    auth = headers.get("Authorization") or ""
    if not given and auth.lower().startswith("bearer "):
        given = auth[7:]
    return given.strip()


class TokenProxy(ThreadingHTTPServer):
    """Listens on (host, port); forwards requests that carry ``token`` to ``upstream``."""

    daemon_threads = True

    def __init__(self, host: str, port: int, upstream: tuple[str, int], token: str) -> None:
        self.upstream = upstream
        self.token = token
        self.address_family = __import__("socket").AF_INET6 if ":" in host else \
            __import__("socket").AF_INET
        super().__init__((host, port), _Handler)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="semsearch-proxy",
                                  daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: TokenProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        return  # quiet: Chroma logs requests itself

    def _refuse(self, code: int, message: str) -> None:
        body = ('{"error": "' + message + '"}').encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        path = self.path.split("?", 1)[0]
        if path not in PUBLIC and not hmac.compare_digest(
                token_of(self.headers).encode(), self.server.token.encode()):
            self._refuse(401, "a semsearch token is required (X-Chroma-Token)")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except OSError as e:
            self._refuse(502, f"Chroma did not answer: {e}")
            return
        finally:
            conn.close()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _forward  # noqa: N815
