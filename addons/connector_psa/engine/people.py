"""People (pure): PSA users matched to employees, their company, and cost-rate history.

* Users match employees by e-mail, case- and space-insensitively; several employees with one
  e-mail is ambiguous (a person decides).
* The company of an employee created from a PSA user comes from the backend's mapping rules
  (an e-mail domain or a PSA role), else the backend's default company.
* Cost rates become effective-dated periods: Harvest gives the whole history with start dates
  (mirrored); Kantata one current rate per currency, effective from its last update (it applies
  a change to future work only: periods are added). History is never revalued: Odoo lines keep
  the cost stored when they were imported.
"""

from datetime import date
from decimal import Decimal

SINCE_ALWAYS = date(2000, 1, 1)  # a rate without a start date applies to all past work


def normalize_email(value) -> str:
    return (value or "").strip().lower()


def match_employee(email, employees_by_email) -> tuple[str, list]:
    """("found" | "ambiguous" | "none", employee ids) for a PSA user's e-mail."""
    ids = employees_by_email.get(normalize_email(email)) or []
    if not email or not ids:
        return "none", []
    if len(ids) > 1:
        return "ambiguous", list(ids)
    return "found", list(ids)


def company_for(user, rules, default):
    """The company of a new employee: the first matching rule (domain or role), else default.

    ``rules``: [(kind, value, company)] with kind "email_domain" or "role".
    """
    domain = normalize_email(user.email).rpartition("@")[2]
    roles = {str(role).strip().lower() for role in user.roles or ()}
    for kind, value, company in rules:
        wanted = (value or "").strip().lower().lstrip("@")
        if kind == "email_domain" and wanted and domain == wanted:
            return company
        if kind == "role" and wanted in roles:
            return company
    return default


def cost_periods(rates, currency) -> list[tuple[date, Decimal]]:
    """[(effective from, hourly cost)] oldest first, for rates in ``currency`` (or without
    one: Harvest rates are in the account's currency). Two rates on one day: the later wins."""
    periods = {}
    for rate in sorted(rates, key=lambda r: (r.start_date or SINCE_ALWAYS, r.updated_at or 0)):
        if rate.currency and currency and rate.currency != currency:
            continue
        periods[rate.start_date or SINCE_ALWAYS] = rate.amount
    return sorted(periods.items())


def rate_changes(existing: dict, periods, *, complete=False) -> tuple[list, list, list]:
    """(to create, to update, to delete) given {date_from: cost} already in Odoo.

    New dates are added, a different amount on an existing date is corrected. ``complete``:
    the PSA gives the whole history (Harvest), so a period it no longer has is deleted (its
    rates were replaced there); otherwise (Kantata: the current rate only) nothing is deleted.
    Either way the imported lines keep the cost they were stored with.
    """
    create, update = [], []
    for day, amount in periods:
        if day not in existing:
            create.append((day, amount))
        elif Decimal(str(existing[day])).quantize(Decimal("0.01")) != amount.quantize(
            Decimal("0.01")
        ):
            update.append((day, amount))
    wanted = {day for day, _amount in periods}
    delete = sorted(day for day in existing if complete and day not in wanted)
    return create, update, delete
