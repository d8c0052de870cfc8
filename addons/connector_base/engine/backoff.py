"""Retry delays: exponential backoff with full jitter, and Retry-After parsing."""

import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Above this exponent the bound is far beyond any sensible cap; stops float overflow.
_MAX_EXPONENT = 62
_DELTA_SECONDS = re.compile(r"[+-]?\d+(?:\.\d+)?")


def next_delay(
    attempt: int,
    *,
    base: float = 30.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    rng=None,
    max_retry_after: float = 86400.0,
) -> float:
    """Return the seconds to wait before retry number ``attempt`` (1 for the first retry).

    Full jitter (uniform between 0 and the exponential bound) spreads retries of many jobs that
    failed together, so they do not hammer the remote system in waves. A server-provided
    ``retry_after`` is a floor: we never retry before the server said so (bounded by
    ``max_retry_after`` so a bogus header cannot park a job for months).
    """
    exponent = min(max(int(attempt), 1) - 1, _MAX_EXPONENT)
    bound = max(0.0, min(cap, base * 2.0**exponent))
    jittered = (rng or random).uniform(0, bound)
    if retry_after is None:
        return jittered
    return max(min(retry_after, max_retry_after), jittered)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header value into seconds from ``now``.

    Accepts delta-seconds ("120", "1.5") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT").
    A time in the past gives 0.0; an absent or unparsable value gives None.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(0.0, float(value))
    if not isinstance(value, str):
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" zone: RFC 5322 says UTC
        when = when.replace(tzinfo=UTC)
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
