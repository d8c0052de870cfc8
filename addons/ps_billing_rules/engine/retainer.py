"""Retainer periods: consumption of included units (hours or money), rollover, expiry, overage.

A period has its included units plus rollover buckets carried from earlier periods. Consumption
uses the oldest rollover first (it expires first), then the period's own units; what exceeds
them is overage, billed in arrears. At period end the unused part of the period's own units
rolls over according to the rule, and buckets that reach their expiry are lost.
"""

from dataclasses import dataclass, field

from .constants import CAPPED, NO_ROLLOVER, UNLIMITED_EXPIRING

__all__ = ["CAPPED", "NO_ROLLOVER", "UNLIMITED_EXPIRING", "Bucket", "PeriodOutcome", "close_period"]


@dataclass
class Bucket:
    units: float
    from_period: int  # index of the period the units were included in
    expires_after: int | None = None  # last period index in which they can be used


@dataclass
class PeriodOutcome:
    consumed_from_rollover: float
    consumed_from_included: float
    overage: float
    rolled_over: list = field(default_factory=list)  # Buckets carried to the next period
    expired: float = 0.0


def close_period(
    index,
    included,
    consumed,
    carried,
    rule=NO_ROLLOVER,
    cap=0.0,
    expiry_periods=0,
    precision=2,
):
    """Outcome of period ``index`` that included ``included`` units, with ``carried`` buckets
    available, when ``consumed`` units were used."""
    remaining = consumed
    buckets = sorted(
        (Bucket(b.units, b.from_period, b.expires_after) for b in carried),
        key=lambda b: (b.expires_after if b.expires_after is not None else 10**9, b.from_period),
    )
    from_rollover = 0.0
    for bucket in buckets:
        use = min(bucket.units, remaining)
        bucket.units = round(bucket.units - use, precision)
        from_rollover += use
        remaining -= use
    from_included = min(included, remaining)
    remaining -= from_included
    overage = round(max(remaining, 0.0), precision)
    unused_included = round(included - from_included, precision)

    carry, expired = [], 0.0
    for bucket in buckets:
        if bucket.units <= 0:
            continue
        if bucket.expires_after is not None and bucket.expires_after <= index:
            expired += bucket.units
        else:
            carry.append(bucket)
    if unused_included > 0:
        if rule == NO_ROLLOVER:
            expired += unused_included
        elif rule == CAPPED:
            carry.append(Bucket(unused_included, index))
        elif rule == UNLIMITED_EXPIRING:
            expires = index + expiry_periods if expiry_periods else None
            carry.append(Bucket(unused_included, index, expires))
        else:
            raise ValueError(f"unknown rollover rule {rule!r}")
    if rule == CAPPED:
        # The rollover balance never exceeds the cap: the newest units beyond it are lost.
        balance = 0.0
        kept = []
        for bucket in carry:
            keep = max(min(bucket.units, cap - balance), 0.0)
            expired += bucket.units - keep
            if keep > 0:
                kept.append(
                    Bucket(round(keep, precision), bucket.from_period, bucket.expires_after)
                )
                balance += keep
        carry = kept
    return PeriodOutcome(
        consumed_from_rollover=round(from_rollover, precision),
        consumed_from_included=round(from_included, precision),
        overage=overage,
        rolled_over=carry,
        expired=round(expired, precision),
    )
