"""A forwarding HTTP server in front of Prism that puts its own address where GitHub's examples
say `https://api.github.com`, and keeps every exchange.

Prism answers with the description's examples, whose URLs point at api.github.com, and PyGithub
follows an object's own `url` for the next call (a repository's `/pulls`). PyGithub 2.10 keeps
only such a URL's path (older releases refused another host); with the hosts rewritten, each call
reaches Prism either way, which validates it against GitHub's description.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

GITHUB_API = b"https://api.github.com"
_HOP_BY_HOP = {"connection", "transfer-encoding", "content-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # with its query
    headers: dict[str, str]
    body: bytes
    status: int


class RewritingProxy:
    def __init__(self, upstream: str) -> None:
        self.exchanges: list[Exchange] = []
        # (method, path) → the status Prism should answer with, from the description's examples
        # of that status (Prism's `Prefer: code=` header): a refusal GitHub documents.
        self.prefer: dict[tuple[str, str], int] = {}
        self._upstream = httpx.Client(base_url=upstream, timeout=60.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def calls(self) -> list[tuple[str, str, int]]:
        return [(e.method, e.path.split("?", 1)[0], e.status) for e in self.exchanges]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                code = proxy.prefer.get((self.command, self.path.split("?", 1)[0]))
                if code is not None:
                    headers["Prefer"] = f"code={code}"
                answer = proxy._upstream.request(
                    self.command, self.path, headers=headers, content=body
                )
                proxy.exchanges.append(
                    Exchange(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        answer.status_code,
                    )
                )
                content = answer.content.replace(GITHUB_API, proxy.url.encode())
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value.replace(GITHUB_API.decode(), proxy.url))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _forward
            do_POST = _forward
            do_PATCH = _forward
            do_PUT = _forward
            do_DELETE = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def rewriting_proxy(upstream: str) -> Iterator[RewritingProxy]:
    proxy = RewritingProxy(upstream)
    proxy._thread.start()
    try:
        yield proxy
    finally:
        proxy._server.shutdown()
        proxy._server.server_close()
        proxy._upstream.close()
