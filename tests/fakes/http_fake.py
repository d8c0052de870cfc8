"""A scriptable HTTP server on 127.0.0.1 for connector tests.

Generic on purpose: connector-specific fakes (Salesforce, HubSpot...) register their routes on
it. Routes answer ``(status, headers, body)``; failure switches let tests provoke the errors the
connectors must survive (5xx, slow answers, malformed bodies, random failures)::

    with FakeHttpServer() as server:
        server.route("GET", "/items", lambda request: (200, {}, {"items": []}))
        server.fail_next(1, status=503)
        ...
        assert len(server.requests) == 2
"""

import json as jsonlib
import random
import re
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

MALFORMED_BODY = b'{"this is": not valid json'
_CHUNK_LIMIT = 64 * 1024 * 1024


class FakeRequest:
    """One request as received by the fake server."""

    def __init__(self, method, raw_path, headers, body):
        parts = urlsplit(raw_path)
        self.method = method
        self.raw_path = raw_path
        self.path = parts.path
        self.query_lists = parse_qs(parts.query, keep_blank_values=True)
        # Single-valued view (last value wins), which is what most tests want.
        self.query = {name: values[-1] for name, values in self.query_lists.items()}
        self.headers = CaseInsensitiveDict(headers)
        self.body = body
        self.match = None  # re.Match when the route path is a regex
        self.status = None  # status the server answered, filled in after handling

    def json(self):
        """Parse the body as JSON (raises ValueError when it is not)."""
        return jsonlib.loads(self.body.decode("utf-8")) if self.body else None

    def __repr__(self):
        return f"<FakeRequest {self.method} {self.raw_path} -> {self.status}>"


def _encode_body(body, headers):
    """Turn a handler's body into bytes and set a sensible Content-Type when none is given."""
    headers = CaseInsensitiveDict(headers or {})
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
        headers.setdefault("Content-Type", "application/octet-stream")
    elif isinstance(body, str):
        data = body.encode("utf-8")
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
    else:  # dict, list, numbers: JSON
        data = jsonlib.dumps(body).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    return data, headers


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so handler threads end with their response and
    # server_close() can join them (no lingering keep-alive threads).
    protocol_version = "HTTP/1.0"
    timeout = 10  # a client that connects and sends nothing cannot block shutdown forever
    fake = None  # the FakeHttpServer, set on a per-server subclass

    def log_message(self, format, *args):  # quiet: tests assert on server.requests instead
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()  # blank line after the last chunk
                    return b"".join(chunks)
                total += size
                if total > _CHUNK_LIMIT:
                    raise ValueError("chunked body too large for the fake server")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        request = FakeRequest(self.command, self.path, dict(self.headers.items()), b"")
        try:
            request.body = self._read_body()
            status, headers, body = self.fake._respond(request)
        except Exception:  # a bug in a test handler: answer 500 and keep the traceback
            self.fake.errors.append(traceback.format_exc())
            status, headers, body = 500, {}, {"message": "fake handler crashed"}
        data, headers = _encode_body(body, headers)
        request.status = status
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (read timeout): expected in timeout tests

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # non-daemon handler threads are joined by server_close()
    block_on_close = True


class FakeHttpServer:
    """Threaded HTTP server on 127.0.0.1 with routes and failure switches.

    ``port=0`` picks a free port (tests); a fixed port serves demos that need a stable URL.
    """

    def __init__(self, port=0):
        self._bind_port = port
        self.requests: list[FakeRequest] = []
        self.errors: list[str] = []  # tracebacks of handlers that crashed
        self._routes: list[tuple[str, object, object]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # wakes delayed handlers on shutdown
        self._server = None
        self._thread = None
        self.reset()

    # Lifecycle -------------------------------------------------------------------------------

    def start(self):
        handler = type("FakeHandler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._bind_port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeHttpServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Scripting -------------------------------------------------------------------------------

    def route(self, method, path, handler):
        """Answer ``method`` on ``path`` with ``handler(request) -> (status, headers, body)``.

        ``path`` is an exact path or a compiled regex (full match, groups in request.match);
        ``handler`` may also be a fixed ``(status, headers, body)`` tuple. Later routes win.
        """
        with self._lock:
            self._routes.insert(0, (method.upper(), path, handler))

    def fail_next(self, n, status=503, headers=None, body=None):
        """Answer the next ``n`` requests (any route) with ``status`` instead of the route."""
        default = {"message": f"fake failure (HTTP {status})"}
        with self._lock:
            self._failures.extend([(status, headers or {}, default if body is None else body)] * n)

    def delay_next(self, n, seconds):
        """Wait ``seconds`` before answering each of the next ``n`` requests (client timeouts)."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def malformed_next(self, n):
        """Answer the next ``n`` requests with HTTP 200 and a body that is not valid JSON."""
        with self._lock:
            self._malformed += n

    def fail_rate(self, p, seed, status=503):
        """Fail each later request with probability ``p`` (reproducible with ``seed``)."""
        with self._lock:
            self._random_failure = (p, random.Random(seed), status)

    def reset(self):
        """Clear failure switches, recorded requests and errors (routes are kept)."""
        with self._lock:
            self._failures = []
            self._delays = []
            self._malformed = 0
            self._random_failure = None
            self.requests.clear()
            self.errors.clear()

    # Dispatch --------------------------------------------------------------------------------

    def _respond(self, request):
        with self._lock:
            self.requests.append(request)
            delay = self._delays.pop(0) if self._delays else 0
            failure = self._failures.pop(0) if self._failures else None
            malformed = False
            if failure is None and self._malformed:
                self._malformed -= 1
                malformed = True
            if failure is None and not malformed and self._random_failure:
                p, rng, status = self._random_failure
                if rng.random() < p:
                    failure = (status, {}, {"message": f"fake random failure (HTTP {status})"})
            handler = None if failure or malformed else self._find_route(request)
        if delay:
            self._stopping.wait(delay)
        if failure:
            return failure
        if malformed:
            return 200, {"Content-Type": "application/json"}, MALFORMED_BODY
        if handler is None:
            message = f"no fake route for {request.method} {request.path}"
            return 404, {}, {"message": message}
        if isinstance(handler, tuple):
            return handler
        return handler(request)

    def _find_route(self, request):
        for method, path, handler in self._routes:
            if method not in (request.method, "*"):
                continue
            if isinstance(path, re.Pattern):
                match = path.fullmatch(request.path)
                if match:
                    request.match = match
                    return handler
            elif path == request.path:
                return handler
        return None
