"""The Kantata OX API routes of the fake (a mixin of :class:`FakeKantata`).

Handlers take ``(request, caller, *path ids)`` and answer ``(status, body)``. Filters, orders and
bodies follow the Kantata OpenAPI contract (``GET /time_entries`` filters ``updated_after``,
``date_performed_between``, ``approved``, ``workspace_id``...; writes wrap the object in its
singular key, ``{"time_entry": {...}}``; updates are PUT; deletes answer 204).
"""

import json
from datetime import UTC, date, datetime

ID = r"(\d+)"
ORDERS = {
    "time_entries": ("date_performed", "desc"),
    "expenses": ("date", "desc"),
    "subscribed_events": ("created_at", "desc"),
    "cost_rates": ("created_at", "asc"),
    "billing_milestones": ("created_at", "desc"),
    "external_references": ("last_synced_at", "desc"),
}
EXTERNAL_REF_FIELDS = ("service_name", "service_model", "service_model_ref", "status",
                       "external_message", "external_link", "external_status", "locked")


def _error(status, message, kind="validation", field=None):
    from .fake import KantataError  # noqa: PLC0415 - circular: fake imports this mixin

    return KantataError(status, message, kind, field)


def _moment(value, name):
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _error(400, f"{name} must be an ISO 8601 datetime", "system", name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value, name):
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _error(422, f"{name} must be a date in YYYY-MM-DD format", field=name) from None


def _ids(value) -> set[int]:
    try:
        return {int(part) for part in str(value).split(",") if part.strip()}
    except ValueError:
        raise _error(400, f"expected comma-separated ids, got {value!r}", "system") from None


class ApiRoutes:
    """Users, cost rates, workspaces, stories, time, expenses, references, submissions, events."""

    def route_table(self):
        api = [
            ("GET", "/users/me", self._me),
            ("GET", "/users", self._list_users),
            ("GET", "/account_memberships", self._list("account_memberships")),
            ("GET", "/cost_rates", self._list_cost_rates),
            ("POST", "/cost_rates", self._create_cost_rates),
            ("GET", "/workspaces", self._list("workspaces", references="Workspace")),
            ("POST", "/workspaces", self._create_workspace),
            ("GET", f"/workspaces/{ID}", self._get("workspaces")),
            ("PUT", f"/workspaces/{ID}", self._update("workspaces", "workspace")),
            ("GET", "/stories", self._list("stories", references="Story")),
            ("POST", "/stories", self._create_story),
            ("PUT", f"/stories/{ID}", self._update("stories", "story")),
            ("GET", "/participations", self._list("participations")),
            ("POST", "/participations", self._create_participation),
            ("GET", "/time_entries", self._list_time_entries),
            ("POST", "/time_entries", self._create_time_entry),
            ("GET", f"/time_entries/{ID}", self._get("time_entries")),
            ("PUT", f"/time_entries/{ID}", self._update_time_entry),
            ("DELETE", f"/time_entries/{ID}", self._delete_time_entry),
            ("GET", "/expenses", self._list_expenses),
            ("GET", f"/expenses/{ID}", self._get("expenses")),
            ("GET", "/expense_categories", self._list("expense_categories")),
            ("GET", "/billing_milestones", self._list_billing_milestones),
            ("GET", "/external_references", self._list_references),
            ("POST", "/external_references/create_or_update", self._upsert_reference),
            ("GET", "/timesheet_submissions", self._list("timesheet_submissions")),
            ("POST", "/timesheet_submissions", self._create_submission),
            ("POST", "/timesheet_approvals", self._resolve("approved")),
            ("POST", "/timesheet_rejections", self._resolve("rejected")),
            ("POST", "/timesheet_cancellations", self._resolve("cancelled")),
            ("GET", "/subscribed_events", self._list_events),
        ]
        plain = [("GET", rf"/receipts/{ID}", self._receipt), *self.oauth_routes()]
        return [(m, p, h, "api") for m, p, h in api] + [(m, p, h, "plain") for m, p, h in plain]

    # Shared ----------------------------------------------------------------------------------

    def _record(self, collection, record_id):
        record = getattr(self.store, collection).get(int(record_id))
        if record is None:
            raise _error(404, "Not Found", "system")
        return record

    @staticmethod
    def _body(request, key) -> dict:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise _error(400, "The request body is not valid JSON", "system") from None
        if not isinstance(body, dict) or not isinstance(body.get(key, {}), dict):
            raise _error(400, f"Expected a JSON object under {key!r}", "system", key)
        return body.get(key) or {}

    def _get(self, collection):
        def handler(request, caller, record_id):
            return self.single(request, collection, self._record(collection, record_id))

        return handler

    def _filters(self, request, collection, records, references=None):
        query = request.query
        if "only" in query:
            wanted = _ids(query["only"])
            records = [r for r in records if r["id"] in wanted]
        for name, op in (("updated_after", "gt"), ("updated_before", "lt"),
                         ("created_after", "gt"), ("created_before", "lt")):
            if name in query:
                moment = _moment(query[name], name)
                field = name.split("_")[0] + "_at"
                records = [r for r in records
                           if (r[field] > moment if op == "gt" else r[field] < moment)]
        for name in ("workspace_id", "user_id", "story_id"):
            if name in query and (collection != "users" or name != "user_id"):
                wanted = _ids(query[name])
                records = [r for r in records if r.get(name) in wanted]
        if "workspace_ids" in query:
            wanted = _ids(query["workspace_ids"])
            records = [r for r in records if r.get("workspace_id") in wanted]
        if references:
            records = self._reference_filters(request, references, records)
        return self._order(request, collection, records)

    def _reference_filters(self, request, subject_type, records):
        query = request.query
        refs = [r for r in self.store.external_references.values()
                if r["subject_type"] == subject_type]
        if "external_reference_service_name" in query:
            refs = [r for r in refs if r["service_name"] == query["external_reference_service_name"]]
        wanted_refs = None
        if "external_reference_service_model_refs" in query:
            wanted_refs = set(query["external_reference_service_model_refs"].split(","))
        elif "external_reference_service_model_ref" in query:
            wanted_refs = {query["external_reference_service_model_ref"]}
        if wanted_refs is not None:
            refs = [r for r in refs if r["service_model_ref"] in wanted_refs]
        if "external_reference_service_model" in query:
            refs = [r for r in refs if r["service_model"] == query["external_reference_service_model"]]
        filtering = any(name.startswith("external_reference_") for name in query)
        if filtering:
            subjects = {r["subject_id"] for r in refs}
            records = [r for r in records if r["id"] in subjects]
        if "without_external_reference_service_name" in query:
            name = query["without_external_reference_service_name"]
            marked = {r["subject_id"] for r in self.store.external_references.values()
                      if r["subject_type"] == subject_type and r["service_name"] == name}
            records = [r for r in records if r["id"] not in marked]
        return records

    @staticmethod
    def _order(request, collection, records):
        field, direction = ORDERS.get(collection, ("id", "asc"))
        if "order" in request.query:
            field, _, direction = request.query["order"].partition(":")
            direction = direction or "asc"
            if direction not in ("asc", "desc") or (records and field not in records[0]):
                raise _error(400, f"Invalid order {request.query['order']!r}", "system", "order")

        def key(record):
            value = record[field]
            return (value is None, value if value is not None else 0, record["id"])

        return sorted(records, key=key, reverse=direction == "desc")

    def _list(self, collection, references=None):
        def handler(request, caller):
            records = list(getattr(self.store, collection).values())
            return self.envelope(request, collection,
                                 self._filters(request, collection, records, references))

        return handler

    def _save_reference(self, subject_type, subject_id, values) -> dict:
        missing = [n for n in ("service_name", "service_model", "service_model_ref") if not values.get(n)]
        if missing:
            raise _error(422, f"{missing[0]} can't be blank", field=missing[0])
        existing = next((r for r in self.store.external_references.values()
                         if (r["subject_type"], r["subject_id"], r["service_name"])
                         == (subject_type, subject_id, values["service_name"])), None)
        fields = {n: values[n] for n in EXTERNAL_REF_FIELDS if n in values}
        fields["service_model_ref"] = str(fields["service_model_ref"])
        fields["last_synced_at"] = self.now()
        if existing:
            return self.store.update("external_references", existing, **fields)
        return self.store.add("external_references", subject_type=subject_type,
                              subject_id=subject_id, status="successful", locked=False,
                              external_message=None, external_link=None, external_status=None,
                              **fields)

    # Users, memberships, cost rates ----------------------------------------------------------

    def _me(self, request, caller):
        return self.single(request, "users", caller)

    def _list_users(self, request, caller):
        records = list(self.store.users.values())
        query = request.query
        if "on_my_account" not in query:  # users participating in projects (with the caller)
            participants = {p["user_id"] for p in self.store.participations.values()}
            records = [u for u in records if u["id"] in participants or u is caller]
        if "by_email_address" in query:
            wanted = query["by_email_address"].strip().lower()
            records = [u for u in records if u["email_address"].lower() == wanted]
        records = self._filters(request, "users", records)
        return self.envelope(request, "users", sorted(records, key=lambda u: u["full_name"]))

    def _list_cost_rates(self, request, caller):
        self.require_admin(caller, "see cost rates")
        records = self._filters(request, "cost_rates", list(self.store.cost_rates.values()))
        return self.envelope(request, "cost_rates", records)

    def _create_cost_rates(self, request, caller):
        self.require_admin(caller, "set cost rates")
        body = json.loads(request.body or b"{}")
        items = body.get("cost_rates") or [body.get("cost_rate") or {}]
        saved = []
        for item in items[:100]:
            for name in ("account_membership_id", "currency", "amount_in_subunits"):
                if item.get(name) in (None, ""):
                    raise _error(422, f"{name} can't be blank", field=name)
            membership = self._record("account_memberships", item["account_membership_id"])
            existing = next((r for r in self.store.cost_rates.values()
                             if r["account_membership_id"] == membership["id"]
                             and r["currency"] == item["currency"]), None)
            amount = int(item["amount_in_subunits"])
            if existing:  # same membership and currency: the rate is overridden
                saved.append(self.store.update("cost_rates", existing, amount_in_subunits=amount))
            else:
                saved.append(self.store.add("cost_rates", account_membership_id=membership["id"],
                                            currency=item["currency"], amount_in_subunits=amount,
                                            in_use=True))
        return self.envelope(request, "cost_rates", saved, paged=False)

    # Workspaces, stories, participations ---------------------------------------------------------

    def _workspace_values(self, values, creating) -> dict:
        if creating and not values.get("title"):
            raise _error(422, "Title can't be blank", field="title")
        if creating and values.get("creator_role") not in ("maven", "buyer"):
            raise _error(422, "creator_role must be maven or buyer", field="creator_role")
        out = {n: values[n] for n in ("title", "description", "budgeted", "currency", "archived",
                                      "require_time_approvals", "require_expense_approvals")
               if n in values}
        if "price_in_cents" in values:
            out["price_in_cents"] = int(values["price_in_cents"])
        for name in ("start_date", "due_date"):
            if name in values:
                out[name] = _day(values[name], name) if values[name] else None
        return out

    def _create_workspace(self, request, caller):
        values = self._body(request, "workspace")
        fields = self._workspace_values(values, creating=True)
        workspace = self.store.add(
            "workspaces", **{
                "title": "", "description": "", "account_id": self.store.account_id,
                "archived": False, "budgeted": False, "price_in_cents": None, "currency": "USD",
                "start_date": None, "due_date": None, "require_time_approvals": True,
                "require_expense_approvals": True, **fields,
            }
        )
        self.store.add("participations", workspace_id=workspace["id"], user_id=caller["id"],
                       role=values["creator_role"])
        if values.get("external_reference"):
            self._save_reference("Workspace", workspace["id"], values["external_reference"])
        return self.single(request, "workspaces", workspace)

    def _update(self, collection, key):
        subject_type = {"workspaces": "Workspace", "stories": "Story"}[collection]

        def handler(request, caller, record_id):
            record = self._record(collection, record_id)
            values = self._body(request, key)
            fields = (self._workspace_values(values, False) if collection == "workspaces"
                      else self._story_values(values, False))
            self.store.update(collection, record, **fields)
            if values.get("external_reference"):
                self._save_reference(subject_type, record["id"], values["external_reference"])
            return self.single(request, collection, record)

        return handler

    def _story_values(self, values, creating) -> dict:
        if creating and not values.get("title"):
            raise _error(422, "Title can't be blank", field="title")
        if values.get("story_type", "task") not in ("task", "deliverable", "milestone", "issue"):
            raise _error(422, "Story type is not included in the list", field="story_type")
        out = {n: values[n] for n in ("title", "story_type", "state", "billable", "description")
               if n in values}
        for name in ("start_date", "due_date"):
            if name in values:
                out[name] = _day(values[name], name) if values[name] else None
        return out

    def _create_story(self, request, caller):
        values = self._body(request, "story")
        if not values.get("workspace_id"):
            raise _error(422, "Workspace can't be blank", field="workspace_id")
        workspace = self._record("workspaces", values["workspace_id"])
        story = self.store.add("stories", **{
            "workspace_id": workspace["id"], "title": "", "story_type": "task",
            "state": "not started", "billable": True, "start_date": None, "due_date": None,
            "parent_id": None, "description": "", **self._story_values(values, creating=True),
        })
        if values.get("external_reference"):
            self._save_reference("Story", story["id"], values["external_reference"])
        return self.single(request, "stories", story)

    def _create_participation(self, request, caller):
        values = self._body(request, "participation")
        workspace = self._record("workspaces", values.get("workspace_id") or 0)
        user = self._record("users", values.get("user_id") or 0)
        if any(p["workspace_id"] == workspace["id"] and p["user_id"] == user["id"]
               for p in self.store.participations.values()):
            raise _error(422, "User is already participating in this project", field="user_id")
        role = values.get("role") or "maven"
        participation = self.store.add("participations", workspace_id=workspace["id"],
                                       user_id=user["id"], role=role)
        return self.single(request, "participations", participation)

    # Time entries --------------------------------------------------------------------------------

    def _list_time_entries(self, request, caller):
        query = request.query
        records = list(self.store.time_entries.values())
        if query.get("from_archived_workspaces") != "true":
            records = [r for r in records if not self.store.workspaces[r["workspace_id"]]["archived"]]
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
                records = [r for r in records if r["date_performed"] >= _day(start, "date_performed_between")]
            if end:
                records = [r for r in records if r["date_performed"] <= _day(end, "date_performed_between")]
        records = self._filters(request, "time_entries", records, references="TimeEntry")
        return self.envelope(request, "time_entries", records)

    def _entry_values(self, values, entry=None) -> dict:
        out = {}
        if "workspace_id" in values:
            out["workspace_id"] = self._record("workspaces", values["workspace_id"])["id"]
        if "story_id" in values:
            out["story_id"] = self._record("stories", values["story_id"])["id"] if values["story_id"] else None
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
                raise _error(422, f"{name.replace('_', ' ').capitalize()} can't be blank", field=name)
        fields = self._entry_values(values)
        user_id = int(values.get("user_id") or caller["id"])
        if user_id != caller["id"] and not self.is_admin(caller):
            user_id = caller["id"]  # ignored unless the caller may log for others (documented)
        entry = self.add_time_entry(user_id, fields.pop("workspace_id"), fields.pop("date_performed"),
                                    fields.pop("time_in_minutes"), **fields)
        if values.get("external_reference"):
            self._save_reference("TimeEntry", entry["id"], values["external_reference"])
        return self.single(request, "time_entries", entry)

    def _check_editable(self, entry, caller, action):
        if entry["is_invoiced"]:
            raise _error(422, f"This time entry has been invoiced and cannot be {action}.",
                         field="base")
        if self.store.entry_approved(entry) and not self.is_admin(caller):
            raise _error(403, f"Only Account Administrators can {action[:-1]} approved time.",
                         "authorization")

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

    # External references ---------------------------------------------------------------------------

    def _list_references(self, request, caller):
        query = request.query
        if not query.get("subject_type"):
            raise _error(400, "subject_type is required", "system", "subject_type")
        records = [r for r in self.store.external_references.values()
                   if r["subject_type"] == query["subject_type"]]
        for name in ("service_name", "service_model", "service_model_ref", "status"):
            if name in query:
                records = [r for r in records if str(r[name]) == query[name]]
        if "subject_id" in query:
            wanted = _ids(query["subject_id"])
            records = [r for r in records if r["subject_id"] in wanted]
        records = self._filters(request, "external_references", records)
        return self.envelope(request, "external_references", records)

    SUBJECTS = {"TimeEntry": "time_entries", "Expense": "expenses", "Workspace": "workspaces",
                "Story": "stories", "User": "users", "BillingMilestone": "billing_milestones",
                "Participation": "participations"}

    def _upsert_reference(self, request, caller):
        values = self._body(request, "external_reference")
        subject_type = values.get("subject_type")
        if subject_type not in self.SUBJECTS:
            raise _error(422, "subject_type is not supported", field="subject_type")
        subject = self._record(self.SUBJECTS[subject_type], values.get("subject_id") or 0)
        reference = self._save_reference(subject_type, subject["id"], values)
        return self.single(request, "external_references", reference)

    # Timesheet submissions ---------------------------------------------------------------------------

    def _create_submission(self, request, caller):
        values = self._body(request, "timesheet_submission")
        entry_ids = [int(i) for i in values.get("time_entry_ids") or []]
        if not entry_ids:
            raise _error(422, "A timesheet submission needs time entries", field="time_entry_ids")
        submission = self.submit_time(entry_ids, comment=values.get("comment") or "")
        return self.single(request, "timesheet_submissions", self.store.timesheet_submissions[submission])

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
                self.store.add("resolutions", target_id=i, target_type="TimesheetSubmission",
                               resolution_type={"approved": "approval", "rejected": "rejection",
                                                "cancelled": "cancellation"}[status],
                               description=values.get("description") or "")
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
