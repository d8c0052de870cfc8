"""The fake Harvest account's data (its API shapes are in ``views``).

Records are kept flat (``project_id``, ``user_id``...) and expanded on output into the nested
objects Harvest returns (``"project": {"id", "name"}``...). Money and hours are Decimals inside
and JSON numbers outside. Derived flags follow Harvest's documented rules: an entry is locked when
approved, invoiced or its project is archived (``locked_reason`` says which), ``is_closed`` is the
deprecated twin of ``approval_status == "approved"``, ``rounded_hours`` rounds up to the account's
Time Rounding increment.
"""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from .views import StoreViews


class HarvestStore(StoreViews):
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
            rates[:] = [r for r in rates if r["start_date"] is None or r["start_date"] < start_date]
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
                "unit_price": None if unit_price is None else Decimal(str(unit_price)),
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
            total_cost = (Decimal(str(units)) * category["unit_price"]).quantize(Decimal("0.01"))
        expense = self._stamped(
            {
                "id": self.new_id("expense"),
                "spent_date": spent_date,
                "user_id": user_id,
                "project_id": project_id,
                "expense_category_id": category_id,
                "units": Decimal(str(units)) if units is not None else Decimal(1),
                "total_cost": Decimal(str(total_cost)),
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
