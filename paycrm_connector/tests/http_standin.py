"""What the gateway stand-ins share: a threaded JSON server on 127.0.0.1 that
records every request, can answer slowly, and can be told to fail the next few.

Odoo-free, like the stand-ins built on it. A stand-in subclasses ``HttpStandin``
(its state, routes and error shapes) and ``JsonHandler`` (how its requests are
parsed and which headers its answers carry).
"""

import contextlib
import functools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class CIDict(dict):
    """Header dict with case-insensitive lookups, as HTTP headers are."""

    def __init__(self, items=()):
        super().__init__((k.lower(), v) for k, v in dict(items).items())

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class JsonHandler(BaseHTTPRequestHandler):
    standin = None  # set on the per-server subclass made in HttpStandin.start()
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateways' clients expect

    def log_message(self, *args):
        """Keep test output clean."""

    def read_request(self):
        """``(path, query, headers, body)`` of the request being served."""
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return split.path, split.query, CIDict(self.headers.items()), body

    def answer(self, status, payload, headers=()):
        data = json.dumps(payload).encode()
        # The client may have given up already (timeout tests): nothing to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in dict(headers).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)


class HttpStandin:
    """Server life cycle, request log and fault queue of a gateway stand-in."""

    handler_class = JsonHandler

    def __init__(self):
        self.requests = []
        self.delay = 0.0  # seconds before each answer, outside the lock
        # Seconds more before each answer to a GET of a list of ``page_paths``
        # (a bench's slow pages of events).
        self.page_delay = 0.0
        self.page_paths = set()
        self._faults = []
        self._lock = threading.RLock()
        self._server = None

    @property
    def url(self):
        if not self._server:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        handler = type("Handler", (self.handler_class,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # A delayed answer to a client that timed out must not hold up stop().
        self._server.daemon_threads = True
        self._server.block_on_close = False
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def pause(self, req):
        """Wait as long as ``delay`` (and ``page_delay`` for a page of a
        list) say, before answering ``req``: outside the lock, so concurrent
        clients overlap."""
        wait = self.delay
        if req.method == "GET" and req.path in self.page_paths:
            wait += self.page_delay
        if wait:
            time.sleep(wait)

    def calls(self, method=None, path_prefix=""):
        """The recorded requests matching method and path prefix, oldest first."""
        return [
            req
            for req in self.requests
            if method in (None, req.method) and req.path.startswith(path_prefix)
        ]

    def last(self, method=None, path_prefix=""):
        """The most recent recorded request matching method and path prefix."""
        found = self.calls(method, path_prefix)
        return found[-1] if found else None

    def fail_next(self, status=500, count=1, path_prefix=None):
        """Answer the next ``count`` requests under ``path_prefix`` with an error."""
        with self._lock:
            self._faults.append([status, count, path_prefix or ""])

    def clear_faults(self):
        """Forget the faults not used up yet."""
        with self._lock:
            self._faults.clear()

    def take_fault(self, path):
        """The status of an injected fault for ``path`` (used up), or None."""
        with self._lock:
            for fault in self._faults:
                status, count, prefix = fault
                if count > 0 and path.startswith(prefix):
                    fault[1] -= 1
                    return status
        return None
