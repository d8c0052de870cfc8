"""Not-to-exceed caps: which items fit under a contract's cap, in the order they are billed."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CapDecision:
    billable: list  # item keys that fit
    over_cap: list  # item keys that wait for a Billing Manager's approval
    remaining_after: float  # cap room left after the billable items


def allocate_under_cap(items, cap, already_billed, approved_excess=0.0, rounding=0.01):
    """Split ``items`` ((key, amount) in billing order) into those that fit under the cap and
    those that would exceed it.

    Items are never split and never reordered: once one does not fit, every later one waits too
    (chronological billing, no cherry-picking). ``cap`` None or 0 means no cap. Amounts are in the
    contract currency; ``rounding`` is its smallest unit.
    """
    items = list(items)
    if not cap:
        return CapDecision([key for key, _ in items], [], float("inf"))
    room = cap + (approved_excess or 0.0) - already_billed
    tolerance = rounding / 2
    billable, over = [], []
    for key, amount in items:
        if not over and amount <= room + tolerance:
            billable.append(key)
            room -= amount
        else:
            over.append(key)
    return CapDecision(billable, over, max(room, 0.0))
