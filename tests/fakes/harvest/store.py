"""The fake Harvest account's data, and its serialisation in the shapes of the Harvest API v2.

Records are kept flat (``project_id``, ``user_id``...) and expanded on output into the nested
objects Harvest returns (``"project": {"id", "name"}``...). Money and hours are Decimals inside
and JSON numbers outside. Derived flags follow Harvest's documented rules: an entry is locked when
approved, invoiced or its project is archived (``locked_reason`` says which), ``is_closed`` is the
deprecated twin of ``approval_status == "approved"``, ``rounded_hours`` rounds up to the account's
Time Rounding increment.
"""

import itertools
import math
from datetime import UTC, date, datetime, timedelta
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
    return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)


class HarvestStore:
    """Every object of one fake Harvest account, keyed by integer id."""

    rounding_minutes = 15  # the account's Time Rounding setting (rounded up)
    approval_status_field = True  # False: entries carry only is_closed (the documented signal)

    def __init__(self, clock):
        self.clock = clock
        self._ids = {
            name: itertools.count(start)
            for name, start in (
                ("client", 5_735_001),
                ("project", 14_307_001),
                ("task", 8_083_001),
                ("task_assignment", 155_502_001),
                ("user_assignment", 125_068_001),
                ("user", 1_782_001),
                ("rate", 1_000_001),
                ("expense_category", 4_195_001),
                ("time_entry", 636_709_001),
                ("expense", 15_296_001),
                ("invoice", 13_150_001),
            )
        }
        self.clients: dict[int, dict] = {}
        self.projects: dict[int, dict] = {}
        self.tasks: dict[int, dict] = {}
        self.task_assignments: dict[int, dict] = {}
        self.user_assignments: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.cost_rates: dict[int, list[dict]] = {}
        self.billable_rates: dict[int, list[dict]] = {}
        self.expense_categories: dict[int, dict] = {}
        self.time_entries: dict[int, dict] = {}
        self.expenses: dict[int, dict] = {}
        self.receipts: dict[int, tuple[bytes, str]] = {}  # expense id -> (content, content type)
        self.deleted_time_entries: set[int] = set()

    # Helpers ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def new_id(self, kind) -> int:
        return next(self._ids[kind])

    def _stamped(self, record) -> dict:
        record["created_at"] = record["updated_at"] = self.now()
        return record

    def touch(self, record) -> None:
        record["updated_at"] = self.now()

    # Creation (used by the API routes and by the seeding helpers) -----------------------------

    def add_user(self, first_name, last_name, email, *, access_roles=("member",), **extra) -> dict:
        user = self._stamped(
            {
                "id": self.new_id("user"),
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "telephone": "",
                "timezone": "Eastern Time (US & Canada)",
                "has_access_to_all_future_projects": False,
                "is_contractor": False,
                "is_active": True,
                "weekly_capacity": 126000,
                "default_hourly_rate": None,
                "cost_rate": None,
                "roles": [],
                "access_roles": list(access_roles),
                "avatar_url": "https://cache.harvestapp.com/assets/profile_images/abraj.png",
                **extra,
            }
        )
        self.users[user["id"]] = user
        self.cost_rates[user["id"]] = []
        self.billable_rates[user["id"]] = []
        return user

    def add_rate(self, kind, user_id, amount, start_date=None) -> dict:
        """A cost or billable rate, with Harvest's documented replacement rules.

        No start date replaces the user's existing rates; a start date before existing rates
        replaces those; end dates are calculated (the day before the next rate starts).
        """
        rates = (self.cost_rates if kind == "cost" else self.billable_rates)[user_id]
        if start_date is None:
            rates.clear()
        else:
            rates[:] = [r for r in rates if r["start_date"] is not None and r["start_date"] < start_date]
        rate = self._stamped(
            {"id": self.new_id("rate"), "amount": Decimal(amount), "start_date": start_date}
        )
        rates.append(rate)
        rates.sort(key=lambda r: r["start_date"] or date.min)
        user = self.users[user_id]
        user["cost_rate" if kind == "cost" else "default_hourly_rate"] = rates[-1]["amount"]
        self.touch(user)
        return rate

    def rate_on(self, kind, user_id, day) -> Decimal | None:
        rates = (self.cost_rates if kind == "cost" else self.billable_rates).get(user_id, [])
        applicable = [r for r in rates if r["start_date"] is None or r["start_date"] <= day]
        if applicable:
            return applicable[-1]["amount"]
        user = self.users.get(user_id) or {}
        return user.get("cost_rate" if kind == "cost" else "default_hourly_rate")

    def add_client(self, name, currency="USD", **extra) -> dict:
        client = self._stamped(
            {
                "id": self.new_id("client"),
                "name": name,
                "is_active": True,
                "address": "",
                "statement_key": f"stmt{len(self.clients) + 1:04d}",
                "currency": currency,
                **extra,
            }
        )
        self.clients[client["id"]] = client
        return client

    def add_project(self, client_id, name, **values) -> dict:
        project = self._stamped(
            {
                "id": self.new_id("project"),
                "client_id": client_id,
                "name": name,
                "code": None,
                "is_active": True,
                "is_billable": True,
                "is_fixed_fee": False,
                "bill_by": "Project",
                "hourly_rate": None,
                "budget": None,
                "budget_by": "none",
                "budget_is_monthly": False,
                "notify_when_over_budget": False,
                "over_budget_notification_percentage": Decimal("80"),
                "over_budget_notification_date": None,
                "show_budget_to_all": False,
                "cost_budget": None,
                "cost_budget_include_expenses": False,
                "fee": None,
                "notes": "",
                "starts_on": None,
                "ends_on": None,
                **values,
            }
        )
        self.projects[project["id"]] = project
        return project

    def add_task(self, name, **values) -> dict:
        task = self._stamped(
            {
                "id": self.new_id("task"),
                "name": name,
                "billable_by_default": True,
                "default_hourly_rate": None,
                "is_default": False,
                "is_active": True,
                **values,
            }
        )
        self.tasks[task["id"]] = task
        return task

    def add_task_assignment(self, project_id, task_id, **values) -> dict:
        task = self.tasks[task_id]
        assignment = self._stamped(
            {
                "id": self.new_id("task_assignment"),
                "project_id": project_id,
                "task_id": task_id,
                "is_active": True,
                "billable": task["billable_by_default"],
                "hourly_rate": task["default_hourly_rate"],
                "budget": None,
                **values,
            }
        )
        self.task_assignments[assignment["id"]] = assignment
        return assignment

    def add_user_assignment(self, project_id, user_id, **values) -> dict:
        assignment = self._stamped(
            {
                "id": self.new_id("user_assignment"),
                "project_id": project_id,
                "user_id": user_id,
                "is_active": True,
                "is_project_manager": False,
                "use_default_rates": True,
                "hourly_rate": self.users[user_id]["default_hourly_rate"],
                "budget": None,
                **values,
            }
        )
        self.user_assignments[assignment["id"]] = assignment
        return assignment

    def add_expense_category(self, name, unit_name=None, unit_price=None) -> dict:
        category = self._stamped(
            {
                "id": self.new_id("expense_category"),
                "name": name,
                "unit_name": unit_name,
                "unit_price": unit_price,
                "is_active": True,
            }
        )
        self.expense_categories[category["id"]] = category
        return category

    def task_assignment_for(self, project_id, task_id) -> dict | None:
        for assignment in self.task_assignments.values():
            if assignment["project_id"] == project_id and assignment["task_id"] == task_id:
                return assignment
        return None

    def user_assignment_for(self, project_id, user_id) -> dict | None:
        for assignment in self.user_assignments.values():
            if assignment["project_id"] == project_id and assignment["user_id"] == user_id:
                return assignment
        return None

    def entry_rates(self, entry) -> tuple[Decimal | None, Decimal | None]:
        """(billable rate, cost rate) Harvest applies to an entry, per the project's bill_by."""
        project = self.projects[entry["project_id"]]
        cost = self.rate_on("cost", entry["user_id"], entry["spent_date"])
        if not entry["billable"]:
            return None, cost
        bill_by = project["bill_by"]
        if bill_by == "Tasks":
            assignment = self.task_assignment_for(entry["project_id"], entry["task_id"]) or {}
            billable = assignment.get("hourly_rate")
        elif bill_by == "People":
            assignment = self.user_assignment_for(entry["project_id"], entry["user_id"]) or {}
            if assignment.get("use_default_rates", True):
                billable = self.rate_on("billable", entry["user_id"], entry["spent_date"])
            else:
                billable = assignment.get("hourly_rate")
        elif bill_by == "Project":
            billable = project["hourly_rate"]
        else:
            billable = None
        return billable, cost

    def add_time_entry(self, user_id, project_id, task_id, spent_date, hours, notes="", **extra):
        assignment = self.task_assignment_for(project_id, task_id) or {}
        entry = self._stamped(
            {
                "id": self.new_id("time_entry"),
                "spent_date": spent_date,
                "user_id": user_id,
                "project_id": project_id,
                "task_id": task_id,
                "hours": Decimal(hours),
                "notes": notes,
                "approval_status": "unsubmitted",
                "is_billed": False,
                "invoice": None,
                "external_reference": None,
                "billable": bool(assignment.get("billable", True))
                and self.projects[project_id]["is_billable"],
                "budgeted": True,
                "is_running": False,
                "timer_started_at": None,
                "started_time": None,
                "ended_time": None,
                **extra,
            }
        )
        entry["billable_rate"], entry["cost_rate"] = self.entry_rates(entry)
        self.time_entries[entry["id"]] = entry
        return entry

    def add_expense(self, user_id, project_id, category_id, spent_date, **values) -> dict:
        category = self.expense_categories[category_id]
        units = values.pop("units", None)
        total_cost = values.pop("total_cost", None)
        if category["unit_price"] is not None and units is not None:
            total_cost = (Decimal(units) * category["unit_price"]).quantize(Decimal("0.01"))
        expense = self._stamped(
            {
                "id": self.new_id("expense"),
                "spent_date": spent_date,
                "user_id": user_id,
                "project_id": project_id,
                "expense_category_id": category_id,
                "units": Decimal(units) if units is not None else Decimal(1),
                "total_cost": Decimal(total_cost),
                "notes": "",
                "billable": True,
                "approval_status": "unsubmitted",
                "is_billed": False,
                "invoice": None,
                "receipt": None,
                **values,
            }
        )
        self.expenses[expense["id"]] = expense
        return expense

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
        out = {k: v for k, v in project.items() if k not in ("client_id", "created_at", "updated_at")}
        for key in ("hourly_rate", "budget", "cost_budget", "fee", "over_budget_notification_percentage"):
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
