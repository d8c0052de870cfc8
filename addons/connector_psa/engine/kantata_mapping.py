"""Kantata OX objects -> the shared records (pure functions, no I/O).

A Kantata answer is an envelope: ``results`` gives the order, and related objects are side-loaded
in top-level maps keyed by id (``users``, ``workspaces``...). Normalisers get the row and the
whole body (``Envelope``) to read those. Amounts are in currency subunits.
"""

from decimal import Decimal

from odoo.addons.connector_base.engine.errors import TransientError

from .records import (
    KANTATA,
    PsaAssignment,
    PsaExpense,
    PsaMilestone,
    PsaProject,
    PsaTask,
    PsaTimeEntry,
    PsaUser,
    from_subunits,
    hours_from_minutes,
    parse_date,
    parse_datetime,
)

SUBMISSION_STATUS = {
    "approved": "approved",
    "pending": "submitted",
    "rejected": "rejected",
    "cancelled": "unsubmitted",
    "canceled": "unsubmitted",
}


class Envelope:
    """One Kantata answer: ordered rows of a type and the side-loaded objects."""

    def __init__(self, body, service_name):
        self.body = body if isinstance(body, dict) else {}
        self.service_name = service_name

    def rows(self, key) -> list[dict]:
        objects = self.body.get(key) or {}
        rows = []
        for ref in self.body.get("results") or []:
            if ref.get("key") != key:
                continue
            row = objects.get(str(ref.get("id")))
            if row is None:
                raise TransientError(
                    f"Kantata listed {key} {ref.get('id')} in results without the object: the "
                    "answer is inconsistent, the request will be retried."
                )
            rows.append(row)
        return rows

    def get(self, key, object_id) -> dict:
        if object_id in (None, ""):
            return {}
        return (self.body.get(key) or {}).get(str(object_id)) or {}

    def reference(self, row) -> str | None:
        """The connector's own external reference on ``row`` (include=external_references)."""
        for ref_id in row.get("external_reference_ids") or ():
            ref = self.get("external_references", ref_id)
            if ref.get("service_name") == self.service_name:
                return ref.get("service_model_ref")
        return None

    @property
    def meta(self) -> dict:
        return self.body.get("meta") or {}


def _id(value) -> str | None:
    return str(value) if value not in (None, "") else None


def normalize_user(row, env) -> PsaUser:
    membership = env.get("account_memberships", row.get("account_membership_id"))
    permission = membership.get("permission")
    return PsaUser(
        source=KANTATA,
        remote_id=str(row["id"]),
        email=(row.get("email_address") or "").strip() or None,
        name=row.get("full_name") or str(row["id"]),
        active=not membership.get("disabled_at"),
        is_admin=bool(membership.get("is_administrator")),
        roles=(permission,) if permission else (),
        cost_rate=from_subunits(membership.get("cost_rate_in_cents")),
        billable_rate=from_subunits(membership.get("bill_rate_in_cents")),
        membership_id=_id(membership.get("id") or row.get("account_membership_id")),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def normalize_project(row, env) -> PsaProject:
    base = row.get("currency_base_unit") or 100
    return PsaProject(
        source=KANTATA,
        remote_id=str(row["id"]),
        name=row.get("title") or "",
        code=env.reference(row),
        currency=row.get("currency"),
        active=not row.get("archived"),
        budget=from_subunits(row.get("price_in_cents"), base),
        starts_on=parse_date(row.get("start_date")),
        ends_on=parse_date(row.get("due_date")),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def normalize_task(row, env, project_id=None) -> PsaTask:
    return PsaTask(
        source=KANTATA,
        remote_id=str(row["id"]),
        name=row.get("title") or "",
        project_id=_id(row.get("workspace_id")) or _id(project_id),
        billable=row.get("billable", True) is not False,
        kind=row.get("story_type") or "task",
        state=row.get("state"),
        due_date=parse_date(row.get("due_date")),
        reference=env.reference(row),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def normalize_participation(row, env, project_id=None) -> PsaAssignment:
    return PsaAssignment(
        source=KANTATA,
        remote_id=str(row["id"]),
        project_id=_id(row.get("workspace_id")) or str(project_id),
        user_id=_id(row.get("user_id")),
        raw=row,
    )


def normalize_time_entry(row, env) -> PsaTimeEntry:
    user = env.get("users", row.get("user_id"))
    workspace = env.get("workspaces", row.get("workspace_id"))
    story = env.get("stories", row.get("story_id"))
    submission = env.get("timesheet_submissions", row.get("active_submission_id"))
    approved = bool(row.get("approved"))
    invoiced = bool(row.get("is_invoiced"))
    status = (
        "approved" if approved else SUBMISSION_STATUS.get(submission.get("status"), "unsubmitted")
    )
    base = row.get("currency_base_unit") or 100
    minutes = int(row.get("time_in_minutes") or 0)
    hours = hours_from_minutes(minutes)
    reason = "invoiced" if invoiced else ("approved" if approved else None)
    return PsaTimeEntry(
        source=KANTATA,
        remote_id=str(row["id"]),
        user_id=str(row["user_id"]),
        project_id=str(row["workspace_id"]),
        task_id=_id(row.get("story_id")),
        spent_on=parse_date(row["date_performed"]),
        hours=hours,
        rounded_hours=hours,
        minutes=minutes,
        billable=bool(row.get("billable")),
        notes=row.get("notes") or "",
        approved=approved,
        approval_status=status,
        locked=reason is not None,
        locked_reason=reason,
        invoiced=invoiced,
        invoice_ref=_id(row.get("invoice_id")),
        billable_rate=from_subunits(row.get("rate_in_cents"), base),
        cost_rate=from_subunits(row.get("cost_rate_in_cents"), base),
        currency=row.get("currency"),
        external_reference=env.reference(row),
        user_name=user.get("full_name"),
        user_email=user.get("email_address"),
        project_name=workspace.get("title"),
        task_name=story.get("title"),
        created_at=parse_datetime(row.get("created_at")),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def expense_approved(row, env) -> bool:
    """On an approved expense report, or in a project that does not require approvals."""
    workspace = env.get("workspaces", row.get("workspace_id"))
    if workspace and workspace.get("require_expense_approvals") is False:
        return True
    report = env.get("expense_report_submissions", row.get("active_submission_id"))
    return report.get("status") == "approved"


def normalize_expense(row, env) -> PsaExpense:
    user = env.get("users", row.get("user_id"))
    workspace = env.get("workspaces", row.get("workspace_id"))
    category = env.get("expense_categories", row.get("expense_category_id"))
    receipt = env.get("attachments", row.get("receipt_id"))
    report = env.get("expense_report_submissions", row.get("active_submission_id"))
    approved = expense_approved(row, env)
    invoiced = bool(row.get("is_invoiced"))
    status = "approved" if approved else SUBMISSION_STATUS.get(report.get("status"), "unsubmitted")
    return PsaExpense(
        source=KANTATA,
        remote_id=str(row["id"]),
        user_id=str(row["user_id"]),
        project_id=str(row["workspace_id"]),
        task_id=_id(row.get("story_id")),
        spent_on=parse_date(row["date"]),
        amount=from_subunits(row.get("amount_in_cents"), row.get("currency_base_unit") or 100)
        or Decimal(0),
        currency=row.get("currency"),
        units=None,
        unit_price=None,
        category_id=_id(row.get("expense_category_id")),
        category_name=category.get("name") or row.get("category"),
        billable=bool(row.get("billable")),
        notes=row.get("notes") or "",
        approved=approved,
        approval_status=status,
        locked=approved or invoiced,
        invoiced=invoiced,
        invoice_ref=_id(row.get("invoice_id")),
        receipt_url=receipt.get("url") or None,
        receipt_name=receipt.get("filename"),
        user_name=user.get("full_name"),
        user_email=user.get("email_address"),
        project_name=workspace.get("title"),
        created_at=parse_datetime(row.get("created_at")),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def normalize_milestone_story(row, env, project_id, today) -> PsaMilestone:
    return PsaMilestone(
        source=KANTATA,
        remote_id=str(row["id"]),
        project_id=str(project_id),
        name=row.get("title") or "",
        kind="story",
        due_date=parse_date(row.get("due_date")),
        reached=row.get("state") == "completed",
        task_id=str(row["id"]),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )


def normalize_billing_milestone(row, env, project_id, today) -> PsaMilestone:
    story = env.get("stories", row.get("story_id"))
    due = parse_date(row.get("date_to_invoice"))
    if row.get("billing_type") == "upon_completion":
        reached = story.get("state") == "completed"
    else:
        reached = due is not None and due <= today
    return PsaMilestone(
        source=KANTATA,
        remote_id=str(row["id"]),
        project_id=_id(row.get("workspace_id")) or str(project_id),
        name=row.get("title") or "",
        kind="billing",
        due_date=due,
        reached=reached,
        amount=from_subunits(row.get("amount_in_cents")),
        currency=row.get("currency"),
        task_id=_id(row.get("story_id")),
        invoiced=bool(row.get("invoice_id")),
        updated_at=parse_datetime(row.get("updated_at")),
        raw=row,
    )
