"""The fake Kantata OX account's data, its serialisation, and its Subscribed Events log.

Objects are kept with integer ids and relation ids; the API shows ids as strings. Relation ids
that the docs mark "only included in the response if <association> is in the list of included
associations" are left out unless requested with ``include=`` (``FakeKantata.ids_require_include``
switches that off). Every change to a time entry, expense, story, workspace or cost rate appends
a subscribed event (``time_entry:created|updated|deleted``...), kept 9 days.
"""

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

# The account's time zone: timestamps come with an offset, as Kantata sends them.
ACCOUNT_TZ = timezone(timedelta(hours=-7))
EVENT_RETENTION = timedelta(days=9)

# Relation fields shown only when their association is included: field -> include name.
INCLUDE_ONLY = {
    "time_entries": {
        "user_id": "user",
        "workspace_id": "workspace",
        "story_id": "story",
        "role_id": "role",
        "invoice_id": "invoice",
        "active_submission_id": "active_submission",
        "recent_submission_id": "recent_submission",
    },
    "expenses": {
        "user_id": "user",
        "workspace_id": "workspace",
        "story_id": "story",
        "expense_category_id": "expense_category",
        "receipt_id": "receipt",
        "active_submission_id": "active_submission",
    },
    "stories": {"workspace_id": "workspace", "parent_id": "parent"},
    "participations": {"user_id": "user", "workspace_id": "workspace"},
    "account_memberships": {"user_id": "user"},
    "users": {"account_membership_id": "account_membership"},
    "timesheet_submissions": {
        "user_id": "user",
        "workspace_id": "workspace",
        "time_entry_ids": "time_entries",
    },
    "billing_milestones": {"workspace_id": "workspace", "story_id": "story"},
}

# include name -> (top-level key, field holding the related id(s))
INCLUDES = {
    "time_entries": {
        "user": ("users", "user_id"),
        "workspace": ("workspaces", "workspace_id"),
        "story": ("stories", "story_id"),
        "active_submission": ("timesheet_submissions", "active_submission_id"),
        "recent_submission": ("timesheet_submissions", "recent_submission_id"),
    },
    "expenses": {
        "user": ("users", "user_id"),
        "workspace": ("workspaces", "workspace_id"),
        "story": ("stories", "story_id"),
        "expense_category": ("expense_categories", "expense_category_id"),
        "receipt": ("attachments", "receipt_id"),
        "active_submission": ("expense_report_submissions", "active_submission_id"),
    },
    "stories": {"workspace": ("workspaces", "workspace_id")},
    "participations": {"user": ("users", "user_id"), "workspace": ("workspaces", "workspace_id")},
    "account_memberships": {"user": ("users", "user_id")},
    "users": {"account_membership": ("account_memberships", "account_membership_id")},
    "cost_rates": {"account_membership": ("account_memberships", "account_membership_id")},
    "timesheet_submissions": {
        "user": ("users", "user_id"),
        "workspace": ("workspaces", "workspace_id"),
        "time_entries": ("time_entries", "time_entry_ids"),
    },
    "billing_milestones": {
        "workspace": ("workspaces", "workspace_id"),
        "story": ("stories", "story_id"),
    },
}


def iso(moment: datetime) -> str:
    """Kantata's datetime format: ISO 8601 with the account's UTC offset."""
    return moment.astimezone(ACCOUNT_TZ).isoformat(timespec="seconds")


class KantataStore:
    """Every object of one fake Kantata account (collections keyed by integer id)."""

    COLLECTIONS = (
        "users",
        "account_memberships",
        "cost_rates",
        "workspaces",
        "participations",
        "stories",
        "time_entries",
        "expense_categories",
        "expenses",
        "attachments",
        "billing_milestones",
        "timesheet_submissions",
        "expense_report_submissions",
        "external_references",
        "subscribed_events",
        "resolutions",
    )

    def __init__(self, clock, account_id=4401):
        self.clock = clock
        self.account_id = account_id
        self._ids = itertools.count(1001)
        for name in self.COLLECTIONS:
            setattr(self, name, {})
        self.receipt_bytes: dict[int, tuple[bytes, str]] = {}
        self.event_lag = timedelta(0)  # created_at of events = change time + lag
        self.duplicate_events = False  # Kantata warns events may be duplicated
        self.events_enabled = True

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def new_id(self) -> int:
        return next(self._ids)

    def add(self, collection, **values) -> dict:
        record = {"id": self.new_id(), "created_at": self.now(), "updated_at": self.now(), **values}
        getattr(self, collection)[record["id"]] = record
        self.event(collection, record, "created")
        return record

    def update(self, collection, record, **values) -> dict:
        previous = dict(record)
        record.update(values)
        record["updated_at"] = self.now()
        self.event(collection, record, "updated", previous)
        return record

    def delete(self, collection, record) -> None:
        del getattr(self, collection)[record["id"]]
        self.event(collection, record, "deleted")

    # Events ----------------------------------------------------------------------------------

    EVENT_SUBJECTS = {
        "time_entries": ("time_entry", "TimeEntry"),
        "expenses": ("expense", "Expense"),
        "stories": ("story", "Story"),
        "workspaces": ("workspace", "Workspace"),
        "cost_rates": ("cost_rate", "CostRate"),
    }

    def event(self, collection, record, action, previous=None) -> None:
        if not self.events_enabled or collection not in self.EVENT_SUBJECTS:
            return
        prefix, subject_type = self.EVENT_SUBJECTS[collection]
        changed_at = self.now()
        copies = 2 if self.duplicate_events else 1
        for _copy in range(copies):
            event_id = self.new_id()
            self.subscribed_events[event_id] = {
                "id": event_id,
                "account_id": self.account_id,
                "event_type": f"{prefix}:{action}",
                "subject_type": subject_type,
                "subject_id": record["id"],
                "subject_changed_at": changed_at,
                "created_at": changed_at + self.event_lag,
                "updated_at": changed_at + self.event_lag,
                "user_id": record.get("user_id"),
                "previous_payload": previous,
                "current_payload": None if action == "deleted" else dict(record),
            }

    def live_events(self) -> list[dict]:
        horizon = self.now() - EVENT_RETENTION
        return [e for e in self.subscribed_events.values() if e["created_at"] >= horizon]

    # Derived state ------------------------------------------------------------------------------

    def submission_of(self, record, kind="timesheet_submissions") -> dict | None:
        submission_id = record.get("active_submission_id")
        return getattr(self, kind).get(submission_id) if submission_id else None

    def entry_approved(self, entry) -> bool:
        """On an approved timesheet, or in a workspace that does not require approvals."""
        workspace = self.workspaces[entry["workspace_id"]]
        if not workspace["require_time_approvals"]:
            return True
        submission = self.submission_of(entry)
        return bool(submission and submission["status"] == "approved")

    def cost_rate_for(self, user_id, currency) -> int | None:
        membership = self.membership_of(user_id)
        if membership is None:
            return None
        for rate in self.cost_rates.values():
            if rate["account_membership_id"] == membership["id"] and rate["currency"] == currency:
                return rate["amount_in_subunits"]
        return membership.get("cost_rate_in_cents")

    def membership_of(self, user_id) -> dict | None:
        return next((m for m in self.account_memberships.values() if m["user_id"] == user_id), None)

    # Serialisation ------------------------------------------------------------------------------

    @staticmethod
    def _plain(value):
        if isinstance(value, datetime):
            return iso(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    def to_json(self, collection, record) -> dict:
        """The API object: ids as strings, dates ISO, derived fields filled in."""
        out = {}
        for name, value in record.items():
            if name.startswith("_"):
                continue
            if name == "id" or (name.endswith("_id") and value is not None):
                out[name] = str(value)
            elif name.endswith("_ids"):
                out[name] = [str(v) for v in value]
            else:
                out[name] = self._plain(value)
        if collection == "time_entries":
            out["approved"] = self.entry_approved(record)
            out["time_in_minutes"] = record["time_in_minutes"]
        elif collection == "timesheet_submissions":
            out["time_entry_ids"] = [
                str(e["id"])
                for e in self.time_entries.values()
                if e.get("active_submission_id") == record["id"]
                or e.get("recent_submission_id") == record["id"]
            ]
        elif collection == "external_references":
            out["subject_id"] = record["subject_id"]  # an integer in this object
        elif collection == "cost_rates":
            out["account_membership_id"] = record["account_membership_id"]  # an integer here
        elif collection == "subscribed_events":
            out["subject_id"] = record["subject_id"]  # an integer in this object
            out["account_id"] = record["account_id"]
            out["user_id"] = record["user_id"]
            for name in ("previous_payload", "current_payload"):
                payload = record[name]
                out[name] = (
                    None
                    if payload is None
                    else {
                        k: self._plain(v) if not k.endswith("_id") or v is None else str(v)
                        for k, v in payload.items()
                    }
                )
        return out
