"""The shapes both PSA adapters (Harvest, Kantata) produce: what the Odoo side imports.

Plain frozen dataclasses, so that a third tool is a new adapter filling the same shapes. Money,
rates and hours are ``Decimal`` (never float: no rounding surprises before Odoo's own currency
rounding); dates of work are plain ``date`` objects taken from the PSA's date field, never derived
from a timestamp (no timezone shift); timestamps are naive UTC ``datetime`` (ready for the ORM).
Remote ids are strings whatever the tool sends. ``raw`` keeps the payload for audit and replay.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from odoo.addons.connector_base.engine.hashing import payload_hash

HARVEST = "harvest"
KANTATA = "kantata"

HOUR_PLACES = Decimal("0.000001")  # hours derived from minutes (20 min = 0.333333 h)


def to_decimal(value) -> Decimal | None:
    """A JSON number (int, float, Decimal or numeric string) as an exact Decimal; None stays."""
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def from_subunits(value, base_unit=100) -> Decimal | None:
    """Kantata amounts are in currency subunits (cents): 12345 -> Decimal("123.45")."""
    if value is None:
        return None
    return Decimal(int(value)) / Decimal(int(base_unit or 100))


def parse_datetime(value) -> datetime | None:
    """ISO 8601 with ``Z`` or an offset (``-07:00``) -> naive UTC; None/"" -> None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_date(value) -> date | None:
    """A ``YYYY-MM-DD`` date as sent (no timezone involved)."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def api_datetime(moment) -> str:
    """A datetime for a query parameter: UTC, ISO 8601 with ``Z`` (naive input is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours_from_minutes(minutes) -> Decimal:
    return (Decimal(int(minutes)) / Decimal(60)).quantize(HOUR_PLACES)


def minutes_from_hours(hours) -> int:
    return int((Decimal(hours) * 60).to_integral_value())


def _fingerprint(record, exclude) -> str:
    values = {
        name: getattr(record, name) for name in record.__dataclass_fields__ if name not in exclude
    }
    return payload_hash(values)


# Fields that change without the work changing: the PSA's own stamps, our mark-back, the payload.
_NOT_BUSINESS = ("raw", "updated_at", "created_at", "external_reference", "locked", "locked_reason")


@dataclass(frozen=True)
class PsaTimeEntry:
    """One time entry of a PSA, normalised. ``hours``/``rounded_hours``: see the adapters.

    Harvest: ``rounded_hours`` is Harvest's own (Time Rounding setting, what it invoices);
    Kantata has no rounding: both are ``minutes / 60``.
    """

    source: str
    remote_id: str
    user_id: str
    project_id: str
    task_id: str | None
    spent_on: date
    hours: Decimal
    rounded_hours: Decimal
    minutes: int
    billable: bool
    notes: str
    approved: bool
    approval_status: str  # unsubmitted | submitted | approved | rejected
    locked: bool
    locked_reason: str | None
    invoiced: bool  # invoiced in the PSA itself (not by Odoo)
    invoice_ref: str | None
    billable_rate: Decimal | None  # the PSA's rate on this entry, per hour
    cost_rate: Decimal | None
    currency: str | None
    external_reference: str | None  # what the connector marked on it (see mark_time_entry)
    user_name: str | None = None
    user_email: str | None = None
    project_name: str | None = None
    project_code: str | None = None
    task_name: str | None = None
    client_id: str | None = None
    client_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def quantity(self, rounded=True) -> Decimal:
        """Hours to bill: rounded hours (what Harvest invoices) or the exact hours."""
        return self.rounded_hours if rounded else self.hours

    @property
    def fingerprint(self) -> str:
        """Hash of what the work is (hours, date, people, rates, approval, invoicing).

        Equal fingerprints mean nothing an Odoo line depends on changed, even if ``updated_at``
        moved (e.g. after the connector marked the entry back in the PSA).
        """
        return _fingerprint(self, _NOT_BUSINESS)


@dataclass(frozen=True)
class PsaExpense:
    source: str
    remote_id: str
    user_id: str
    project_id: str
    task_id: str | None
    spent_on: date
    amount: Decimal
    currency: str | None
    units: Decimal | None
    unit_price: Decimal | None
    category_id: str | None
    category_name: str | None
    billable: bool
    notes: str
    approved: bool
    approval_status: str
    locked: bool
    invoiced: bool
    invoice_ref: str | None
    receipt_url: str | None
    receipt_name: str | None = None
    receipt_content_type: str | None = None
    user_name: str | None = None
    user_email: str | None = None
    project_name: str | None = None
    project_code: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self, (*_NOT_BUSINESS, "receipt_url"))


@dataclass(frozen=True)
class PsaUser:
    source: str
    remote_id: str
    email: str | None
    name: str
    active: bool = True
    is_admin: bool = False
    is_contractor: bool = False
    roles: tuple = ()  # Harvest access_roles; Kantata (account permission,)
    cost_rate: Decimal | None = None  # current default cost rate (see cost-rate history)
    billable_rate: Decimal | None = None
    membership_id: str | None = None  # Kantata account membership (cost rates hang on it)
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaCostRate:
    """One effective-dated cost rate of a person.

    Harvest: the documented history (``start_date``; ``end_date`` calculated by Harvest).
    Kantata keeps one current rate per currency and applies a change to future work only: the
    rate is effective from the day it was last updated (``start_date``), open-ended.
    """

    source: str
    user_id: str
    amount: Decimal
    currency: str | None  # None: the account's currency (Harvest does not say)
    start_date: date | None  # None: since always
    end_date: date | None
    remote_id: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PsaClient:
    source: str
    remote_id: str
    name: str
    currency: str | None
    active: bool = True
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaProject:
    source: str
    remote_id: str
    name: str
    code: str | None  # Harvest project code / Kantata external reference of the connector
    client_id: str | None = None
    client_name: str | None = None
    currency: str | None = None
    active: bool = True
    billable: bool = True
    fixed_fee: bool = False
    bill_by: str | None = None
    budget_by: str | None = None
    budget: Decimal | None = None
    fee: Decimal | None = None
    hourly_rate: Decimal | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaTask:
    source: str
    remote_id: str
    name: str
    project_id: str | None = None  # Kantata stories belong to a project; Harvest tasks do not
    billable: bool = True
    hourly_rate: Decimal | None = None
    active: bool = True
    kind: str = "task"  # task | milestone | deliverable | issue
    state: str | None = None
    due_date: date | None = None
    reference: str | None = None
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaAssignment:
    """A task or a person assigned to a project (Harvest assignments, Kantata participations)."""

    source: str
    remote_id: str
    project_id: str
    task_id: str | None = None
    user_id: str | None = None
    billable: bool | None = None
    hourly_rate: Decimal | None = None
    budget: Decimal | None = None
    active: bool = True
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaMilestone:
    """A project milestone: a milestone story, or a Kantata billing milestone."""

    source: str
    remote_id: str
    project_id: str
    name: str
    kind: str  # "story" (milestone task) | "billing" (billing milestone)
    due_date: date | None
    reached: bool
    amount: Decimal | None = None
    currency: str | None = None
    task_id: str | None = None
    invoiced: bool = False
    updated_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaEvent:
    """One change reported by a PSA's event feed (Kantata Subscribed Events)."""

    remote_id: str
    action: str  # created | updated | deleted
    subject_type: str  # TimeEntry, Expense...
    subject_id: str
    changed_at: datetime | None
    created_at: datetime | None


@dataclass(frozen=True)
class Page:
    """One page of a listing.

    ``resume``: opaque token to continue this listing after this page (None on the last page);
    ``cursor``: a "since" value that is safe to store after this page for the next incremental
    run (None when not yet safe: Harvest lists are not ordered by update time, so only the last
    page carries it); ``gap``: the feed no longer covers the requested start (fall back).
    """

    items: list
    number: int
    last: bool
    resume: str | None = None
    cursor: datetime | None = None
    total: int | None = None
    gap: bool = False


@dataclass(frozen=True)
class ConnectionInfo:
    """What Test connection shows: account, user, and the permissions the sync needs."""

    source: str
    account_id: str | None
    account_name: str | None
    user: PsaUser
    permissions: dict  # name -> bool, e.g. {"read_all_time": True, "event_feed": False}
    problems: tuple = ()  # sentences saying what is missing and how to fix it

    @property
    def ok(self) -> bool:
        return not self.problems
