"""What to do when a PSA entry Odoo already imported comes back changed, unapproved or deleted.

Pure decisions: the ORM side describes the line it holds (``Held``), the entry as the PSA now has
it, and whether the line is billed (on a draft or posted invoice); ``decide`` answers one of:

* ``NOTHING``: same business content (e.g. only our own mark-back moved ``updated_at``), or an
  older version arriving late;
* ``INFO``: only what the PSA says about itself changed (its rates, its own invoicing): the
  stored PSA values follow, never the billed ones;
* ``FOLLOW``: unbilled line, the line follows the entry (audited);
* ``UNAPPROVE`` / ``REAPPROVE``: unbilled line, its approval follows the PSA's;
* ``CORRECTION``: billed line, nothing is touched; a correction item records old and new.

Deletions follow the same rule (``decide_deletion``), and the window re-list of Harvest is cut
into bounded slices (``window_slices``) whose missing ids are only candidates until the PSA
confirms them gone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

NOTHING = "nothing"
INFO = "info"
FOLLOW = "follow"
UNAPPROVE = "unapprove"
REAPPROVE = "reapprove"
CORRECTION = "correction"
DELETE = "delete"

KIND_CHANGED = "changed"
KIND_UNAPPROVED = "unapproved"
KIND_DELETED = "deleted"

# Fields whose change alters what was (or would be) billed; shown old -> new on corrections.
BUSINESS_FIELDS = ("hours", "date", "user", "project", "task", "billable", "notes")


@dataclass(frozen=True)
class Held:
    """What the Odoo line holds of the version last imported."""

    quantity: Decimal  # the hours billed (rounded or exact per the backend setting)
    spent_on: date
    user_id: str
    project_id: str
    task_id: str | None
    billable: bool
    notes: str
    approved: bool
    fingerprint: str | None
    updated_at: datetime | None
    task_name: str | None = None


@dataclass(frozen=True)
class Decision:
    action: str
    kind: str | None = None
    changes: dict = field(default_factory=dict)  # field -> (old, new)


def _hours(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.000001")).normalize()


def changes_between(held: Held, entry, quantity) -> dict:
    """{field: (old, new)} of the business fields that differ."""
    pairs = {
        "hours": (_hours(held.quantity), _hours(quantity)),
        "date": (held.spent_on, entry.spent_on),
        "user": (held.user_id, entry.user_id),
        "project": (held.project_id, entry.project_id),
        "task": (held.task_id, entry.task_id),
        "billable": (bool(held.billable), bool(entry.billable)),
        "notes": ((held.notes or "").strip(), (entry.notes or "").strip()),
    }
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


def is_stale(held: Held, entry) -> bool:
    """An older version than the one imported (jobs of one page may run in any order)."""
    return bool(held.updated_at and entry.updated_at and entry.updated_at < held.updated_at)


def decide(held: Held, entry, quantity, *, billed: bool, approved_only: bool = True) -> Decision:
    """What to do with a changed entry (see the module doc)."""
    if held.fingerprint and held.fingerprint == entry.fingerprint:
        return Decision(NOTHING)
    if is_stale(held, entry):
        return Decision(NOTHING)
    changes = changes_between(held, entry, quantity)
    if held.approved and not entry.approved:
        approval = {"approval": ("approved", entry.approval_status)}
        if billed:
            return Decision(CORRECTION, KIND_UNAPPROVED, {**approval, **changes})
        return Decision(UNAPPROVE, changes={**approval, **changes})
    if not held.approved and entry.approved:
        # An unapproved line is never billed: it follows, and is approved again.
        return Decision(REAPPROVE, changes={"approval": (held.approved, True), **changes})
    if not changes:
        return Decision(INFO)
    if billed:
        return Decision(CORRECTION, KIND_CHANGED, changes)
    return Decision(FOLLOW, changes=changes)


def decide_deletion(*, billed: bool) -> Decision:
    if billed:
        return Decision(CORRECTION, KIND_DELETED, {"deleted": (False, True)})
    return Decision(DELETE)


def window_slices(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """[start, end] cut into slices of ``days`` days (the last one shorter), oldest first."""
    if days < 1:
        raise ValueError("a slice has at least one day")
    slices = []
    current = start
    while current <= end:
        last = min(end, current + timedelta(days=days - 1))
        slices.append((current, last))
        current = last + timedelta(days=1)
    return slices


def missing_ids(bound_ids, seen_ids) -> list[str]:
    """Ids Odoo holds that a re-list did not return: deletion candidates, to be confirmed."""
    seen = {str(i) for i in seen_ids}
    return sorted({str(i) for i in bound_ids} - seen, key=lambda i: (len(i), i))


def adjustment_plan(
    old_quantity: Decimal,
    new_quantity: Decimal,
    *,
    same_line: bool,
    old_billable: bool,
    new_billable: bool,
    removed: bool = False,
) -> list[tuple[str, Decimal]]:
    """Adjustment lines billing the difference: [("old"|"new", hours)].

    Same contract line and billable both times: one line of the difference. Otherwise the old
    hours are reversed on the old line and the new ones added on the new line. An entry deleted
    or unapproved after billing (``removed``) reverses the old hours only.
    """
    old = old_quantity if old_billable else Decimal(0)
    new = Decimal(0) if removed or not new_billable else new_quantity
    if same_line and not removed:
        delta = new - old
        return [("new", delta)] if delta else []
    plan = []
    if old:
        plan.append(("old", -old))
    if new:
        plan.append(("new", new))
    return plan


def first_open_day(day: date, lock_date: date | None) -> date:
    """``day``, or the day after the lock date when ``day`` is in a locked period."""
    if lock_date and day <= lock_date:
        return lock_date + timedelta(days=1)
    return day
