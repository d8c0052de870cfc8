"""Transfer prices of recharged work.

Three methods, chosen per agreement:

- **cost-plus**: the employee's cost rate of the day x (1 + mark-up). The mark-up of the
  employee's role wins over the agreement's; 0 % is a valid mark-up (at cost, e.g. the US
  services cost method). No mark-up is ever assumed.
- **transfer rate card**: the rate of a rate card (employee line > role line > default line,
  in force on the day of the work; the line that started latest wins a tie).
- **share of billed value**: a percentage of what the receiving company billed its client for
  that work (only billed work is recharged).

Expenses are passed through at cost (no mark-up) whatever the method.

The hourly transfer price is rounded to the price precision (2 decimals by default), then the
line amount is hours x that price rounded to the cent. Share and expense amounts are rounded to
the cent per item and billed as lump sums (quantity 1).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import reasons
from .money import HUNDRED, ZERO, dec, round_to

COST_PLUS = "cost_plus"
RATE_CARD = "rate_card"
BILLED_SHARE = "billed_share"
METHODS = [
    (COST_PLUS, "Cost plus mark-up"),
    (RATE_CARD, "Transfer rate card"),
    (BILLED_SHARE, "Share of billed value"),
]

HOURLY = "hourly"  # quantity = hours, price = transfer price per hour
LUMP = "lump"  # quantity = 1, price = amount

TIME = "time"
EXPENSE = "expense"


@dataclass(frozen=True)
class TransferRate:
    """A line of the transfer rate card."""

    id: int
    rate: float
    currency: int
    employee_id: int | None = None
    role_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def specificity(self) -> int:
        return 0 if self.employee_id else (1 if self.role_id else 2)

    def in_force(self, day: date) -> bool:
        return (self.date_from is None or self.date_from <= day) and (
            self.date_to is None or day <= self.date_to
        )

    def matches(self, employee_id, role_id) -> bool:
        if self.employee_id and self.employee_id != employee_id:
            return False
        return not (self.role_id and self.role_id != role_id)

    @property
    def source(self) -> str:
        kind = ("employee", "role", "default")[self.specificity]
        since = f" from {self.date_from.isoformat()}" if self.date_from else ""
        return f"rate card {kind} rate{since}"


def resolve_transfer_rate(lines, day: date, employee_id=None, role_id=None):
    """The TransferRate for work of this employee/role on ``day``, or None."""
    candidates = [
        line for line in lines if line.in_force(day) and line.matches(employee_id, role_id)
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda line: (line.specificity, -(line.date_from or date.min).toordinal(), -line.id),
    )


def markup_for(role_id, agreement_markup, role_markups) -> tuple[Decimal, str]:
    """(mark-up in %, where it comes from): the role's mark-up, else the agreement's."""
    if role_id and role_id in role_markups:
        return dec(role_markups[role_id]), "role mark-up"
    return dec(agreement_markup), "agreement mark-up"


@dataclass(frozen=True)
class Item:
    """A piece of work to recharge: a timesheet line or an expense."""

    model: str
    id: int
    kind: str  # TIME | EXPENSE
    day: date
    employee_id: int | None
    role_id: int | None
    project_id: int | None
    hours: float = 0.0
    cost_rate: float = 0.0  # per hour, provider currency
    billed_value: float | None = None  # what the client was billed (time), in billed_currency
    billed_currency: int | None = None
    expense_amount: float = 0.0  # untaxed, in the provider currency
    approved: bool = True


@dataclass(frozen=True)
class Terms:
    """An agreement's pricing, resolved for one run (conversion factors at the invoice date)."""

    method: str
    provider_currency: int
    markup: float = 0.0
    role_markups: dict | None = None
    rate_lines: tuple = ()
    share: float = 0.0
    price_digits: int = 2
    currency_digits: int = 2
    # currency id -> factor converting an amount in that currency into the charge currency
    factors: dict | None = None

    def factor(self, currency) -> Decimal:
        factors = self.factors or {}
        if currency not in factors:
            raise KeyError(f"no conversion factor for currency {currency}")
        return dec(factors[currency])


@dataclass(frozen=True)
class Price:
    basis: str  # HOURLY | LUMP
    quantity: Decimal
    price_unit: Decimal
    cost_amount: Decimal  # cost base in the provider currency (hours x cost, or the expense)
    markup: Decimal  # % applied (cost-plus), else 0
    source: str

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price_unit


@dataclass(frozen=True)
class Skip:
    reason: str
    detail: str = ""


class Pricer:
    """Prices items under one agreement's terms. The hourly price of a (cost, role) or an
    (employee, role, day) is computed once (a month of work repeats the same few prices)."""

    def __init__(self, terms: Terms):
        self.terms = terms
        self._hourly = {}

    def _cost_plus(self, item):
        key = (item.cost_rate, item.role_id)
        if key not in self._hourly:
            terms = self.terms
            markup, origin = markup_for(item.role_id, terms.markup, terms.role_markups or {})
            price = round_to(
                dec(item.cost_rate)
                * (1 + markup / HUNDRED)
                * terms.factor(terms.provider_currency),
                terms.price_digits,
            )
            self._hourly[key] = (price, markup, f"cost plus {markup:f} % ({origin})")
        return self._hourly[key]

    def _rate_card(self, item):
        key = (item.employee_id, item.role_id, item.day)
        if key not in self._hourly:
            terms = self.terms
            line = resolve_transfer_rate(terms.rate_lines, item.day, item.employee_id, item.role_id)
            self._hourly[key] = (
                (
                    round_to(dec(line.rate) * terms.factor(line.currency), terms.price_digits),
                    ZERO,
                    line.source,
                )
                if line
                else None
            )
        return self._hourly[key]

    def price(self, item: Item):
        """The Price of an item, or a Skip with the reason."""
        terms = self.terms
        if not item.approved:
            return Skip(reasons.SKIP_NOT_APPROVED, "approve it to recharge it")
        if item.kind == EXPENSE:
            amount = round_to(
                dec(item.expense_amount) * terms.factor(terms.provider_currency),
                terms.currency_digits,
            )
            return Price(
                LUMP, Decimal(1), amount, dec(item.expense_amount), ZERO, "expense at cost"
            )
        hours = dec(item.hours)
        if hours == ZERO:
            return Skip(reasons.SKIP_NO_HOURS)
        cost_amount = hours * dec(item.cost_rate)
        if terms.method == COST_PLUS:
            if dec(item.cost_rate) <= ZERO:
                return Skip(
                    reasons.SKIP_NO_COST_RATE,
                    "set the employee's cost rate (Billing configuration > Cost rates)",
                )
            price, markup, source = self._cost_plus(item)
            return Price(HOURLY, hours, price, cost_amount, markup, source)
        if terms.method == RATE_CARD:
            resolved = self._rate_card(item)
            if not resolved:
                return Skip(
                    reasons.SKIP_NO_TRANSFER_RATE,
                    f"the transfer rate card has no rate for this employee or role on {item.day}",
                )
            price, markup, source = resolved
            return Price(HOURLY, hours, price, cost_amount, markup, source)
        if terms.method == BILLED_SHARE:
            if item.billed_value is None:
                return Skip(reasons.SKIP_NOT_BILLED, "recharged once billed to the client")
            amount = round_to(
                dec(item.billed_value)
                * dec(terms.share)
                / HUNDRED
                * terms.factor(item.billed_currency),
                terms.currency_digits,
            )
            return Price(
                LUMP,
                Decimal(1),
                amount,
                cost_amount,
                ZERO,
                f"{dec(terms.share):f} % of billed value",
            )
        raise ValueError(f"unknown pricing method {terms.method!r}")


def price_item(item: Item, terms: Terms):
    """The Price of one item under these terms, or a Skip with the reason."""
    return Pricer(terms).price(item)
