"""Harvest API v2 objects -> the shared records (pure functions, no I/O).

Time entries are normalised by ``HarvestClient.normalize_time_entry`` (it needs the client's
currency, which Harvest does not put on the entry).
"""

from decimal import Decimal

from .records import (
    HARVEST,
    PsaAssignment,
    PsaClient,
    PsaExpense,
    PsaProject,
    PsaTask,
    PsaUser,
    parse_date,
    parse_datetime,
    to_decimal,
)


def _id(value) -> str | None:
    return str(value) if value not in (None, "") else None


def _approval(raw) -> tuple[bool, str]:
    """(approved, status): ``approval_status`` when the account has it, else ``is_closed``."""
    status = raw.get("approval_status")
    approved = status == "approved" if status is not None else bool(raw.get("is_closed"))
    return approved, status or ("approved" if approved else "unsubmitted")


def normalize_user(raw) -> PsaUser:
    roles = tuple(raw.get("access_roles") or ())
    name = " ".join(part for part in (raw.get("first_name"), raw.get("last_name")) if part)
    return PsaUser(
        source=HARVEST,
        remote_id=str(raw["id"]),
        email=(raw.get("email") or "").strip() or None,
        name=name or str(raw["id"]),
        active=bool(raw.get("is_active", True)),
        is_admin="administrator" in roles,
        is_contractor=bool(raw.get("is_contractor")),
        roles=roles,
        cost_rate=to_decimal(raw.get("cost_rate")),
        billable_rate=to_decimal(raw.get("default_hourly_rate")),
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=raw,
    )


def normalize_client(raw) -> PsaClient:
    return PsaClient(
        source=HARVEST,
        remote_id=str(raw["id"]),
        name=raw.get("name") or "",
        currency=raw.get("currency"),
        active=bool(raw.get("is_active", True)),
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=raw,
    )


def normalize_project(raw) -> PsaProject:
    client = raw.get("client") or {}
    return PsaProject(
        source=HARVEST,
        remote_id=str(raw["id"]),
        name=raw.get("name") or "",
        code=raw.get("code") or None,
        client_id=_id(client.get("id")),
        client_name=client.get("name"),
        currency=client.get("currency"),
        active=bool(raw.get("is_active", True)),
        billable=bool(raw.get("is_billable", True)),
        fixed_fee=bool(raw.get("is_fixed_fee")),
        bill_by=raw.get("bill_by"),
        budget_by=raw.get("budget_by"),
        budget=to_decimal(raw.get("budget")),
        fee=to_decimal(raw.get("fee")),
        hourly_rate=to_decimal(raw.get("hourly_rate")),
        starts_on=parse_date(raw.get("starts_on")),
        ends_on=parse_date(raw.get("ends_on")),
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=raw,
    )


def normalize_task(raw) -> PsaTask:
    return PsaTask(
        source=HARVEST,
        remote_id=str(raw["id"]),
        name=raw.get("name") or "",
        billable=bool(raw.get("billable_by_default", True)),
        hourly_rate=to_decimal(raw.get("default_hourly_rate")),
        active=bool(raw.get("is_active", True)),
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=raw,
    )


def normalize_assignment(raw, project_id) -> PsaAssignment:
    task = raw.get("task") or {}
    user = raw.get("user") or {}
    project = raw.get("project") or {}
    return PsaAssignment(
        source=HARVEST,
        remote_id=str(raw["id"]),
        project_id=str(project.get("id") or project_id),
        task_id=_id(task.get("id")),
        user_id=_id(user.get("id")),
        billable=raw.get("billable"),
        hourly_rate=to_decimal(raw.get("hourly_rate")),
        budget=to_decimal(raw.get("budget")),
        active=bool(raw.get("is_active", True)),
        raw=raw,
    )


def normalize_expense(raw) -> PsaExpense:
    approved, status = _approval(raw)
    category = raw.get("expense_category") or {}
    receipt = raw.get("receipt") or {}
    client = raw.get("client") or {}
    project = raw.get("project") or {}
    invoice = raw.get("invoice") or {}
    user = raw.get("user") or {}
    return PsaExpense(
        source=HARVEST,
        remote_id=str(raw["id"]),
        user_id=str(user["id"]),
        project_id=str(project["id"]),
        task_id=None,
        spent_on=parse_date(raw["spent_date"]),
        amount=to_decimal(raw.get("total_cost")) or Decimal(0),
        currency=client.get("currency"),
        units=to_decimal(raw.get("units")),
        unit_price=to_decimal(category.get("unit_price")),
        category_id=_id(category.get("id")),
        category_name=category.get("name"),
        billable=bool(raw.get("billable")),
        notes=raw.get("notes") or "",
        approved=approved,
        approval_status=status,
        locked=bool(raw.get("is_locked")),
        invoiced=bool(raw.get("is_billed")),
        invoice_ref=str(invoice.get("number") or invoice.get("id") or "") or None,
        receipt_url=receipt.get("url"),
        receipt_name=receipt.get("file_name"),
        receipt_content_type=receipt.get("content_type"),
        user_name=user.get("name"),
        project_name=project.get("name"),
        project_code=project.get("code"),
        created_at=parse_datetime(raw.get("created_at")),
        updated_at=parse_datetime(raw.get("updated_at")),
        raw=raw,
    )
