"""Client-side rate limiting keeps each backend under its remote API quota."""

import threading

import pytest

from connector_base.engine.ratelimit import TokenBucket, bucket_for


class FakeClock:
    """Monotonic clock whose sleep() advances time instantly and records the waits."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def test_unlimited_never_waits(clock):
    for rate in (0, None):
        bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
        waits = [bucket.acquire() for _ in range(100)]
        assert waits == [0.0] * 100, f"rate={rate!r} means unlimited: no waiting"
    assert clock.sleeps == [], "an unlimited bucket must never sleep"


def test_burst_passes_then_requests_are_spaced_at_the_rate(clock):
    bucket = TokenBucket(2, burst=3, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(7)]
    assert waits[:3] == [0.0, 0.0, 0.0], "the burst goes through without waiting"
    assert waits[3:] == pytest.approx([0.5] * 4), "then one request every 1/rate seconds"
    assert clock.sleeps == pytest.approx([0.5] * 4), "acquire must wait through sleep()"


def test_sustained_throughput_matches_the_rate(clock):
    bucket = TokenBucket(5, burst=1, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(21):
        bucket.acquire()
    assert clock.now - start == pytest.approx(4.0), "21 requests at 5/s take 4 s after the first"


def test_idle_time_refills_up_to_the_burst_only(clock):
    bucket = TokenBucket(10, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        bucket.acquire()
    clock.now += 60  # idle for a minute: 600 tokens worth, but the bucket holds 2
    waits = [bucket.acquire() for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.0, 0.1]), "idle time must not bank more than burst"


def test_default_burst_is_one_second_of_requests(clock):
    assert TokenBucket(10, clock=clock, sleep=clock.sleep).burst == 10, "burst defaults to rate"
    assert TokenBucket(0.2, clock=clock, sleep=clock.sleep).burst == 1, "at least one request"


def test_concurrent_callers_each_reserve_their_own_slot():
    frozen = FakeClock()  # time does not move: waits reveal the reservations
    bucket = TokenBucket(10, burst=1, clock=frozen, sleep=lambda seconds: None)
    waits = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            wait = bucket.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([index / 10 for index in range(40)]), (
        "40 concurrent callers must get 40 distinct slots 0.1 s apart (no double-spent token)"
    )


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="rate must be >= 0"):
        TokenBucket(-1)
    with pytest.raises(ValueError, match="burst must be at least 1"):
        TokenBucket(5, burst=0)


def test_bucket_for_shares_one_bucket_per_key_until_settings_change():
    key = ("backend", object())
    first = bucket_for(key, 5, 10)
    assert bucket_for(key, 5, 10) is first, "same key and settings: jobs share one quota"
    assert bucket_for(("backend", object()), 5, 10) is not first, "other key: own bucket"
    changed = bucket_for(key, 8, 10)
    assert changed is not first and changed.rate == 8, "new rate: a new bucket"
    assert bucket_for(key, 8, 20) is not changed, "new burst: a new bucket"
