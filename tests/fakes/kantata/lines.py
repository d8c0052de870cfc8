"""Time entry, expense, milestone, timesheet and event routes of the fake Kantata (a mixin).

``GET /time_entries`` takes the documented filters (``approved`` is always processed as true,
``date_performed_between=a:b``, ``updated_after``, ``workspace_id``, ``only``...); approved time
is editable by Account Administrators only and invoiced time by nobody; timesheet submissions are
resolved by approvals, rejections and cancellations; Subscribed Events (administrators only) keep
9 days.
"""

import json

from .params import _day, _ids
from .params import error as _error


class LineRoutes:
    # Time entries --------------------------------------------------------------------------------

    def _list_time_entries(self, request, caller):
        query = request.query
        records = list(self.store.time_entries.values())
        if query.get("from_archived_workspaces") != "true":
            records = [
                r for r in records if not self.store.workspaces[r["workspace_id"]]["archived"]
            ]
        if not self.is_admin(caller):
            records = [r for r in records if r["user_id"] == caller["id"]]
        if "approved" in query:  # always processed as true, whatever the value
            records = [r for r in records if self.store.entry_approved(r)]
        if "billable" in query:
            records = [r for r in records if r["billable"] == (query["billable"] == "true")]
        if "invoiced" in query:
            records = [r for r in records if r["is_invoiced"]]
        if "uninvoiced" in query:
            records = [r for r in records if not r["is_invoiced"]]
        if "with_user_ids" in query:
            wanted = _ids(query["with_user_ids"])
            records = [r for r in records if r["user_id"] in wanted]
        if "date_performed_between" in query:
            start, _, end = query["date_performed_between"].partition(":")
            if start:
                records = [
                    r
                    for r in records
                    if r["date_performed"] >= _day(start, "date_performed_between")
                ]
            if end:
                records = [
                    r for r in records if r["date_performed"] <= _day(end, "date_performed_between")
                ]
        records = self._filters(request, "time_entries", records, references="TimeEntry")
        return self.envelope(request, "time_entries", records)

    def _entry_values(self, values, entry=None) -> dict:
        out = {}
        if "workspace_id" in values:
            out["workspace_id"] = self._record("workspaces", values["workspace_id"])["id"]
        if "story_id" in values:
            out["story_id"] = (
                self._record("stories", values["story_id"])["id"] if values["story_id"] else None
            )
        if "date_performed" in values:
            out["date_performed"] = _day(values["date_performed"], "date_performed")
        if "time_in_minutes" in values:
            minutes = values["time_in_minutes"]
            if not isinstance(minutes, int) or minutes <= 0:
                raise _error(422, "Time in minutes must be greater than 0", field="time_in_minutes")
            out["time_in_minutes"] = minutes
        for name in ("billable", "notes", "rate_in_cents", "taxable"):
            if name in values:
                out[name] = values[name]
        return out

    def _create_time_entry(self, request, caller):
        values = self._body(request, "time_entry")
        for name in ("workspace_id", "date_performed", "time_in_minutes"):
            if values.get(name) in (None, ""):
                raise _error(
                    422, f"{name.replace('_', ' ').capitalize()} can't be blank", field=name
                )
        fields = self._entry_values(values)
        user_id = int(values.get("user_id") or caller["id"])
        if user_id != caller["id"] and not self.is_admin(caller):
            user_id = caller["id"]  # ignored unless the caller may log for others (documented)
        entry = self.add_time_entry(
            user_id,
            fields.pop("workspace_id"),
            fields.pop("date_performed"),
            fields.pop("time_in_minutes"),
            **fields,
        )
        if values.get("external_reference"):
            self._save_reference("TimeEntry", entry["id"], values["external_reference"])
        return self.single(request, "time_entries", entry)

    def _check_editable(self, entry, caller, action):
        if entry["is_invoiced"]:
            raise _error(
                422, f"This time entry has been invoiced and cannot be {action}.", field="base"
            )
        if self.store.entry_approved(entry) and not self.is_admin(caller):
            raise _error(
                403,
                f"Only Account Administrators can {action[:-1]} approved time.",
                "authorization",
            )

    def _update_time_entry(self, request, caller, entry_id):
        entry = self._record("time_entries", entry_id)
        values = self._body(request, "time_entry")
        fields = self._entry_values(values, entry)
        if fields:
            self._check_editable(entry, caller, "edited")
            self.store.update("time_entries", entry, **fields)
        if values.get("external_reference"):
            self._save_reference("TimeEntry", entry["id"], values["external_reference"])
        return self.single(request, "time_entries", entry)

    def _delete_time_entry(self, request, caller, entry_id):
        entry = self._record("time_entries", entry_id)
        self._check_editable(entry, caller, "deleted")
        self.store.delete("time_entries", entry)
        return 204, None

    # Expenses, milestones ------------------------------------------------------------------------

    def _expense_approved(self, expense) -> bool:
        workspace = self.store.workspaces[expense["workspace_id"]]
        if not workspace["require_expense_approvals"]:
            return True
        submission = self.store.submission_of(expense, "expense_report_submissions")
        return bool(submission and submission["status"] == "approved")

    def _list_expenses(self, request, caller):
        query = request.query
        records = list(self.store.expenses.values())
        if not self.is_admin(caller):
            records = [r for r in records if r["user_id"] == caller["id"]]
        if "approved" in query:
            records = [r for r in records if self._expense_approved(r)]
        if "date_expensed_between" in query:
            start, _, end = query["date_expensed_between"].partition(":")
            if start:
                records = [r for r in records if r["date"] >= _day(start, "date_expensed_between")]
            if end:
                records = [r for r in records if r["date"] <= _day(end, "date_expensed_between")]
        records = self._filters(request, "expenses", records, references="Expense")
        return self.envelope(request, "expenses", records)

    def _list_billing_milestones(self, request, caller):
        records = list(self.store.billing_milestones.values())
        if "story_ids" in request.query:
            wanted = _ids(request.query["story_ids"])
            records = [r for r in records if r["story_id"] in wanted]
        records = self._filters(request, "billing_milestones", records)
        return self.envelope(request, "billing_milestones", records)

    def _receipt(self, request, receipt_id):
        content, content_type = self.store.receipt_bytes.get(int(receipt_id), (None, None))
        if content is None:
            raise _error(404, "Not Found", "system")
        return 200, {"Content-Type": content_type}, content

    # Timesheet submissions ---------------------------------------------------------------------------

    def _create_submission(self, request, caller):
        values = self._body(request, "timesheet_submission")
        entry_ids = [int(i) for i in values.get("time_entry_ids") or []]
        if not entry_ids:
            raise _error(422, "A timesheet submission needs time entries", field="time_entry_ids")
        submission = self.submit_time(entry_ids, comment=values.get("comment") or "")
        return self.single(
            request, "timesheet_submissions", self.store.timesheet_submissions[submission]
        )

    def _resolve(self, status):
        def handler(request, caller):
            values = self._body(request, "resolution")
            ids = [int(i) for i in values.get("submission_ids") or []]
            if status == "approved":
                self.require_admin(caller, "approve timesheets")
            for submission_id in ids:
                self._record("timesheet_submissions", submission_id)
            self.resolve_submissions(ids, status, values.get("description") or "")
            resolutions = [
                self.store.add(
                    "resolutions",
                    target_id=i,
                    target_type="TimesheetSubmission",
                    resolution_type={
                        "approved": "approval",
                        "rejected": "rejection",
                        "cancelled": "cancellation",
                    }[status],
                    description=values.get("description") or "",
                )
                for i in ids
            ]
            return self.envelope(request, "resolutions", resolutions, paged=False)

        return handler

    # Subscribed events -----------------------------------------------------------------------------

    def _list_events(self, request, caller):
        self.require_admin(caller, "access Subscribed Events")
        query = request.query
        records = self.store.live_events()
        if "event_types" in query:
            wanted = set(query["event_types"].split(","))
            records = [e for e in records if e["event_type"] in wanted]
        if "subject_type" in query:
            records = [e for e in records if e["subject_type"] == query["subject_type"]]
        if "subject_id" in query:
            wanted = _ids(query["subject_id"])
            records = [e for e in records if e["subject_id"] in wanted]
        records = self._filters(request, "subscribed_events", records)
        if query.get("most_recent") == "true":
            latest = {}
            for event in sorted(records, key=lambda e: (e["created_at"], e["id"])):
                latest[(event["subject_type"], event["subject_id"])] = event
            records = self._order(request, "subscribed_events", list(latest.values()))
        status, body = self.envelope(request, "subscribed_events", records)
        optional = set(query.get("optional_fields", "").split(","))
        for event in body["subscribed_events"].values():
            record = self.store.subscribed_events[int(event["id"])]
            for name in ("previous_payload", "current_payload"):
                event[name] = json.dumps(event[name]) if name in optional and event[name] else None
            if "subject" in self._includes(request):
                collection = self.SUBJECTS.get(record["subject_type"])
                alive = collection and record["subject_id"] in getattr(self.store, collection, {})
                event["subject_ref"] = (
                    {"key": collection, "id": str(record["subject_id"])} if alive else None
                )
        return status, body
