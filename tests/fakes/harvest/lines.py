"""Time entry and expense routes of the fake Harvest (a mixin of :class:`FakeHarvest`).

Filters per the Harvest docs (``user_id``, ``client_id``, ``project_id``, ``task_id``,
``external_reference_id``, ``is_billed``, ``is_running``, ``approval_status``, ``updated_since``,
``from``/``to``); members see only their own lines; locked (approved or invoiced) entries can be
edited or deleted by administrators only, as in Harvest.
"""

from decimal import Decimal
from urllib.parse import urlsplit

from .params import _body, _by_spent_date, _date, _decimal, _flag, _int, _require
from .params import error as _error


class LineRoutes:
    # Time entries and expenses -----------------------------------------------------------------

    def _line_filters(self, request, caller, records, references=False):
        query = request.query
        if not self.is_admin(caller):  # members only see their own time and expenses
            records = [r for r in records if r["user_id"] == caller["id"]]
        for name in ("user_id", "project_id", "task_id"):
            if name in query:
                wanted = _int(query[name], name)
                records = [r for r in records if r.get(name) == wanted]
        if "client_id" in query:
            wanted = _int(query["client_id"], "client_id")
            records = [
                r for r in records if self.store.projects[r["project_id"]]["client_id"] == wanted
            ]
        if "is_billed" in query:
            wanted = _flag(query["is_billed"], "is_billed")
            records = [r for r in records if r["is_billed"] == wanted]
        if "is_running" in query and references:
            wanted = _flag(query["is_running"], "is_running")
            records = [r for r in records if r["is_running"] == wanted]
        if "approval_status" in query and self.store.approval_status_field:
            wanted = query["approval_status"]
            if wanted not in ("unsubmitted", "submitted", "approved"):
                raise _error(422, "approval_status must be unsubmitted, submitted or approved")
            records = [r for r in records if r["approval_status"] == wanted]
        if "external_reference_id" in query and references:
            wanted = query["external_reference_id"]
            records = [r for r in records if (r["external_reference"] or {}).get("id") == wanted]
        if "from" in query:
            start = _date(query["from"], "from")
            records = [r for r in records if r["spent_date"] >= start]
        if "to" in query:
            end = _date(query["to"], "to")
            records = [r for r in records if r["spent_date"] <= end]
        return self._common_filters(request, records)

    def _list_time_entries(self, request, caller):
        records = self._line_filters(
            request, caller, list(self.store.time_entries.values()), references=True
        )
        return self.paginate(
            request,
            self._endpoint(request),
            "time_entries",
            records,
            _by_spent_date,
            self.store.time_entry_json,
        )

    def _visible_line(self, kind, record_id, caller):
        record = self._record(kind, record_id)
        if not self.is_admin(caller) and record["user_id"] != caller["id"]:
            raise _error(404, "Not found")
        return record

    def _get_time_entry(self, request, caller, entry_id):
        entry = self._visible_line("time_entries", entry_id, caller)
        return 200, {}, self.store.time_entry_json(entry)

    @staticmethod
    def _reference(value) -> dict:
        if not isinstance(value, dict) or not value.get("id"):
            raise _error(422, "External reference must have an id")
        permalink = value.get("permalink") or ""
        host = urlsplit(permalink).hostname or "external"
        return {
            "id": str(value["id"]),
            "group_id": str(value["group_id"]) if value.get("group_id") else None,
            "account_id": str(value["account_id"]) if value.get("account_id") else None,
            "permalink": permalink or None,
            "service": host,
            "service_icon_url": f"https://{host}/favicon.ico",
        }

    def _create_time_entry(self, request, caller):
        body = _body(request)
        _require(body, "project_id", "task_id", "spent_date")
        user_id = _int(body.get("user_id") or caller["id"], "user_id")
        if user_id != caller["id"]:
            self.require_admin(caller, "track time for other people")
        self._record("users", user_id)
        project = self._record("projects", body["project_id"])
        task = self._record("tasks", body["task_id"])
        if not self.store.task_assignment_for(project["id"], task["id"]):
            raise _error(422, "Task is not assigned to this project")
        extra = {}
        if body.get("external_reference"):
            extra["external_reference"] = self._reference(body["external_reference"])
        entry = self.store.add_time_entry(
            user_id,
            project["id"],
            task["id"],
            _date(body["spent_date"], "spent_date"),
            _decimal(body.get("hours"), "hours") or Decimal(0),
            body.get("notes") or "",
            **extra,
        )
        return 201, {}, self.store.time_entry_json(entry)

    def _update_time_entry(self, request, caller, entry_id):
        entry = self._visible_line("time_entries", entry_id, caller)
        locked, reason = self.store.lock_state(entry)
        if locked and not self.is_admin(caller):
            raise _error(
                403, f"This time entry is locked ({reason}): only administrators may edit it."
            )
        body = _body(request)
        if "project_id" in body:
            entry["project_id"] = self._record("projects", body["project_id"])["id"]
        if "task_id" in body:
            entry["task_id"] = self._record("tasks", body["task_id"])["id"]
        if not self.store.task_assignment_for(entry["project_id"], entry["task_id"]):
            raise _error(422, "Task is not assigned to this project")
        if "spent_date" in body:
            entry["spent_date"] = _date(body["spent_date"], "spent_date")
        if "hours" in body:
            entry["hours"] = _decimal(body["hours"], "hours")
        for name in ("notes", "started_time", "ended_time"):
            if name in body:
                entry[name] = body[name]
        if "external_reference" in body:
            entry["external_reference"] = (
                self._reference(body["external_reference"]) if body["external_reference"] else None
            )
        entry["billable_rate"], entry["cost_rate"] = self.store.entry_rates(entry)
        self.store.touch(entry)
        return 200, {}, self.store.time_entry_json(entry)

    def _delete_time_entry(self, request, caller, entry_id):
        entry = self._visible_line("time_entries", entry_id, caller)
        if entry["approval_status"] == "approved" and not self.is_admin(caller):
            raise _error(403, "Only administrators can delete an approved (closed) time entry.")
        del self.store.time_entries[entry["id"]]
        self.store.deleted_time_entries.add(entry["id"])
        return 200, {}, None

    def _delete_reference(self, request, caller, entry_id):
        entry = self._visible_line("time_entries", entry_id, caller)
        entry["external_reference"] = None
        self.store.touch(entry)
        return 200, {}, None

    def _list_expenses(self, request, caller):
        records = self._line_filters(request, caller, list(self.store.expenses.values()))
        return self.paginate(
            request,
            self._endpoint(request),
            "expenses",
            records,
            _by_spent_date,
            self.store.expense_json,
        )

    def _get_expense(self, request, caller, expense_id):
        return 200, {}, self.store.expense_json(self._visible_line("expenses", expense_id, caller))

    def _delete_expense(self, request, caller, expense_id):
        expense = self._visible_line("expenses", expense_id, caller)
        if expense["approval_status"] == "approved" and not self.is_admin(caller):
            raise _error(403, "Only administrators can delete an approved expense.")
        del self.store.expenses[expense["id"]]
        return 200, {}, None

    def _receipt(self, request, caller, expense_id):
        self._visible_line("expenses", expense_id, caller)
        content, content_type = self.store.receipts.get(int(expense_id), (None, None))
        if content is None:
            raise _error(404, "Not found")
        return 200, {"Content-Type": content_type}, content
