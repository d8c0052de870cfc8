"""Corrections of recharged items: what to add so that an item's recharged position equals what
it should be now (edited, deleted, re-rated, moved or credited work).

An item's position is the net of its ledger entries: hours per transfer price (hourly items) or
an amount (lump items: shares of billed value, expenses), per tag (the project and employee the
entry was charged for: work moved to another project is reversed on the old one and charged on
the new one). The correction is the difference with the desired position, as new entries:
posted documents are never touched.
"""

from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, dec, round_to
from .pricing import HOURLY, LUMP, Price

QUANTITY_DIGITS = 6


@dataclass(frozen=True)
class Entry:
    basis: str
    quantity: Decimal
    price_unit: Decimal
    cost_amount: Decimal = ZERO
    tag: tuple | None = None  # (project, employee) the entry was charged for

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price_unit


def position(entries) -> dict:
    """{(HOURLY, price, tag): hours, (LUMP, None, tag): amount} netted over the entries."""
    net = {}
    for entry in entries:
        if entry.basis == HOURLY:
            key = (HOURLY, dec(entry.price_unit), entry.tag)
            net[key] = net.get(key, ZERO) + dec(entry.quantity)
        else:
            key = (LUMP, None, entry.tag)
            net[key] = net.get(key, ZERO) + dec(entry.quantity) * dec(entry.price_unit)
    return net


def _order(key):
    basis, price, tag = key
    return (basis, price or ZERO, tuple(part or 0 for part in (tag or ())))


def correction(entries, desired: Price | None, currency_digits: int = 2, tag=None) -> list[Entry]:
    """Entries that bring ``entries`` to ``desired`` for ``tag`` (None: the item must count for
    nothing)."""
    current = position(entries)
    target = {}
    if desired is not None:
        if desired.basis == HOURLY:
            target[(HOURLY, dec(desired.price_unit), tag)] = dec(desired.quantity)
        else:
            target[(LUMP, None, tag)] = desired.amount
    result = []
    for key in sorted(set(current) | set(target), key=_order):
        delta = target.get(key, ZERO) - current.get(key, ZERO)
        basis, price, key_tag = key
        if basis == HOURLY:
            if round_to(delta, QUANTITY_DIGITS) != ZERO:
                result.append(Entry(HOURLY, round_to(delta, QUANTITY_DIGITS), price, tag=key_tag))
        elif round_to(delta, currency_digits) != ZERO:
            result.append(Entry(LUMP, Decimal(1), round_to(delta, currency_digits), tag=key_tag))
    if not result:
        return result
    # The cost base moves with the correction (transfer-pricing documentation).
    cost_now = desired.cost_amount if desired is not None else ZERO
    cost_delta = cost_now - sum((dec(entry.cost_amount) for entry in entries), ZERO)
    first = result[0]
    result[0] = Entry(first.basis, first.quantity, first.price_unit, cost_delta, first.tag)
    return result
