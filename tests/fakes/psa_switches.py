"""Failure switches and request counters shared by the fake Harvest and Kantata servers.

The generic switches of :class:`~tests.fakes.http_fake.FakeHttpServer` (``fail_next``,
``delay_next``, ``malformed_next``, ``fail_rate``) hit whatever request comes next. A PSA client
test often needs more aim: "the second page of time entries answers 503", "the next expense list
is cut in the middle", "one request gets 401 as if the token had just expired". These switches
are consulted by the fakes' route wrappers, so the failures they produce have the vendor's own
error body (Harvest ``{"message"}``, Kantata ``{"errors": [...]}``) and 429 headers.

``endpoint`` is a route name as the fakes register it, e.g. ``"GET /v2/time_entries"`` or
``"GET /time_entries"``; ``None`` matches any API route.
"""

import json
import random
import threading
from collections import Counter


class PsaSwitches:
    """Scripted failures, paging quirks and per-endpoint counters of one fake."""

    def __init__(self):
        self._lock = threading.RLock()
        self.stopping = threading.Event()  # set on stop(): wakes slow answers
        self.counts: Counter = Counter()  # endpoint -> requests that reached an API route
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._failures: list[tuple] = []  # (endpoint, status, retry_after, message)
            self._truncated: list = []  # endpoints (or None) whose next answer is cut short
            self._slow: list[tuple] = []  # (endpoint, seconds)
            self._expire_once = 0
            self._empty_pages = 0
            self._random = None  # (p, rng, statuses)
            self._page_hooks: list = []
            self.rotate_cursors = False
            self.counts.clear()

    # Scripting (tests) ---------------------------------------------------------------------------

    def fail_next(self, n=1, status=503, *, endpoint=None, retry_after=None, message=None):
        """The next ``n`` requests to ``endpoint`` answer ``status`` in the vendor's error shape.

        ``retry_after`` (seconds) adds a Retry-After header (Harvest's 429 has one, Kantata's
        has none: leave it None to model Kantata).
        """
        with self._lock:
            self._failures.extend([(endpoint, status, retry_after, message)] * n)

    def truncate_next(self, n=1, *, endpoint=None):
        """The next ``n`` answers of ``endpoint`` are HTTP 200 with the JSON cut in the middle."""
        with self._lock:
            self._truncated.extend([endpoint] * n)

    def slow_next(self, n, seconds, *, endpoint=None):
        """The next ``n`` answers of ``endpoint`` wait ``seconds`` first (client read timeouts)."""
        with self._lock:
            self._slow.extend([(endpoint, seconds)] * n)

    def expire_token_once(self, n=1):
        """The next ``n`` authenticated requests answer 401 as if the access token had expired."""
        with self._lock:
            self._expire_once += n

    def empty_page_next(self, n=1):
        """The next ``n`` list pages come back empty while still pointing at the next page."""
        with self._lock:
            self._empty_pages += n

    def random_failures(self, p, seed, statuses=(500, 502, 503, 429)):
        """Fail each API request with probability ``p`` (reproducible with ``seed``)."""
        with self._lock:
            self._random = (p, random.Random(seed), tuple(statuses)) if p else None

    def after_page(self, hook):
        """Call ``hook(endpoint, page_number)`` after each list page is built (edit data mid-pull).

        The hook runs under the fake's lock, before the page is sent: what it changes shows from
        the next request on, as when someone edits entries while a sync pages through them.
        """
        with self._lock:
            self._page_hooks.append(hook)

    # Consulted by the fakes ----------------------------------------------------------------------

    def record(self, endpoint) -> None:
        with self._lock:
            self.counts[endpoint] += 1

    def take_failure(self, endpoint):
        """``(status, retry_after, message)`` to answer instead of the route, or None."""
        with self._lock:
            for index, (target, status, retry_after, message) in enumerate(self._failures):
                if target is None or target == endpoint:
                    del self._failures[index]
                    return status, retry_after, message
            if self._random:
                p, rng, statuses = self._random
                if rng.random() < p:
                    status = rng.choice(statuses)
                    return status, (1 if status == 429 else None), "fake random failure"
        return None

    def take_slow(self, endpoint) -> float:
        with self._lock:
            for index, (target, seconds) in enumerate(self._slow):
                if target is None or target == endpoint:
                    del self._slow[index]
                    return seconds
        return 0.0

    def take_truncated(self, endpoint) -> bool:
        with self._lock:
            for index, target in enumerate(self._truncated):
                if target is None or target == endpoint:
                    del self._truncated[index]
                    return True
        return False

    def take_expiry(self) -> bool:
        with self._lock:
            if self._expire_once:
                self._expire_once -= 1
                return True
        return False

    def take_empty_page(self) -> bool:
        with self._lock:
            if self._empty_pages:
                self._empty_pages -= 1
                return True
        return False

    def run_page_hooks(self, endpoint, page_number) -> None:
        with self._lock:
            hooks = list(self._page_hooks)
        for hook in hooks:
            hook(endpoint, page_number)


def truncated_json(body) -> bytes:
    """The first half of ``body`` serialised as JSON: what a dropped proxy connection leaves."""
    data = json.dumps(body).encode("utf-8")
    return data[: max(1, len(data) // 2)]
