"""Kantata projects (workspaces), tasks (stories), participants, milestones, and the external
references that tie them, and billed entries, to Odoo (a KantataClient mixin).

Kantata has no idempotency keys: ``ensure_*`` look up by the connector's external reference
(service name ``odoo``) before creating, and create the object *with* its reference in the same
request, so a retried job finds what the first attempt made. ``mark`` uses
``/external_references/create_or_update``: one reference per object and service, safe to repeat.
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo.addons.connector_base.engine.errors import BusinessError

from .kantata_mapping import (
    normalize_billing_milestone,
    normalize_milestone_story,
    normalize_participation,
    normalize_project,
    normalize_task,
)
from .records import api_datetime, to_decimal


class KantataProjects:
    # Projects, tasks, participants ----------------------------------------------------------------

    def _reference_body(self, reference, model):
        return {
            "service_name": self.service_name,
            "service_model": model,
            "service_model_ref": str(reference),
            "status": "successful",
        }

    def list_projects(self, *, updated_since=None, resume=None):
        params = {"include": "external_references"}
        if updated_since:
            params["updated_after"] = api_datetime(updated_since)
        return self._pages("/workspaces", "workspaces", params, normalize_project, resume)

    def get_project(self, project_id):
        return self._one(
            f"/workspaces/{project_id}",
            "workspaces",
            normalize_project,
            {"include": "external_references"},
        )

    def find_project_by_reference(self, reference):
        params = {
            "include": "external_references",
            "external_reference_service_name": self.service_name,
            "external_reference_service_model_refs": str(reference),
        }
        found = self._all("/workspaces", "workspaces", params, normalize_project)
        if len(found) > 1:
            ids = ", ".join(p.remote_id for p in found)
            raise BusinessError(
                f"Several Kantata projects carry the reference {reference!r} (ids {ids}): remove "
                "the reference from all but one, then retry."
            )
        return found[0] if found else None

    def create_project(
        self,
        title,
        *,
        reference,
        currency=None,
        budget=None,
        start_date=None,
        due_date=None,
        description=None,
        require_time_approvals=None,
        creator_role="maven",
    ):
        values = _compact(
            {
                "title": title,
                "creator_role": creator_role,
                "currency": currency,
                "description": description,
                "require_time_approvals": require_time_approvals,
                "budgeted": budget is not None or None,
                "price_in_cents": _subunits(budget),
                "start_date": _day(start_date),
                "due_date": _day(due_date),
                "external_reference": self._reference_body(reference, "sale.order"),
            }
        )
        return self._write(
            "POST", "/workspaces", "workspaces", "workspace", values, normalize_project
        )

    def update_project(self, project_id, *, budget=None, start_date=None, due_date=None, **values):
        values = _compact(
            {
                **values,
                "price_in_cents": _subunits(budget),
                "start_date": _day(start_date),
                "due_date": _day(due_date),
            }
        )
        return self._write(
            "PUT", f"/workspaces/{project_id}", "workspaces", "workspace", values, normalize_project
        )

    def ensure_project(self, reference, *, title, **values):
        """The project carrying ``reference``, created when missing -> (project, created)."""
        found = self.find_project_by_reference(reference)
        if found is not None:
            return found, False
        return self.create_project(title, reference=reference, **values), True

    def list_tasks(self, project_id) -> list:
        return self._all(
            "/stories",
            "stories",
            {"workspace_id": str(project_id), "include": "external_references"},
            lambda row, env: normalize_task(row, env, project_id),
        )

    def create_task(
        self,
        project_id,
        title,
        *,
        reference=None,
        story_type="task",
        billable=None,
        start_date=None,
        due_date=None,
    ):
        values = _compact(
            {
                "workspace_id": int(project_id),
                "title": title,
                "story_type": story_type,
                "billable": billable,
                "start_date": _day(start_date),
                "due_date": _day(due_date),
                "external_reference": self._reference_body(reference, "sale.order.line")
                if reference
                else None,
            }
        )
        return self._write(
            "POST",
            "/stories",
            "stories",
            "story",
            values,
            lambda row, env: normalize_task(row, env, project_id),
        )

    def update_task(self, task_id, **values):
        values = {k: _day(v) if k.endswith("_date") else v for k, v in values.items()}
        return self._write("PUT", f"/stories/{task_id}", "stories", "story", values, normalize_task)

    def ensure_task(self, project_id, reference, *, title, **values):
        found = next(
            (t for t in self.list_tasks(project_id) if t.reference == str(reference)), None
        )
        if found is not None:
            return found, False
        return self.create_task(project_id, title, reference=reference, **values), True

    def participants(self, project_id) -> list:
        return self._all(
            "/participations",
            "participations",
            {"workspace_id": str(project_id), "include": "user"},
            lambda row, env: normalize_participation(row, env, project_id),
        )

    def ensure_participant(self, project_id, user_id, role="maven"):
        def find():
            return next(
                (p for p in self.participants(project_id) if p.user_id == str(user_id)), None
            )

        found = find()
        if found is not None:
            return found, False
        try:
            return self._write(
                "POST",
                "/participations",
                "participations",
                "participation",
                {"workspace_id": int(project_id), "user_id": int(user_id), "role": role},
                lambda row, env: normalize_participation(row, env, project_id),
                include="user,workspace",
            ), True
        except BusinessError:
            found = find()  # a retried request already added them
            if found is None:
                raise
            return found, False

    def milestones(self, project_id) -> list:
        """Milestone stories and billing milestones of a project."""
        today = self.clock().date()
        stories = self._all(
            "/stories", "stories", {"workspace_id": str(project_id)}, lambda row, env: row
        )
        found = [
            normalize_milestone_story(row, None, project_id, today)
            for row in stories
            if row.get("story_type") == "milestone"
        ]
        found += self._all(
            "/billing_milestones",
            "billing_milestones",
            {"workspace_ids": str(project_id), "include": "story"},
            lambda row, env: normalize_billing_milestone(row, env, project_id, today),
        )
        return found

    # Marking what Odoo did -------------------------------------------------------------------------

    def mark(
        self,
        subject_type,
        subject_id,
        reference,
        *,
        model="account.move.line",
        message=None,
        link=None,
        external_status=None,
        status="successful",
    ) -> dict:
        """Create or update the connector's external reference on a Kantata object.

        One reference per object and service name: calling again updates it (safe to retry).
        """
        values = _compact(
            {
                "subject_type": subject_type,
                "subject_id": int(subject_id),
                "service_name": self.service_name,
                "service_model": model,
                "service_model_ref": str(reference),
                "status": status,
                "external_message": message,
                "external_link": link,
                "external_status": external_status,
            }
        )
        # create_or_update is an upsert: safe to resend after a lost answer.
        _response, env = self._call(
            "POST",
            "/external_references/create_or_update",
            json={"external_reference": values},
            idempotent=True,
        )
        rows = env.rows("external_references")
        return rows[0] if rows else {}

    def mark_time_entry(self, entry_id, reference, *, link=None, group=None, message=None):
        """Mark a time entry with the connector's reference (same arguments as Harvest's;
        ``group`` goes to ``external_status``). The entry itself does not change: returns the
        external reference object."""
        return self.mark(
            "TimeEntry",
            entry_id,
            reference,
            link=link,
            message=message,
            external_status=None if group is None else str(group),
        )

    def mark_expense(self, expense_id, reference, *, link=None, group=None, message=None):
        return self.mark(
            "Expense",
            expense_id,
            reference,
            link=link,
            message=message,
            external_status=None if group is None else str(group),
        )

    def reference_of(self, subject_type, subject_id) -> dict | None:
        params = {
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "service_name": self.service_name,
        }
        refs = self._all(
            "/external_references", "external_references", params, lambda row, env: row
        )
        return refs[0] if refs else None


def _compact(values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _subunits(amount):
    """Decimal("123.45") -> 12345 (Kantata amounts are in cents), rounded half up."""
    if amount is None:
        return None
    return int((to_decimal(amount) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _day(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
