"""Harvest provisioning: clients, projects, tasks and assignments (a HarvestClient mixin).

Harvest has no idempotency keys: every ``ensure_*`` looks up first (projects by code, clients
and tasks by name, assignments by task/user) and creates only what is missing, so a retried job
never creates a second project; a create that lost a race ("has already been taken") looks up
again. ``ensure_*_assignment`` also brings an existing assignment to the wanted values (an
amendment changes rates or budgets).
"""

from datetime import date
from decimal import Decimal

from odoo.addons.connector_base.engine.errors import BusinessError

from .harvest_mapping import (
    normalize_assignment,
    normalize_client,
    normalize_project,
    normalize_task,
)
from .records import PsaClient, PsaProject, api_datetime, to_decimal


class HarvestProvisioning:
    # Clients ----------------------------------------------------------------------------------------

    def list_clients(self, *, updated_since=None, is_active=None, resume=None):
        params = _filters(updated_since=updated_since, is_active=is_active)
        return self._pages("/v2/clients", "clients", params, resume, normalize_client)

    def get_client(self, client_id) -> PsaClient | None:
        body = self._get_or_none(f"/v2/clients/{client_id}")
        return body and normalize_client(body)

    def find_client(self, name) -> PsaClient | None:
        wanted = (name or "").strip().lower()
        for page in self.list_clients():
            for client in page.items:
                if client.name.strip().lower() == wanted:
                    return client
        return None

    def create_client(self, name, *, currency=None, address=None) -> PsaClient:
        body = {"name": name, "currency": currency, "address": address}
        return normalize_client(self._json("POST", "/v2/clients", json=_compact(body)))

    def update_client(self, client_id, **values) -> PsaClient:
        return normalize_client(self._json("PATCH", f"/v2/clients/{client_id}", json=values))

    def ensure_client(self, name, *, currency=None) -> tuple[PsaClient, bool]:
        """The client named ``name``, created when missing -> (client, created)."""
        return self._ensure(
            lambda: self.find_client(name), lambda: self.create_client(name, currency=currency)
        )

    @staticmethod
    def _ensure(find, create):
        # No idempotency keys in Harvest: look up first; a create that lost a race ("has
        # already been taken") looks up again instead of failing or duplicating.
        found = find()
        if found is not None:
            return found, False
        try:
            return create(), True
        except BusinessError as exc:
            if "taken" not in exc.message:
                raise
            found = find()
            if found is None:
                raise
            return found, False

    # Projects -------------------------------------------------------------------------------------

    def list_projects(self, *, updated_since=None, is_active=None, client_id=None, resume=None):
        params = _filters(updated_since=updated_since, is_active=is_active, client_id=client_id)
        return self._pages("/v2/projects", "projects", params, resume, normalize_project)

    def get_project(self, project_id) -> PsaProject | None:
        body = self._get_or_none(f"/v2/projects/{project_id}")
        return body and normalize_project(body)

    def find_project_by_code(self, code, *, client_id=None) -> PsaProject | None:
        """The project whose code is ``code`` (the contract reference); Harvest cannot filter on
        codes, so the projects are listed. Several matches are an error to fix in Harvest."""
        matches = [
            project
            for page in self.list_projects(client_id=client_id)
            for project in page.items
            if project.code == code
        ]
        if len(matches) > 1:
            ids = ", ".join(p.remote_id for p in matches)
            raise BusinessError(
                f"Harvest has {len(matches)} projects with the code {code!r} (ids {ids}): keep "
                "one (change the code of or archive the others), then retry."
            )
        return matches[0] if matches else None

    def create_project(
        self,
        client_id,
        name,
        *,
        code,
        is_billable=True,
        bill_by="Project",
        budget_by="none",
        **values,
    ) -> PsaProject:
        """``values``: budget, cost_budget, fee, is_fixed_fee, hourly_rate, starts_on, ends_on,
        notes, budget_is_monthly... as Harvest names them."""
        body = {
            "client_id": int(client_id),
            "name": name,
            "code": code,
            "is_billable": is_billable,
            "bill_by": bill_by,
            "budget_by": budget_by,
            **values,
        }
        return normalize_project(self._json("POST", "/v2/projects", json=body))

    def update_project(self, project_id, **values) -> PsaProject:
        return normalize_project(self._json("PATCH", f"/v2/projects/{project_id}", json=values))

    def ensure_project(self, code, *, client_id, name, **values) -> tuple[PsaProject, bool]:
        """The project coded ``code``, created when missing -> (project, created)."""
        return self._ensure(
            lambda: self.find_project_by_code(code),
            lambda: self.create_project(client_id, name, code=code, **values),
        )

    # Tasks and assignments -------------------------------------------------------------------------

    def list_tasks(self, *, updated_since=None, is_active=None, resume=None):
        params = _filters(updated_since=updated_since, is_active=is_active)
        return self._pages("/v2/tasks", "tasks", params, resume, normalize_task)

    def get_task(self, task_id):
        body = self._get_or_none(f"/v2/tasks/{task_id}")
        return body and normalize_task(body)

    def find_task(self, name):
        wanted = (name or "").strip().lower()
        return next(
            (
                task
                for page in self.list_tasks()
                for task in page.items
                if task.name.strip().lower() == wanted
            ),
            None,
        )

    def create_task(self, name, *, billable_by_default=True, default_hourly_rate=None):
        body = _compact(
            {
                "name": name,
                "billable_by_default": billable_by_default,
                "default_hourly_rate": default_hourly_rate,
            }
        )
        return normalize_task(self._json("POST", "/v2/tasks", json=body))

    def update_task(self, task_id, **values):
        return normalize_task(self._json("PATCH", f"/v2/tasks/{task_id}", json=values))

    def ensure_task(self, name, **values):
        return self._ensure(lambda: self.find_task(name), lambda: self.create_task(name, **values))

    def task_assignments(self, project_id) -> list:
        return self._all(
            f"/v2/projects/{project_id}/task_assignments",
            "task_assignments",
            lambda raw: normalize_assignment(raw, project_id),
        )

    def user_assignments(self, project_id) -> list:
        return self._all(
            f"/v2/projects/{project_id}/user_assignments",
            "user_assignments",
            lambda raw: normalize_assignment(raw, project_id),
        )

    def assign_task(self, project_id, task_id, **values):
        """``values``: billable, hourly_rate, budget, is_active."""
        body = {"task_id": int(task_id), **_compact(values)}
        raw = self._json("POST", f"/v2/projects/{project_id}/task_assignments", json=body)
        return normalize_assignment(raw, project_id)

    def assign_user(self, project_id, user_id, **values):
        """``values``: is_project_manager, use_default_rates, hourly_rate, budget, is_active."""
        body = {"user_id": int(user_id), **_compact(values)}
        raw = self._json("POST", f"/v2/projects/{project_id}/user_assignments", json=body)
        return normalize_assignment(raw, project_id)

    def update_assignment(self, project_id, assignment, **values):
        kind = "task_assignments" if assignment.task_id else "user_assignments"
        raw = self._json(
            "PATCH", f"/v2/projects/{project_id}/{kind}/{assignment.remote_id}", json=values
        )
        return normalize_assignment(raw, project_id)

    def ensure_task_assignment(self, project_id, task_id, **values):
        """Assign the task (or bring an existing assignment to ``values``) -> (assignment, created)."""
        return self._ensure_assignment(
            project_id, "task_id", task_id, values, self.task_assignments, self.assign_task
        )

    def ensure_user_assignment(self, project_id, user_id, **values):
        return self._ensure_assignment(
            project_id, "user_id", user_id, values, self.user_assignments, self.assign_user
        )

    def _ensure_assignment(self, project_id, field, target_id, values, listing, create):
        def find():
            return next(
                (a for a in listing(project_id) if getattr(a, field) == str(target_id)), None
            )

        assignment, created = self._ensure(find, lambda: create(project_id, target_id, **values))
        changed = {k: v for k, v in values.items() if _differs(assignment.raw.get(k), v)}
        if not created and changed:
            assignment = self.update_assignment(project_id, assignment, **changed)
        return assignment, created


def _filters(**values) -> dict:
    params = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "updated_since":
            params[name] = api_datetime(value)
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = str(value)
    return params


def _compact(values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _differs(current, wanted) -> bool:
    if isinstance(wanted, (Decimal, int, float)) and not isinstance(wanted, bool):
        return to_decimal(current) != to_decimal(wanted)
    return current != wanted


def _jsonable(value):
    """Decimals and dates as JSON numbers and ISO strings (requests' json= cannot encode them)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
