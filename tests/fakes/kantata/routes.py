"""The Kantata OX API routes of the fake (a mixin of :class:`FakeKantata`).

Handlers take ``(request, caller, *path ids)`` and answer ``(status, body)``. Filters, orders and
bodies follow the Kantata OpenAPI contract (``GET /time_entries`` filters ``updated_after``,
``date_performed_between``, ``approved``, ``workspace_id``...; writes wrap the object in its
singular key, ``{"time_entry": {...}}``; updates are PUT; deletes answer 204).
"""

import json

from .params import EXTERNAL_REF_FIELDS, ID, ORDERS, _day, _ids, _moment
from .params import error as _error


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
        for name, op in (
            ("updated_after", "gt"),
            ("updated_before", "lt"),
            ("created_after", "gt"),
            ("created_before", "lt"),
        ):
            if name in query:
                moment = _moment(query[name], name)
                field = name.split("_")[0] + "_at"
                records = [
                    r for r in records if (r[field] > moment if op == "gt" else r[field] < moment)
                ]
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
        refs = [
            r for r in self.store.external_references.values() if r["subject_type"] == subject_type
        ]
        if "external_reference_service_name" in query:
            refs = [
                r for r in refs if r["service_name"] == query["external_reference_service_name"]
            ]
        wanted_refs = None
        if "external_reference_service_model_refs" in query:
            wanted_refs = set(query["external_reference_service_model_refs"].split(","))
        elif "external_reference_service_model_ref" in query:
            wanted_refs = {query["external_reference_service_model_ref"]}
        if wanted_refs is not None:
            refs = [r for r in refs if r["service_model_ref"] in wanted_refs]
        if "external_reference_service_model" in query:
            refs = [
                r for r in refs if r["service_model"] == query["external_reference_service_model"]
            ]
        filtering = any(name.startswith("external_reference_") for name in query)
        if filtering:
            subjects = {r["subject_id"] for r in refs}
            records = [r for r in records if r["id"] in subjects]
        if "without_external_reference_service_name" in query:
            name = query["without_external_reference_service_name"]
            marked = {
                r["subject_id"]
                for r in self.store.external_references.values()
                if r["subject_type"] == subject_type and r["service_name"] == name
            }
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
            return self.envelope(
                request, collection, self._filters(request, collection, records, references)
            )

        return handler

    def _save_reference(self, subject_type, subject_id, values) -> dict:
        missing = [
            n for n in ("service_name", "service_model", "service_model_ref") if not values.get(n)
        ]
        if missing:
            raise _error(422, f"{missing[0]} can't be blank", field=missing[0])
        existing = next(
            (
                r
                for r in self.store.external_references.values()
                if (r["subject_type"], r["subject_id"], r["service_name"])
                == (subject_type, subject_id, values["service_name"])
            ),
            None,
        )
        fields = {n: values[n] for n in EXTERNAL_REF_FIELDS if n in values}
        fields["service_model_ref"] = str(fields["service_model_ref"])
        fields["last_synced_at"] = self.now()
        if existing:
            return self.store.update("external_references", existing, **fields)
        defaults = {
            "status": "successful",
            "locked": False,
            "external_message": None,
            "external_link": None,
            "external_status": None,
        }
        return self.store.add(
            "external_references",
            subject_type=subject_type,
            subject_id=subject_id,
            **{**defaults, **fields},
        )

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
            existing = next(
                (
                    r
                    for r in self.store.cost_rates.values()
                    if r["account_membership_id"] == membership["id"]
                    and r["currency"] == item["currency"]
                ),
                None,
            )
            amount = int(item["amount_in_subunits"])
            if existing:  # same membership and currency: the rate is overridden
                saved.append(self.store.update("cost_rates", existing, amount_in_subunits=amount))
            else:
                saved.append(
                    self.store.add(
                        "cost_rates",
                        account_membership_id=membership["id"],
                        currency=item["currency"],
                        amount_in_subunits=amount,
                        in_use=True,
                    )
                )
        return self.envelope(request, "cost_rates", saved, paged=False)

    # Workspaces, stories, participations ---------------------------------------------------------

    def _workspace_values(self, values, creating) -> dict:
        if creating and not values.get("title"):
            raise _error(422, "Title can't be blank", field="title")
        if creating and values.get("creator_role") not in ("maven", "buyer"):
            raise _error(422, "creator_role must be maven or buyer", field="creator_role")
        out = {
            n: values[n]
            for n in (
                "title",
                "description",
                "budgeted",
                "currency",
                "archived",
                "require_time_approvals",
                "require_expense_approvals",
            )
            if n in values
        }
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
            "workspaces",
            **{
                "title": "",
                "description": "",
                "account_id": self.store.account_id,
                "archived": False,
                "budgeted": False,
                "price_in_cents": None,
                "currency": "USD",
                "start_date": None,
                "due_date": None,
                "require_time_approvals": True,
                "require_expense_approvals": True,
                **fields,
            },
        )
        self.store.add(
            "participations",
            workspace_id=workspace["id"],
            user_id=caller["id"],
            role=values["creator_role"],
        )
        if values.get("external_reference"):
            self._save_reference("Workspace", workspace["id"], values["external_reference"])
        return self.single(request, "workspaces", workspace)

    def _update(self, collection, key):
        subject_type = {"workspaces": "Workspace", "stories": "Story"}[collection]

        def handler(request, caller, record_id):
            record = self._record(collection, record_id)
            values = self._body(request, key)
            fields = (
                self._workspace_values(values, False)
                if collection == "workspaces"
                else self._story_values(values, False)
            )
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
        out = {
            n: values[n]
            for n in ("title", "story_type", "state", "billable", "description")
            if n in values
        }
        for name in ("start_date", "due_date"):
            if name in values:
                out[name] = _day(values[name], name) if values[name] else None
        return out

    def _create_story(self, request, caller):
        values = self._body(request, "story")
        if not values.get("workspace_id"):
            raise _error(422, "Workspace can't be blank", field="workspace_id")
        workspace = self._record("workspaces", values["workspace_id"])
        story = self.store.add(
            "stories",
            **{
                "workspace_id": workspace["id"],
                "title": "",
                "story_type": "task",
                "state": "not started",
                "billable": True,
                "start_date": None,
                "due_date": None,
                "parent_id": None,
                "description": "",
                **self._story_values(values, creating=True),
            },
        )
        if values.get("external_reference"):
            self._save_reference("Story", story["id"], values["external_reference"])
        return self.single(request, "stories", story)

    def _create_participation(self, request, caller):
        values = self._body(request, "participation")
        workspace = self._record("workspaces", values.get("workspace_id") or 0)
        user = self._record("users", values.get("user_id") or 0)
        if any(
            p["workspace_id"] == workspace["id"] and p["user_id"] == user["id"]
            for p in self.store.participations.values()
        ):
            raise _error(422, "User is already participating in this project", field="user_id")
        role = values.get("role") or "maven"
        participation = self.store.add(
            "participations", workspace_id=workspace["id"], user_id=user["id"], role=role
        )
        return self.single(request, "participations", participation)

    # External references ---------------------------------------------------------------------------

    def _list_references(self, request, caller):
        query = request.query
        if not query.get("subject_type"):
            raise _error(400, "subject_type is required", "system", "subject_type")
        records = [
            r
            for r in self.store.external_references.values()
            if r["subject_type"] == query["subject_type"]
        ]
        for name in ("service_name", "service_model", "service_model_ref", "status"):
            if name in query:
                records = [r for r in records if str(r[name]) == query[name]]
        if "subject_id" in query:
            wanted = _ids(query["subject_id"])
            records = [r for r in records if r["subject_id"] in wanted]
        records = self._filters(request, "external_references", records)
        return self.envelope(request, "external_references", records)

    SUBJECTS = {
        "TimeEntry": "time_entries",
        "Expense": "expenses",
        "Workspace": "workspaces",
        "Story": "stories",
        "User": "users",
        "BillingMilestone": "billing_milestones",
        "Participation": "participations",
    }

    def _upsert_reference(self, request, caller):
        values = self._body(request, "external_reference")
        subject_type = values.get("subject_type")
        if subject_type not in self.SUBJECTS:
            raise _error(422, "subject_type is not supported", field="subject_type")
        subject = self._record(self.SUBJECTS[subject_type], values.get("subject_id") or 0)
        reference = self._save_reference(subject_type, subject["id"], values)
        return self.single(request, "external_references", reference)
