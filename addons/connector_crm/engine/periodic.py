"""A CRM line billed per period (a retainer, or any recurring line): its term and its total.

The billing knowledge (periods, fees, remainders, installments) is ps_billing_rules':
``engine.schedule.periodic_terms`` and ``installment_schedule``. This module only reads what
the CRM and the product mapping say about the term, in that order:

1. the CRM line: HubSpot ``hs_recurring_billing_number_of_payments``,
   ``hs_recurring_billing_period`` (an ISO period, ``P12M``) or ``hs_term_in_months``, with
   ``recurringbillingfrequency`` (how often a fee is billed);
2. the product mapping's default: a fixed term in months, or "the quantity counts the periods"
   (a product sold per month: Salesforce "12 x 2,500" is twelve monthly fees of 2,500);
3. nothing: the term cannot be determined and the line is refused (a contract never bills
   without an end).

The contract line's total is what the CRM sold over the whole term: for a HubSpot recurring line
item, whose ``amount`` is the price of one billing period, ``hs_tcv`` (its total contract value)
or ``amount`` x the number of payments; for a one-time line spread over periods by a product
default, its ``amount``. That total is split over the periods (the last fee takes the remainder),
so the contract bills exactly what the deal sold, and billing stops at the end of the term.
"""

from dataclasses import dataclass

from odoo.addons.ps_billing_rules.engine import schedule

# HubSpot's recurringbillingfrequency values and their length in months (weekly and biweekly
# have none: no retainer period fits them).
HUBSPOT_FREQUENCY_MONTHS = {
    "monthly": 1,
    "quarterly": 3,
    "per_six_months": 6,
    "annually": 12,
    "per_two_years": 24,
    "per_three_years": 36,
    "per_four_years": 48,
    "per_five_years": 60,
}
# Product mapping defaults: where the term of a periodic line comes from when the CRM line does
# not say.
TERM_FROM_QUANTITY = "quantity"
TERM_FIXED = "months"
TERM_SOURCES = [
    (TERM_FROM_QUANTITY, "Quantity = number of periods"),
    (TERM_FIXED, "Fixed term (months)"),
]
# Keys of a normalized deal line that carry its periodic terms (present only when the CRM sets
# them, so that lines without them keep their fingerprint).
PERIODIC_KEYS = ("frequency", "term", "payments", "total", "start_date")
PERIODIC_MODELS = ("retainer",)


class TermError(ValueError):
    """The periodic terms of a line cannot be determined; the text says what to set."""


@dataclass(frozen=True)
class LineTerms:
    """What the contract line of a periodic CRM line gets.

    ``terms``: ps_billing_rules' PeriodicTerms (period, periods, fee per period, last fee,
    total); ``quantity``: the Odoo line's quantity (the CRM's per-period quantity x the periods
    for a recurring line: its subtotal is then the whole term's total); ``price_unit``,
    ``discount`` and ``amount`` (= total): what the Odoo price is solved from;
    ``months_per_period``: 1 (monthly) or 3 (quarterly); ``start``: the CRM's billing start
    date (YYYY-MM-DD) or None (the deal's close date applies); ``source``: where the term came
    from ("crm", "product").
    """

    terms: schedule.PeriodicTerms
    quantity: float
    price_unit: float
    discount: float
    discount_amount: float
    amount: float
    months_per_period: int
    start: str | None
    source: str

    @property
    def periods(self) -> int:
        return self.terms.periods

    def as_dict(self) -> dict:
        return {
            "period": self.terms.period,
            "periods": self.terms.periods,
            "fee_per_period": self.terms.fee_per_period,
            "last_fee": self.terms.last_fee,
            "total": self.terms.total,
            "quantity": self.quantity,
            "start": self.start,
            "source": self.source,
        }


def is_periodic(line: dict, model: str | None) -> bool:
    """A line billed per period: a retainer, or a line the CRM sells as recurring."""
    return model in PERIODIC_MODELS or bool(line.get("frequency"))


def _whole(value, what):
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TermError(f"{what} {value!r} is not a number") from None
    if number <= 0 or number != int(number):
        raise TermError(f"{what} {value!r} is not a whole number of at least 1")
    return int(number)


def _crm_months(line, months_per_period):
    """The term in months the CRM line states, or None."""
    payments = _whole(line.get("payments"), "the number of payments")
    if payments:
        return payments * months_per_period
    term = line.get("term")
    if term in (None, ""):
        return None
    text = str(term).strip()
    if text.replace(".", "", 1).isdigit():  # hs_term_in_months, or a custom field in months
        return _whole(text, "the term in months")
    try:
        return schedule.term_months(text)  # an ISO period: hs_recurring_billing_period
    except ValueError as exc:
        raise TermError(str(exc)) from None


def _period(line, default_frequency):
    """(ps_billing_rules period, months per period, recurring?) of a line."""
    crm = (line.get("frequency") or "").strip().lower()
    if crm:
        months = HUBSPOT_FREQUENCY_MONTHS.get(crm)
        if months not in (1, 3):
            raise TermError(
                f"its billing frequency is {crm!r}, and retainers and periodic fees are billed "
                "monthly or quarterly: set the line's billing frequency to monthly or quarterly"
            )
        return ("monthly" if months == 1 else "quarterly"), months, True
    try:
        period = schedule.normalize_frequency(default_frequency)
    except ValueError as exc:
        raise TermError(str(exc)) from None
    return period, schedule.MONTHS_PER_PERIOD[period], False


def line_terms(line: dict, defaults: dict | None = None, digits: int = 2) -> LineTerms:
    """The periodic terms of a normalized deal line.

    ``defaults``: the product mapping's ``{"frequency", "term_source", "term_months"}`` (or
    None). Raises TermError (saying what is missing) when the term cannot be determined or
    does not fit whole periods.
    """
    defaults = defaults or {}
    period, months_per_period, recurring = _period(line, defaults.get("frequency"))
    quantity = float(line.get("quantity") or 0.0)
    months, source = _crm_months(line, months_per_period), "crm"
    if months is None:
        source = "product"
        if defaults.get("term_source") == TERM_FIXED and defaults.get("term_months"):
            months = int(defaults["term_months"])
        elif defaults.get("term_source") == TERM_FROM_QUANTITY:
            periods = _whole(quantity, "the quantity (the number of periods)")
            if not periods:
                raise TermError("its quantity 0 sells no period")
            months = periods * months_per_period
            recurring = False  # the quantity already counts the periods
        else:
            raise TermError("its term (number of periods) is not known")
    if months < months_per_period or months % months_per_period:
        raise TermError(f"a term of {months} month(s) is not a whole number of {period} periods")
    periods = months // months_per_period
    amount = line.get("amount")
    amount = float(amount) if amount is not None else None
    odoo_quantity = quantity
    if recurring:
        # HubSpot prices a recurring line item per billing period: the term sells ``periods``
        # times its quantity, for its total contract value.
        odoo_quantity = quantity * periods
        total = line.get("total")
        if total in (None, ""):
            total = amount * periods if amount is not None else None
        amount = float(total) if total is not None else None
    try:
        terms = schedule.periodic_terms(
            odoo_quantity,
            line.get("price_unit") or 0.0,
            amount=amount,
            discount=line.get("discount") or 0.0,
            frequency=period,
            term=months,
            digits=digits,
        )
    except ValueError as exc:
        raise TermError(str(exc)) from None
    return LineTerms(
        terms=terms,
        quantity=odoo_quantity,
        price_unit=float(line.get("price_unit") or 0.0),
        discount=float(line.get("discount") or 0.0),
        discount_amount=float(line.get("discount_amount") or 0.0),
        amount=terms.total,
        months_per_period=months_per_period,
        start=line.get("start_date") or None,
        source=source,
    )


def what_to_set(crm_name: str, line_label: str, crm_who: str, mapping_who: str) -> str:
    """Where the term of a periodic line can be given, and who can."""
    product = (
        f"give the product mapping of '{line_label}' a default term (Term: a fixed number of "
        f"months, or 'Quantity = number of periods'; {mapping_who})"
    )
    if crm_name == "HubSpot":
        return (
            "set the line item's billing frequency (monthly or quarterly) and its term "
            f"(hs_recurring_billing_period) or number of payments in HubSpot ({crm_who}), or "
            + product
        )
    return product
