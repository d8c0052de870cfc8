"""Recharge lines: priced entries grouped per project and employee (or role), per transfer
price, charge or adjustment; the document is an invoice, or a credit note when the total is
negative (a run with only downward corrections)."""

from dataclasses import dataclass, field
from decimal import Decimal

from .money import ZERO, dec, round_to
from .pricing import HOURLY

CHARGE = "charge"
ADJUSTMENT = "adjustment"
REVERSAL = "reversal"
ENTRY_KINDS = [
    (CHARGE, "Charge"),
    (ADJUSTMENT, "Adjustment"),
    (REVERSAL, "Credit note"),
]


@dataclass(frozen=True)
class LineKey:
    entry_kind: str
    item_kind: str
    basis: str
    project_id: int | None
    party_id: int | None  # employee, or role when the agreement details by role
    price_unit: Decimal | None  # hourly lines only


@dataclass
class LineTotal:
    quantity: Decimal = ZERO
    amount: Decimal = ZERO  # unrounded until close()
    hours: Decimal = ZERO
    cost_amount: Decimal = ZERO
    rows: list = field(default_factory=list)

    def close(self, key: LineKey, digits: int):
        if key.basis == HOURLY:
            self.amount = round_to(self.quantity * key.price_unit, digits)
        else:
            self.amount = round_to(self.amount, digits)
        return self


def group_lines(rows, digits: int = 2) -> dict:
    """``rows``: (LineKey, Entry, hours, row id). Returns {LineKey: LineTotal} with amounts
    rounded to the currency; lines whose quantity and amount are both zero are dropped."""
    lines = {}
    for key, entry, hours, row_id in rows:
        total = lines.setdefault(key, LineTotal())
        total.quantity += dec(entry.quantity)
        total.amount += dec(entry.quantity) * dec(entry.price_unit)
        total.hours += dec(hours)
        total.cost_amount += dec(entry.cost_amount)
        total.rows.append(row_id)
    result = {}
    for key, total in lines.items():
        total.close(key, digits)
        if key.basis == HOURLY and round_to(total.quantity, 6) == ZERO:
            continue
        if total.amount == ZERO and round_to(total.quantity, 6) == ZERO:
            continue
        result[key] = total
    return result


def document_sign(lines) -> int:
    """+1: an invoice; -1: a credit note (negative total); 0: nothing to invoice."""
    if not lines:
        return 0
    total = sum((line.amount for line in lines.values()), ZERO)
    return -1 if total < ZERO else 1
