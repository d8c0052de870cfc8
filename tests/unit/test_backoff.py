"""Retry delays: exponential bound, full jitter, and the server's Retry-After as a floor."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from connector_base.engine.backoff import next_delay, parse_retry_after


class TopOfRange:
    """rng stub returning the upper bound, to observe the jitter bound directly."""

    def uniform(self, low, high):
        return high


def test_bound_doubles_per_attempt_then_caps():
    bounds = [next_delay(attempt, rng=TopOfRange()) for attempt in range(1, 10)]
    assert bounds[:7] == [30, 60, 120, 240, 480, 960, 1920], f"bound must double: {bounds}"
    assert bounds[7:] == [3600, 3600], f"bound must be capped at 3600s: {bounds}"


def test_huge_attempt_numbers_stay_at_the_cap():
    assert next_delay(10_000, rng=TopOfRange()) == 3600, "a long-failing job must not overflow"
    assert next_delay(0, rng=TopOfRange()) == 30, "attempt < 1 is treated as the first retry"


def test_full_jitter_covers_zero_to_bound_and_varies():
    rng = random.Random(20240518)
    delays = [next_delay(4, rng=rng) for _ in range(2000)]
    assert all(0 <= delay <= 240 for delay in delays), "jitter must stay within [0, bound]"
    assert len(set(delays)) > 1900, "jittered delays must not be constant"
    assert min(delays) < 24 and max(delays) > 216, (
        "full jitter spreads over the whole range (not just near the bound)"
    )


def test_same_seed_gives_same_delays():
    first = [next_delay(3, rng=random.Random(7)) for _ in range(3)]
    again = [next_delay(3, rng=random.Random(7)) for _ in range(3)]
    assert first == again, "a seeded rng must make delays reproducible"


def test_retry_after_is_a_floor():
    rng = random.Random(1)
    assert next_delay(1, retry_after=500, rng=rng) == 500, "never retry before the server said"
    assert next_delay(3, retry_after=1, rng=TopOfRange()) == 120, (
        "a short Retry-After does not shorten the backoff"
    )


def test_retry_after_is_bounded():
    delay = next_delay(1, retry_after=10**9, rng=random.Random(1))
    assert delay == 86400, "a bogus Retry-After must not park a job for years"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("1.5", 1.5), (" 7 ", 7.0), ("0", 0.0), ("-5", 0.0)],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected, f"Retry-After {value!r} must give {expected}"


def test_parse_retry_after_http_date_relative_to_now():
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    seconds = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now)
    assert seconds == 60.0, "an HTTP-date one minute ahead must give 60 seconds"
    assert parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now=now) == 0.0, (
        "a date in the past means retry now (0), not a negative delay"
    )


def test_parse_retry_after_http_date_defaults_to_current_time():
    future = datetime.now(UTC) + timedelta(hours=1)
    header = future.strftime("%a, %d %b %Y %H:%M:%S GMT")
    seconds = parse_retry_after(header)
    assert 3590 <= seconds <= 3600, f"one hour ahead must give about 3600s, got {seconds}"


@pytest.mark.parametrize("value", [None, "", "soon", "inf", "nan", "12abc", "Wed, 99 Foo"])
def test_parse_retry_after_garbage_is_none(value):
    assert parse_retry_after(value) is None, f"unparsable Retry-After {value!r} must be ignored"
