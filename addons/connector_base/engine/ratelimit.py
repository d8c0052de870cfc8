"""Client-side rate limiting (token bucket) so connectors stay under remote API quotas."""

import math
import threading
import time


class TokenBucket:
    """Token bucket: ``rate`` requests per second on average, bursts up to ``burst``.

    ``rate`` 0 or None means unlimited. ``burst`` defaults to one second worth of requests
    (at least 1). Waiters reserve their token before sleeping, outside the lock, so concurrent
    threads queue fairly instead of all waking at once.
    """

    def __init__(
        self, rate: float, burst: int | None = None, *, clock=time.monotonic, sleep=time.sleep
    ):
        if rate is not None and rate < 0:
            raise ValueError(f"rate must be >= 0 requests/second (0 = unlimited), got {rate}")
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1 request, got {burst}")
        self.rate = float(rate or 0.0)
        self.burst = burst if burst is not None else max(1, math.ceil(self.rate))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)  # start full: the first requests go through at once
        self._updated = clock()

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        if self.unlimited:
            return 0.0
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0  # reserve; negative means "owed", later callers wait longer
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


_registry_lock = threading.Lock()
_registry: dict = {}  # key -> ((rate, burst), TokenBucket)


def bucket_for(key, rate, burst=None) -> TokenBucket:
    """Return the process-wide bucket for ``key`` (e.g. a backend id).

    The same bucket is returned while rate and burst are unchanged, so all jobs of one backend
    in this worker share its quota; changing the backend's settings gives a fresh bucket.
    """
    settings = (float(rate or 0.0), burst)
    with _registry_lock:
        entry = _registry.get(key)
        if entry is None or entry[0] != settings:
            entry = (settings, TokenBucket(rate, burst))
            _registry[key] = entry
        return entry[1]
