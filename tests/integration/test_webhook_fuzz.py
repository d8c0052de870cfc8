"""Fuzzing the webhook route over loopback: thousands of seeded random requests, each class of
input with its documented answer (readme/DESCRIPTION.md, Webhooks), never a 500, and exactly the
expected jobs created."""

import collections
import hashlib
import importlib.util
import json
import os
import random
import socket
import time

import requests

from .conftest import ROOT, OdooServer, query, wait_until
from .test_queue_processes import reset_queue, setup

SECRET = "fuzz-webhook-secret-0123"
SEED = int(os.environ.get("FUZZ_SEED", "20261205"))
# 2,000 in make test (about a minute on an idle 2-core machine); FUZZ_REQUESTS=10000 for more.
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "2000"))
TIME_LIMIT = 420  # seconds for the whole fuzz, on a loaded 2-core machine
BODY_LIMIT = 16384  # the backend's webhook size limit in this test


def _signatures():
    path = ROOT / "addons" / "connector_base" / "engine" / "signatures.py"
    spec = importlib.util.spec_from_file_location("connector_signatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIGN = _signatures().sign_generic


class Fuzzer:
    def __init__(self, base, db, key, rng):
        self.base, self.db, self.key, self.rng = base, db, key, rng
        self.path = f"/connector/webhook/{db}/{key}"
        self.url = base + self.path
        self.session = requests.Session()

    # Building blocks --------------------------------------------------------------------------

    def nonce(self):
        return f"{self.rng.getrandbits(64):016x}"

    def signed_headers(self, body, content_type="application/json", url=None, timestamp=None):
        timestamp = int(time.time()) if timestamp is None else timestamp
        return {
            "Content-Type": content_type,
            "X-Connector-Timestamp": str(timestamp),
            "X-Connector-Signature": SIGN(SECRET, timestamp, "POST", url or self.url, body),
        }

    def event(self, **overrides):
        event = {
            "id": f"evt-{self.nonce()}",
            "type": self.rng.choice(["record.upsert", "contact.updated", "deal.won"]),
            "object_id": f"R-{self.rng.randrange(10_000)}",
            "data": {"name": self.weird_text(), "value": self.rng.randrange(-(10**9), 10**9)},
        }
        event.update(overrides)
        return event

    def weird_text(self, max_length=40):
        alphabet = "abcXYZ019 _-.:/\\\"'{}[]<>%&=?\x00\x01\x7f\u00e9\u4e2d\U0001f600\ud800"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randrange(max_length)))

    def post(self, body, headers, path=None):
        response = self.session.post(
            self.base + (path or self.path), data=body, headers=headers, timeout=60
        )
        self.last_size = len(body)
        return response.status_code

    def raw(self, request_bytes):
        """Send bytes as they are (chunked, malformed) and return the status code."""
        with socket.create_connection(("127.0.0.1", int(self.base.rsplit(":", 1)[1]))) as sock:
            sock.settimeout(60)
            sock.sendall(request_bytes)
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0

    def raw_headers(self, path, headers, extra=b""):
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.base.split('//')[1]}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + extra

    # Classes of input: (name, function returning (status, jobs it must create)) -------------

    def valid_event(self):
        body = json.dumps(self.event()).encode()
        return self.post(body, self.signed_headers(body)), 1

    def redelivery(self):
        body = json.dumps(self.event(id="evt-redelivered-once")).encode()
        status = self.post(body, self.signed_headers(body))
        return status, 1 if not getattr(self, "_redelivered", False) else 0

    def event_list(self):
        count = self.rng.randrange(1, 6)
        body = json.dumps([self.event() for _ in range(count)]).encode()
        return self.post(body, self.signed_headers(body)), count

    def hostile_ids(self):
        """Ids of several KB, NUL, control characters, unpaired surrogates, non-string ids."""
        choice = self.rng.randrange(5)
        if choice == 0:
            event_id = "".join(chr(self.rng.randrange(33, 0x2FFF)) for _ in range(2000))
        elif choice == 1:
            event_id = f"evt\x00{self.nonce()}\x00"
        elif choice == 2:
            event_id = f"\ud800{self.nonce()}\x1b[31m"
        elif choice == 3:
            event_id = {"nested": self.nonce()}
        else:
            event_id = self.nonce() * 300
        event = self.event(id=event_id, object_id=self.weird_text(1500) + self.nonce())
        body = json.dumps(event).encode()
        return self.post(body, self.signed_headers(body)), 1

    def not_json(self):
        body = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 400)))
        body += self.nonce().encode()
        return self.post(body, self.signed_headers(body)), 1

    def json_not_events(self):
        payload = self.rng.choice(
            [
                self.rng.randrange(10**6),
                [1, 2, self.nonce()],
                {"no_type": self.nonce()},
                {"type": "", "id": self.nonce()},
                [{"type": "x", "id": self.nonce()}, "not an object"],
                "just a string " + self.nonce(),
            ]
        )
        body = json.dumps(payload).encode()
        return self.post(body, self.signed_headers(body)), 1

    def deep_json(self):
        depth = self.rng.randrange(65, 2000)
        if self.rng.random() < 0.5:
            body = b"[" * depth + self.nonce().encode().join([b'"', b'"']) + b"]" * depth
        else:
            inner = b'{"a": ' * depth + b"1" + b"}" * depth
            body = b'{"type": "x", "id": "' + self.nonce().encode() + b'", "data": ' + inner + b"}"
        return self.post(body, self.signed_headers(body)), 1

    def bad_signature(self):
        body = json.dumps(self.event()).encode()
        headers = self.signed_headers(body)
        choice = self.rng.randrange(6)
        if choice == 0:
            headers["X-Connector-Signature"] = "v1=" + hashlib.sha256(body).hexdigest()
        elif choice == 1:
            del headers["X-Connector-Signature"]
        elif choice == 2:
            headers["X-Connector-Timestamp"] = self.rng.choice(
                ["12ab", "9" * 20, "-5", "1e9", "\u00e9t\u00e9"]
            ).encode()
        elif choice == 3:
            headers = self.signed_headers(body, timestamp=int(time.time()) - 3600)
        elif choice == 4:
            headers["X-Connector-Signature"] = "v2=" + "0" * 64
        else:
            headers = self.signed_headers(body + b" ")
        return self.post(body, headers), 0

    def unknown_url(self):
        choice = self.rng.randrange(4)
        if choice == 0:
            path = f"/connector/webhook/{self.db}/{self.key}%00"
        elif choice == 1:
            path = f"/connector/webhook/{self.db}/{self.nonce()}%ff%00{'x' * 3000}"
        elif choice == 2:
            path = f"/connector/webhook/{self.db}%00/{self.key}"
        else:
            path = f"/connector/webhook/no_such_db_{self.nonce()}/{self.key}"
        body = json.dumps(self.event()).encode()
        return self.post(body, self.signed_headers(body), path=path), 0

    def oversized(self):
        body = json.dumps(self.event(data={"blob": "x" * (BODY_LIMIT + 10)})).encode()
        return self.post(body, self.signed_headers(body)), 0

    def chunked(self):
        body = json.dumps(self.event()).encode()
        headers = self.signed_headers(body)
        headers["Transfer-Encoding"] = "chunked"
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
        chunked = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
        return self.raw(self.raw_headers(self.path, headers, chunked)), 1

    def chunked_unsigned(self):
        headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}
        return self.raw(self.raw_headers(self.path, headers, b"5\r\nhello\r\n0\r\n\r\n")), 0

    def malformed_chunks(self):
        headers = self.signed_headers(b"whatever")
        headers["Transfer-Encoding"] = "chunked"
        return self.raw(self.raw_headers(self.path, headers, b"zz\r\nnot a chunk\r\n")), 0

    def cut_short(self):
        headers = self.signed_headers(b"{}")
        headers["Content-Length"] = "500"
        return self.raw(self.raw_headers(self.path, headers, b'{"type": ')), 0

    def form_event(self):
        """A signed event sent as form-encoded: verified against the raw body and queued."""
        body = json.dumps(self.event()).encode()
        headers = self.signed_headers(body, "application/x-www-form-urlencoded")
        return self.post(body, headers), 1

    def form_fields(self):
        body = f"id={self.nonce()}&type=x&token=abc%26def".encode()
        headers = self.signed_headers(body, "application/x-www-form-urlencoded")
        return self.post(body, headers), 1  # signed, not a JSON event: stored for review

    def multipart(self):
        boundary = f"b{self.nonce()}"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="event"\r\n\r\n'
            f'{{"id": "{self.nonce()}", "type": "x"}}\r\n--{boundary}--\r\n'
        ).encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        if self.rng.random() < 0.3:
            content_type = "multipart/form-data; boundary="  # broken boundary
        return self.post(body, self.signed_headers(body, content_type)), 1

    def get(self):
        return self.session.get(self.url, timeout=60).status_code, 0


# Expected answer per class (readme/DESCRIPTION.md, Webhooks).
CLASSES = {
    "valid_event": (200, 30),
    "redelivery": (200, 6),
    "event_list": (200, 8),
    "hostile_ids": (200, 8),
    "not_json": (200, 6),
    "json_not_events": (200, 6),
    "deep_json": (200, 4),
    "bad_signature": (401, 10),
    "unknown_url": (404, 6),
    "oversized": (413, 3),
    "chunked": (200, 4),
    "chunked_unsigned": (401, 2),
    "malformed_chunks": (400, 2),
    "cut_short": (400, 2),
    "form_event": (200, 4),
    "form_fields": (200, 3),
    "multipart": (200, 3),
    "get": (405, 2),
}


def test_webhook_fuzz_never_500_documented_status_and_exact_jobs(integration_db, logs_dir):
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend")
    key = setup(db, "webhook_key", backend_id, SECRET)
    query(db, "UPDATE connector_backend SET webhook_max_bytes = %s", (BODY_LIMIT,))
    log_path = logs_dir / "fuzz.log"
    server = OdooServer(db, log_path, cron_threads=0)
    server.start()
    # OdooServer picks its own port; read it from the command line it was given.
    base = server.url
    try:
        wait_until(lambda: _up(base), timeout=90, message="the Odoo server")
        before = query(db, "SELECT count(*) FROM connector_job")[0][0]
        rng = random.Random(SEED)
        fuzzer = Fuzzer(base, db, key, rng)
        names = list(CLASSES)
        weights = [CLASSES[name][1] for name in names]
        counts = collections.Counter()
        by_class = collections.defaultdict(collections.Counter)
        expected_jobs = 0
        wrong = []
        started = time.monotonic()
        for number in range(REQUESTS):
            name = rng.choices(names, weights)[0]
            fuzzer.last_size = 0
            status, jobs = getattr(fuzzer, name)()
            # Any signed body over the backend's limit is refused first, whatever it holds.
            expected = 413 if fuzzer.last_size > BODY_LIMIT else CLASSES[name][0]
            if name == "redelivery":
                fuzzer._redelivered = True
            counts[status] += 1
            by_class[name][status] += 1
            expected_jobs += jobs if status == 200 else 0
            if status != expected and len(wrong) < 20:
                wrong.append(f"request {number} ({name}): {status}, expected {expected}")
            assert time.monotonic() - started < TIME_LIMIT, f"fuzz over {TIME_LIMIT} s"
        elapsed = time.monotonic() - started
        created = query(db, "SELECT count(*) FROM connector_job")[0][0] - before
        stored = query(
            db,
            "SELECT count(*) FROM connector_job WHERE operation = 'webhook.unparseable'",
        )[0][0]
    finally:
        server.stop()
    log = log_path.read_text(errors="replace")
    print(
        f"\n[integration] webhook fuzz, seed {SEED}: {REQUESTS} requests in {elapsed:.0f} s "
        f"({REQUESTS / elapsed:.0f}/s); by status: "
        + ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
        + f"\n  jobs created {created} (expected {expected_jobs}), of which {stored} stored for "
        "review\n  "
        + "\n  ".join(
            f"{name}: " + ", ".join(f"{s}x{c}" for s, c in sorted(statuses.items()))
            for name, statuses in sorted(by_class.items())
        )
    )
    assert not [s for s in counts if s >= 500], f"server errors: {counts}"
    assert not wrong, "undocumented answers:\n" + "\n".join(wrong)
    assert created == expected_jobs, f"{created} jobs created, {expected_jobs} expected"
    assert "Traceback" not in log, (
        "the server logged a traceback:\n" + log[log.index("Traceback") :][:3000]
    )


def _up(base):
    try:
        return requests.get(f"{base}/web/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False
