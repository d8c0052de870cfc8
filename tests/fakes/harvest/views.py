"""The Harvest API v2 shapes of the fake's records (a mixin of :class:`HarvestStore`)."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

APPROVED_REASON = "Item Approved and Locked for this Time Period"
INVOICED_REASON = "Item Invoiced and Approved and Locked for this Time Period"
INVOICED_ONLY_REASON = "Item Invoiced and Locked for this Time Period"
ARCHIVED_REASON = "The project is locked for this time period."
APPROVAL_STATUSES = ("unsubmitted", "submitted", "approved")


def iso(moment: datetime) -> str:
    """Harvest's datetime format: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def num(value):
    """Decimal -> JSON number (None stays None)."""
    if value is None:
        return None
    value = Decimal(value)
    return (
        int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)
    )


class StoreViews:
    # Serialisation ---------------------------------------------------------------------------

    def _ref(self, kind, record_id, *fields) -> dict | None:
        record = getattr(self, kind).get(record_id)
        if record is None:
            return None
        return {name: record.get(name) for name in ("id", "name", *fields)}

    def _user_ref(self, user_id) -> dict:
        user = self.users[user_id]
        return {"id": user["id"], "name": f"{user['first_name']} {user['last_name']}"}

    @staticmethod
    def _stamps(record) -> dict:
        return {"created_at": iso(record["created_at"]), "updated_at": iso(record["updated_at"])}

    def client_json(self, client) -> dict:
        return {
            **{k: client[k] for k in ("id", "name", "is_active", "address", "statement_key")},
            "currency": client["currency"],
            **self._stamps(client),
        }

    def project_json(self, project) -> dict:
        out = {
            k: v for k, v in project.items() if k not in ("client_id", "created_at", "updated_at")
        }
        for key in (
            "hourly_rate",
            "budget",
            "cost_budget",
            "fee",
            "over_budget_notification_percentage",
        ):
            out[key] = num(project[key])
        for key in ("starts_on", "ends_on", "over_budget_notification_date"):
            out[key] = project[key].isoformat() if project[key] else None
        out["client"] = self._ref("clients", project["client_id"], "currency")
        return {**out, **self._stamps(project)}

    def task_json(self, task) -> dict:
        out = {k: v for k, v in task.items() if k not in ("created_at", "updated_at")}
        out["default_hourly_rate"] = num(task["default_hourly_rate"])
        return {**out, **self._stamps(task)}

    def task_assignment_json(self, assignment, nested=False) -> dict:
        out = {
            "id": assignment["id"],
            "billable": assignment["billable"],
            "is_active": assignment["is_active"],
            "hourly_rate": num(assignment["hourly_rate"]),
            "budget": num(assignment["budget"]),
            **self._stamps(assignment),
        }
        if not nested:
            out["project"] = self._ref("projects", assignment["project_id"], "code")
            out["task"] = self._ref("tasks", assignment["task_id"])
        return out

    def user_assignment_json(self, assignment, nested=False) -> dict:
        out = {
            "id": assignment["id"],
            "is_project_manager": assignment["is_project_manager"],
            "is_active": assignment["is_active"],
            "use_default_rates": assignment["use_default_rates"],
            "budget": num(assignment["budget"]),
            "hourly_rate": num(assignment["hourly_rate"]),
            **self._stamps(assignment),
        }
        if not nested:
            out["project"] = self._ref("projects", assignment["project_id"], "code")
            out["user"] = self._user_ref(assignment["user_id"])
        return out

    def user_json(self, user) -> dict:
        out = {k: v for k, v in user.items() if k not in ("created_at", "updated_at")}
        out["default_hourly_rate"] = num(user["default_hourly_rate"])
        out["cost_rate"] = num(user["cost_rate"])
        return {**out, **self._stamps(user)}

    def rate_json(self, rate, rates) -> dict:
        index = rates.index(rate)
        following = rates[index + 1] if index + 1 < len(rates) else None
        end_date = following["start_date"] - timedelta(days=1) if following else None
        return {
            "id": rate["id"],
            "amount": num(rate["amount"]),
            "start_date": rate["start_date"].isoformat() if rate["start_date"] else None,
            "end_date": end_date.isoformat() if end_date else None,
            **self._stamps(rate),
        }

    def expense_category_json(self, category) -> dict:
        return {
            **{k: category[k] for k in ("id", "name", "unit_name", "is_active")},
            "unit_price": num(category["unit_price"]),
            **self._stamps(category),
        }

    def lock_state(self, record) -> tuple[bool, str | None]:
        project = self.projects[record["project_id"]]
        approved = record["approval_status"] == "approved"
        if record["is_billed"]:
            return True, INVOICED_REASON if approved else INVOICED_ONLY_REASON
        if approved:
            return True, APPROVED_REASON
        if not project["is_active"]:
            return True, ARCHIVED_REASON
        return False, None

    def rounded(self, hours) -> Decimal:
        step = Decimal(self.rounding_minutes)
        minutes = Decimal(hours) * 60
        return (Decimal(math.ceil(minutes / step)) * step / 60).quantize(Decimal("0.01"))

    def time_entry_json(self, entry) -> dict:
        project = self.projects[entry["project_id"]]
        locked, reason = self.lock_state(entry)
        task_assignment = self.task_assignment_for(entry["project_id"], entry["task_id"])
        user_assignment = self.user_assignment_for(entry["project_id"], entry["user_id"])
        out = {
            "id": entry["id"],
            "spent_date": entry["spent_date"].isoformat(),
            "user": self._user_ref(entry["user_id"]),
            "client": self._ref("clients", project["client_id"]),
            "project": {"id": project["id"], "name": project["name"]},
            "task": self._ref("tasks", entry["task_id"]),
            "user_assignment": user_assignment
            and self.user_assignment_json(user_assignment, nested=True),
            "task_assignment": task_assignment
            and self.task_assignment_json(task_assignment, nested=True),
            "external_reference": entry["external_reference"],
            "invoice": entry["invoice"],
            "hours": num(entry["hours"]),
            "hours_without_timer": num(entry["hours"]),
            "rounded_hours": num(self.rounded(entry["hours"])),
            "notes": entry["notes"],
            "is_locked": locked,
            "locked_reason": reason,
            "is_closed": entry["approval_status"] == "approved",
            "is_billed": entry["is_billed"],
            "timer_started_at": entry["timer_started_at"],
            "started_time": entry["started_time"],
            "ended_time": entry["ended_time"],
            "is_running": entry["is_running"],
            "billable": entry["billable"],
            "budgeted": entry["budgeted"],
            "billable_rate": num(entry["billable_rate"]),
            "cost_rate": num(entry["cost_rate"]),
            **self._stamps(entry),
        }
        if self.approval_status_field:
            out["approval_status"] = entry["approval_status"]
        return out

    def expense_json(self, expense) -> dict:
        project = self.projects[expense["project_id"]]
        locked, reason = self.lock_state(expense)
        user_assignment = self.user_assignment_for(expense["project_id"], expense["user_id"])
        category = self.expense_categories[expense["expense_category_id"]]
        out = {
            "id": expense["id"],
            "notes": expense["notes"],
            "total_cost": num(expense["total_cost"]),
            "units": num(expense["units"]),
            "is_closed": expense["approval_status"] == "approved",
            "is_locked": locked,
            "is_billed": expense["is_billed"],
            "locked_reason": reason,
            "spent_date": expense["spent_date"].isoformat(),
            "billable": expense["billable"],
            "receipt": expense["receipt"],
            "user": self._user_ref(expense["user_id"]),
            "user_assignment": user_assignment
            and self.user_assignment_json(user_assignment, nested=True),
            "project": {"id": project["id"], "name": project["name"], "code": project["code"]},
            "expense_category": {
                "id": category["id"],
                "name": category["name"],
                "unit_price": num(category["unit_price"]),
                "unit_name": category["unit_name"],
            },
            "client": self._ref("clients", project["client_id"], "currency"),
            "invoice": expense["invoice"],
            **self._stamps(expense),
        }
        if self.approval_status_field:
            out["approval_status"] = expense["approval_status"]
        return out
