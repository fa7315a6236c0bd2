"""A server on 127.0.0.1 that answers every request with one canned answer:
something that is not Stripe or PayPal (HTML, junk JSON, a bare 404...), to
test that a misconfigured API Base URL gets a plain sentence.

Odoo-free, like the other stand-ins.
"""

import contextlib
import time

from .http_standin import HttpStandin, JsonHandler


class JunkStandin(HttpStandin):
    """Set ``status``, ``body`` (bytes) and ``content_type`` before a call."""

    def __init__(self, status=200, body=b"", content_type="text/html"):
        super().__init__()
        self.handler_class = _Handler
        self.status = status
        self.body = body
        self.content_type = content_type

    def serve(self, status, body, content_type="application/json"):
        self.status, self.body, self.content_type = status, body, content_type
        return self


class _Handler(JsonHandler):
    def _serve(self):
        path, _query, _headers, _body = self.read_request()
        standin = self.standin
        standin.requests.append((self.command, path))
        if standin.delay:
            time.sleep(standin.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(standin.status)
            self.send_header("Content-Type", standin.content_type)
            self.send_header("Content-Length", str(len(standin.body)))
            self.end_headers()
            self.wfile.write(standin.body)

    do_GET = do_POST = _serve
