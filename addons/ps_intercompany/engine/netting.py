"""Bilateral netting: company A and company B owe each other in one currency; the proposal
offsets the smaller of the mutual balances in both ledgers, leaving one net amount to pay.

Each company nets its receivable from the other against its payable to the other, by the same
amount: the minimum of the four open balances (A's receivable and payable, B's receivable and
payable), so that both entries can be posted even when the two ledgers do not tie exactly.
Open items are used oldest first.
"""

from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, dec, round_to


@dataclass(frozen=True)
class OpenItem:
    id: int
    residual: Decimal  # positive, in the netting currency


@dataclass(frozen=True)
class Proposal:
    amount: Decimal
    allocations: dict  # side -> [(item id, amount)]
    net_payer: str | None  # "a" (A still owes B), "b", or None (fully offset)
    net_amount: Decimal


SIDES = ("a_receivable", "a_payable", "b_receivable", "b_payable")


def _allocate(items, amount, digits):
    allocations, left = [], amount
    for item in items:
        if left <= ZERO:
            break
        part = min(dec(item.residual), left)
        part = round_to(part, digits)
        if part > ZERO:
            allocations.append((item.id, part))
            left -= part
    return allocations


def propose(open_items: dict, digits: int = 2) -> Proposal:
    """``open_items``: {side: [OpenItem, ...] oldest first} for the four SIDES."""
    totals = {
        side: round_to(sum((dec(i.residual) for i in open_items.get(side, ())), ZERO), digits)
        for side in SIDES
    }
    amount = min(totals.values()) if all(totals.values()) else ZERO
    allocations = {side: _allocate(open_items.get(side, ()), amount, digits) for side in SIDES}
    a_net = totals["a_receivable"] - totals["a_payable"]
    if a_net > ZERO:
        payer = "b"
    elif a_net < ZERO:
        payer = "a"
    else:
        payer = None
    return Proposal(amount, allocations, payer, abs(a_net))


def balanced(proposal: Proposal) -> bool:
    """Each company's entry offsets as much receivable as payable, and both the same amount."""
    sums = {
        side: sum((amount for _id, amount in proposal.allocations[side]), ZERO) for side in SIDES
    }
    return len(set(sums.values())) == 1 and sums["a_receivable"] == proposal.amount
