"""The Harvest API v2 routes of the fake (a mixin of :class:`FakeHarvest`).

Handlers take ``(request, caller, *path ids)`` and answer ``(status, headers, body)``; they raise
``HarvestError`` for error answers. Filters are those the Harvest docs list per endpoint; lists
are sorted as documented (time entries and expenses by spent date, newest first; most objects by
creation, newest first; rates by start date) and paged by ``FakeHarvest.paginate``.
"""

from .params import (
    BILL_BY,
    BUDGET_BY,
    ID,
    _body,
    _date,
    _datetime,
    _decimal,
    _flag,
    _int,
    _newest_first,
    _require,
)
from .params import error as _error


class ApiRoutes:
    """Harvest API v2 endpoints (clients, projects, tasks, assignments, users, time, expenses)."""

    def route_table(self):
        api = [
            ("GET", r"/v2/users/me", self._me),
            ("GET", r"/v2/company", self._company),
            ("GET", r"/v2/clients", self._list_clients),
            ("POST", r"/v2/clients", self._create_client),
            ("GET", rf"/v2/clients/{ID}", self._get("clients", "client_json")),
            ("PATCH", rf"/v2/clients/{ID}", self._update_client),
            ("GET", r"/v2/projects", self._list_projects),
            ("POST", r"/v2/projects", self._create_project),
            ("GET", rf"/v2/projects/{ID}", self._get("projects", "project_json")),
            ("PATCH", rf"/v2/projects/{ID}", self._update_project),
            ("GET", r"/v2/tasks", self._list_simple("tasks", "task_json")),
            ("POST", r"/v2/tasks", self._create_task),
            ("GET", rf"/v2/tasks/{ID}", self._get("tasks", "task_json")),
            ("PATCH", rf"/v2/tasks/{ID}", self._update_task),
            ("GET", r"/v2/task_assignments", self._list_assignments("task")),
            ("GET", rf"/v2/projects/{ID}/task_assignments", self._list_assignments("task")),
            ("POST", rf"/v2/projects/{ID}/task_assignments", self._create_task_assignment),
            ("PATCH", rf"/v2/projects/{ID}/task_assignments/{ID}", self._update_assignment("task")),
            ("GET", r"/v2/user_assignments", self._list_assignments("user")),
            ("GET", rf"/v2/projects/{ID}/user_assignments", self._list_assignments("user")),
            ("POST", rf"/v2/projects/{ID}/user_assignments", self._create_user_assignment),
            ("PATCH", rf"/v2/projects/{ID}/user_assignments/{ID}", self._update_assignment("user")),
            ("GET", r"/v2/users", self._list_users),
            ("GET", rf"/v2/users/{ID}", self._get_user),
            ("GET", rf"/v2/users/{ID}/cost_rates", self._list_rates("cost")),
            ("POST", rf"/v2/users/{ID}/cost_rates", self._create_rate("cost")),
            ("GET", rf"/v2/users/{ID}/billable_rates", self._list_rates("billable")),
            ("POST", rf"/v2/users/{ID}/billable_rates", self._create_rate("billable")),
            ("GET", r"/v2/expense_categories", self._list_categories),
            ("GET", r"/v2/time_entries", self._list_time_entries),
            ("POST", r"/v2/time_entries", self._create_time_entry),
            ("GET", rf"/v2/time_entries/{ID}", self._get_time_entry),
            ("PATCH", rf"/v2/time_entries/{ID}", self._update_time_entry),
            ("DELETE", rf"/v2/time_entries/{ID}", self._delete_time_entry),
            ("DELETE", rf"/v2/time_entries/{ID}/external_reference", self._delete_reference),
            ("GET", r"/v2/expenses", self._list_expenses),
            ("GET", rf"/v2/expenses/{ID}", self._get_expense),
            ("DELETE", rf"/v2/expenses/{ID}", self._delete_expense),
            ("GET", rf"/expenses/{ID}/receipt", self._receipt),
        ]
        oauth = [(method, path, handler, "plain") for method, path, handler in self.oauth_routes()]
        return [(method, path, handler, "api") for method, path, handler in api] + oauth

    # Shared ----------------------------------------------------------------------------------

    def _record(self, kind, record_id):
        record = getattr(self.store, kind).get(int(record_id))
        if record is None:
            raise _error(404, "Not found")
        return record

    def _get(self, kind, serializer):
        def handler(request, caller, record_id):
            return 200, {}, getattr(self.store, serializer)(self._record(kind, record_id))

        return handler

    def _common_filters(self, request, records, stamp="updated_at"):
        query = request.query
        if "is_active" in query:
            wanted = _flag(query["is_active"], "is_active")
            records = [r for r in records if r["is_active"] == wanted]
        if "updated_since" in query:
            since = _datetime(query["updated_since"], "updated_since")
            records = [r for r in records if r[stamp] >= since]
        return records

    def _endpoint(self, request):
        return f"{request.method} {request.path}"

    # Account -----------------------------------------------------------------------------------

    def _me(self, request, caller):
        return 200, {}, self.store.user_json(caller)

    def _company(self, request, caller):
        self.require_admin(caller, "read the company settings")
        return (
            200,
            {},
            {
                "base_uri": "https://demo.harvestapp.com",
                "full_domain": "demo.harvestapp.com",
                "name": self.account_name,
                "is_active": True,
                "week_start_day": "Monday",
                "wants_timestamp_timers": False,
                "time_format": "decimal",
                "date_format": "%Y-%m-%d",
                "plan_type": "sponsored",
                "clock": "24h",
                "currency_code_display": "iso_code_none",
                "currency_symbol_display": "symbol_before",
                "decimal_symbol": ".",
                "thousands_separator": ",",
                "color_scheme": "orange",
                "weekly_capacity": 126000,
                "expense_feature": True,
                "invoice_feature": True,
                "estimate_feature": True,
                "approval_feature": True,
                "team_feature": True,
            },
        )

    # Clients, projects, tasks ----------------------------------------------------------------

    def _list_clients(self, request, caller):
        records = self._common_filters(request, list(self.store.clients.values()))
        return self.paginate(
            request,
            self._endpoint(request),
            "clients",
            records,
            _newest_first,
            self.store.client_json,
        )

    def _create_client(self, request, caller):
        self.require_admin(caller, "create clients")
        body = _body(request)
        _require(body, "name")
        if any(c["name"] == body["name"] for c in self.store.clients.values()):
            raise _error(422, "Name has already been taken")
        values = {k: body[k] for k in ("is_active", "address") if k in body}
        client = self.store.add_client(body["name"], body.get("currency") or "USD", **values)
        return 201, {}, self.store.client_json(client)

    def _update_client(self, request, caller, client_id):
        self.require_admin(caller, "update clients")
        client = self._record("clients", client_id)
        body = _body(request)
        if "name" in body and any(
            c["name"] == body["name"] and c is not client for c in self.store.clients.values()
        ):
            raise _error(422, "Name has already been taken")
        client.update(
            {k: body[k] for k in ("name", "is_active", "address", "currency") if k in body}
        )
        self.store.touch(client)
        return 200, {}, self.store.client_json(client)

    def _list_projects(self, request, caller):
        records = self._common_filters(request, list(self.store.projects.values()))
        if "client_id" in request.query:
            client_id = _int(request.query["client_id"], "client_id")
            records = [r for r in records if r["client_id"] == client_id]
        return self.paginate(
            request,
            self._endpoint(request),
            "projects",
            records,
            _newest_first,
            self.store.project_json,
        )

    def _project_values(self, body, project=None) -> dict:
        values = {}
        for name in (
            "name",
            "code",
            "is_active",
            "is_billable",
            "is_fixed_fee",
            "notes",
            "budget_is_monthly",
            "notify_when_over_budget",
            "show_budget_to_all",
            "cost_budget_include_expenses",
            "bill_by",
            "budget_by",
        ):
            if name in body:
                values[name] = body[name]
        for name in (
            "hourly_rate",
            "budget",
            "cost_budget",
            "fee",
            "over_budget_notification_percentage",
        ):
            if name in body:
                values[name] = _decimal(body[name], name)
        for name in ("starts_on", "ends_on"):
            if name in body:
                values[name] = _date(body[name], name) if body[name] else None
        if values.get("bill_by", BILL_BY[0]) not in BILL_BY:
            raise _error(422, f"Bill by must be one of {', '.join(BILL_BY)}")
        if values.get("budget_by", BUDGET_BY[0]) not in BUDGET_BY:
            raise _error(422, f"Budget by must be one of {', '.join(BUDGET_BY)}")
        starts = values.get("starts_on", project and project["starts_on"])
        ends = values.get("ends_on", project and project["ends_on"])
        if starts and ends and ends < starts:
            raise _error(422, "Ends on must be on or after starts on")
        return values

    def _create_project(self, request, caller):
        self.require_admin(caller, "create projects")
        body = _body(request)
        _require(body, "client_id", "name", "is_billable", "bill_by", "budget_by")
        client_id = _int(body["client_id"], "client_id")
        if client_id not in self.store.clients:
            raise _error(422, "Client can't be blank")
        if any(
            p["name"] == body["name"] and p["client_id"] == client_id
            for p in self.store.projects.values()
        ):
            raise _error(422, "Name has already been taken")
        values = self._project_values(body)
        name = values.pop("name")
        project = self.store.add_project(client_id, name, **values)
        return 201, {}, self.store.project_json(project)

    def _update_project(self, request, caller, project_id):
        self.require_admin(caller, "update projects")
        project = self._record("projects", project_id)
        body = _body(request)
        values = self._project_values(body, project)
        if "client_id" in body:
            values["client_id"] = _int(body["client_id"], "client_id")
        project.update(values)
        self.store.touch(project)
        return 200, {}, self.store.project_json(project)

    def _list_simple(self, kind, serializer):
        def handler(request, caller):
            records = self._common_filters(request, list(getattr(self.store, kind).values()))
            return self.paginate(
                request,
                self._endpoint(request),
                kind,
                records,
                _newest_first,
                getattr(self.store, serializer),
            )

        return handler

    def _task_values(self, body) -> dict:
        values = {
            k: body[k]
            for k in ("name", "billable_by_default", "is_default", "is_active")
            if k in body
        }
        if "default_hourly_rate" in body:
            values["default_hourly_rate"] = _decimal(
                body["default_hourly_rate"], "default_hourly_rate"
            )
        return values

    def _create_task(self, request, caller):
        self.require_admin(caller, "create tasks")
        body = _body(request)
        _require(body, "name")
        if any(t["name"] == body["name"] for t in self.store.tasks.values()):
            raise _error(422, "Name has already been taken")
        values = self._task_values(body)
        task = self.store.add_task(values.pop("name"), **values)
        return 201, {}, self.store.task_json(task)

    def _update_task(self, request, caller, task_id):
        self.require_admin(caller, "update tasks")
        task = self._record("tasks", task_id)
        task.update(self._task_values(_body(request)))
        self.store.touch(task)
        return 200, {}, self.store.task_json(task)

    # Assignments -------------------------------------------------------------------------------

    def _list_assignments(self, kind):
        store_name = f"{kind}_assignments"

        def handler(request, caller, project_id=None):
            records = list(getattr(self.store, store_name).values())
            if project_id is not None:
                self._record("projects", project_id)
                records = [r for r in records if r["project_id"] == int(project_id)]
            if kind == "user" and "user_id" in request.query:
                user_id = _int(request.query["user_id"], "user_id")
                records = [r for r in records if r["user_id"] == user_id]
            records = self._common_filters(request, records)
            serializer = getattr(self.store, f"{store_name[:-1]}_json")
            return self.paginate(
                request, self._endpoint(request), store_name, records, _newest_first, serializer
            )

        return handler

    def _assignment_values(self, body, kind) -> dict:
        names = (
            ("is_active", "billable")
            if kind == "task"
            else ("is_active", "is_project_manager", "use_default_rates")
        )
        values = {k: body[k] for k in names if k in body}
        for name in ("hourly_rate", "budget"):
            if name in body:
                values[name] = _decimal(body[name], name)
        return values

    def _create_task_assignment(self, request, caller, project_id):
        self.require_admin(caller, "assign tasks to projects")
        project = self._record("projects", project_id)
        body = _body(request)
        _require(body, "task_id")
        task = self._record("tasks", body["task_id"])
        if self.store.task_assignment_for(project["id"], task["id"]):
            raise _error(422, "Task has already been taken")
        assignment = self.store.add_task_assignment(
            project["id"], task["id"], **self._assignment_values(body, "task")
        )
        return 201, {}, self.store.task_assignment_json(assignment)

    def _create_user_assignment(self, request, caller, project_id):
        self.require_admin(caller, "assign people to projects")
        project = self._record("projects", project_id)
        body = _body(request)
        _require(body, "user_id")
        user = self._record("users", body["user_id"])
        if self.store.user_assignment_for(project["id"], user["id"]):
            raise _error(422, "User has already been taken")
        assignment = self.store.add_user_assignment(
            project["id"], user["id"], **self._assignment_values(body, "user")
        )
        return 201, {}, self.store.user_assignment_json(assignment)

    def _update_assignment(self, kind):
        def handler(request, caller, project_id, assignment_id):
            self.require_admin(caller, f"update {kind} assignments")
            assignment = self._record(f"{kind}_assignments", assignment_id)
            if assignment["project_id"] != int(project_id):
                raise _error(404, "Not found")
            assignment.update(self._assignment_values(_body(request), kind))
            self.store.touch(assignment)
            return 200, {}, getattr(self.store, f"{kind}_assignment_json")(assignment)

        return handler

    # Users and rates ---------------------------------------------------------------------------

    def _list_users(self, request, caller):
        self.require_admin(caller, "list users")
        records = self._common_filters(request, list(self.store.users.values()))
        return self.paginate(
            request,
            self._endpoint(request),
            "users",
            records,
            _newest_first,
            self.store.user_json,
        )

    def _get_user(self, request, caller, user_id):
        user = self._record("users", user_id)
        if user is not caller:
            self.require_admin(caller, "read other users")
        return 200, {}, self.store.user_json(user)

    def _list_rates(self, kind):
        def handler(request, caller, user_id):
            self.require_admin(caller, f"interact with /v2/users/{{USER_ID}}/{kind}_rates")
            self._record("users", user_id)
            rates = (self.store.cost_rates if kind == "cost" else self.store.billable_rates)[
                int(user_id)
            ]
            return self.paginate(
                request,
                self._endpoint(request),
                f"{kind}_rates",
                rates,
                lambda r: (r["start_date"].toordinal() if r["start_date"] else 0, r["id"]),
                lambda r: self.store.rate_json(r, rates),
            )

        return handler

    def _create_rate(self, kind):
        def handler(request, caller, user_id):
            self.require_admin(caller, f"interact with /v2/users/{{USER_ID}}/{kind}_rates")
            self._record("users", user_id)
            body = _body(request)
            _require(body, "amount")
            start = _date(body["start_date"], "start_date") if body.get("start_date") else None
            rate = self.store.add_rate(
                kind, int(user_id), _decimal(body["amount"], "amount"), start
            )
            rates = (self.store.cost_rates if kind == "cost" else self.store.billable_rates)[
                int(user_id)
            ]
            return 201, {}, self.store.rate_json(rate, rates)

        return handler

    def _list_categories(self, request, caller):
        self.require_admin(caller, "list expense categories")
        records = self._common_filters(request, list(self.store.expense_categories.values()))
        return self.paginate(
            request,
            self._endpoint(request),
            "expense_categories",
            records,
            _newest_first,
            self.store.expense_category_json,
        )
