"""Intercompany reconciliation: each document of the provider with the receiver matched to its
mirror in the receiver (and back), or listed as a difference with its reason.

Documents are plain records (Doc); amounts are signed from the provider's point of view in the
transaction currency: an invoice or a receivable increase is positive on both sides (the
receiver's bill is the mirror of the provider's invoice), a credit note or a payment negative.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import reasons
from .money import ZERO, dec, round_to

PROVIDER = "provider"
RECEIVER = "receiver"

INVOICE = "invoice"  # invoices and credit notes
PAYMENT = "payment"
NETTING = "netting"
ENTRY = "entry"  # any other journal entry on an intercompany account

POSTED, DRAFT, CANCEL = "posted", "draft", "cancel"


@dataclass(frozen=True)
class Doc:
    id: int
    side: str  # PROVIDER | RECEIVER
    kind: str  # INVOICE | PAYMENT | NETTING | ENTRY
    name: str
    state: str
    day: date
    currency: int
    untaxed: Decimal
    total: Decimal
    ref: str = ""
    source_id: int | None = None  # the document of the other side it was generated from
    accounts_ok: bool = True  # product lines on the agreement's intercompany accounts
    fx: bool = False  # an exchange difference / revaluation entry
    netting_key: int | None = None


@dataclass
class Match:
    provider: Doc | None
    receiver: Doc | None
    reasons: list = field(default_factory=list)
    difference: Decimal = ZERO  # transaction currency, provider minus receiver (total)

    @property
    def tied(self) -> bool:
        return not self.reasons


def _in_period(doc, period):
    return period[0] <= doc.day <= period[1]


def _compare(p: Doc, r: Doc, period, digits) -> Match:
    match = Match(p, r)
    if p.state == CANCEL or r.state == CANCEL:
        if not (p.state == CANCEL and r.state == CANCEL):
            match.reasons.append(reasons.DIFF_MISSING_MIRROR)
            match.difference = (p.total if p.state != CANCEL else ZERO) - (
                r.total if r.state != CANCEL else ZERO
            )
        return match
    if p.state != r.state:
        match.reasons.append(reasons.DIFF_DRAFT)
    if p.currency != r.currency:
        match.reasons.append(reasons.DIFF_CURRENCY)
    else:
        if round_to(p.untaxed - r.untaxed, digits) != ZERO:
            match.reasons.append(reasons.DIFF_AMOUNT)
        elif round_to(p.total - r.total, digits) != ZERO:
            match.reasons.append(reasons.DIFF_TAX)
        match.difference = p.total - r.total
    if not (p.accounts_ok and r.accounts_ok):
        match.reasons.append(reasons.DIFF_ACCOUNT)
    if _in_period(p, period) != _in_period(r, period):
        match.reasons.append(reasons.DIFF_TIMING)
    return match


def _alone(doc: Doc) -> Match:
    if doc.kind == INVOICE:
        reason = reasons.DIFF_MISSING_MIRROR
    elif doc.kind == PAYMENT:
        reason = reasons.DIFF_PAYMENT
    elif doc.fx:
        reason = reasons.DIFF_FX
    else:
        reason = reasons.DIFF_UNMATCHED_ENTRY
    if doc.side == PROVIDER:
        return Match(doc, None, [reason], doc.total)
    return Match(None, doc, [reason], -doc.total)


def match_documents(provider_docs, receiver_docs, period, digits=2) -> list[Match]:
    """Pairs of documents (mirror links first, then references, netting keys, then payments by
    currency and amount) and the documents left alone, each with its reasons (none: tied).

    Documents cancelled on both sides, and alone cancelled ones, are left out."""
    matches = []
    receivers = {doc.id: doc for doc in receiver_docs}
    by_source = {doc.source_id: doc for doc in receiver_docs if doc.source_id}
    providers_by_source = {doc.source_id: doc for doc in provider_docs if doc.source_id}
    taken = set()

    def take(doc):
        taken.add(doc.id)
        return doc

    leftovers = []
    for p in provider_docs:
        counterpart = None
        if p.kind == INVOICE:
            counterpart = by_source.get(p.id)
            if not counterpart and p.source_id in receivers:
                counterpart = receivers[p.source_id]
            if counterpart and counterpart.id in taken:
                counterpart = None
        elif p.kind == NETTING and p.netting_key:
            counterpart = next(
                (
                    r
                    for r in receiver_docs
                    if r.kind == NETTING and r.netting_key == p.netting_key and r.id not in taken
                ),
                None,
            )
        if counterpart:
            matches.append(_compare(p, take(counterpart), period, digits))
        else:
            leftovers.append(p)
    # By reference: a bill keyed by hand with the provider's invoice number.
    remaining = []
    for p in leftovers:
        counterpart = None
        if p.kind == INVOICE:
            counterpart = next(
                (
                    r
                    for r in receiver_docs
                    if r.kind == INVOICE
                    and r.id not in taken
                    and r.ref
                    and r.ref.strip() == p.name
                    and r.id not in providers_by_source
                ),
                None,
            )
        if counterpart:
            matches.append(_compare(p, take(counterpart), period, digits))
        else:
            remaining.append(p)
    # Payments: same currency and amount, nearest date.
    alone = []
    for p in remaining:
        counterpart = None
        if p.kind == PAYMENT:
            candidates = [
                r
                for r in receiver_docs
                if r.kind == PAYMENT
                and r.id not in taken
                and r.currency == p.currency
                and round_to(r.total - p.total, digits) == ZERO
            ]
            if candidates:
                counterpart = min(candidates, key=lambda r: abs((r.day - p.day).days))
        if counterpart:
            matches.append(_compare(p, take(counterpart), period, digits))
        elif p.state != CANCEL:
            alone.append(_alone(p))
    for r in receiver_docs:
        if r.id not in taken and r.state != CANCEL:
            alone.append(_alone(r))
    return matches + alone


@dataclass(frozen=True)
class Balance:
    currency: int
    provider: Decimal  # the provider's receivable from the receiver
    receiver: Decimal  # the receiver's payable to the provider

    @property
    def difference(self) -> Decimal:
        return self.provider - self.receiver


def balances(provider_rows, receiver_rows) -> list[Balance]:
    """Per currency: (currency, amount) rows of each side summed and compared."""
    sums = {}
    for index, rows in enumerate((provider_rows, receiver_rows)):
        for currency, amount in rows:
            pair = sums.setdefault(currency, [ZERO, ZERO])
            pair[index] += dec(amount)
    return [Balance(currency, p, r) for currency, (p, r) in sorted(sums.items())]


def tied(matches, balance_rows, digits=2) -> bool:
    return all(match.tied for match in matches) and all(
        round_to(balance.difference, digits) == ZERO for balance in balance_rows
    )
