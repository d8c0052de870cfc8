"""What a governed contract becomes in a PSA (pure): the project, its billing basis, budget,
dates, one task or service per contract line, and the people to assign.

The ORM side describes the contract (``Contract`` / ``ContractLine``); ``plan`` decides the
PSA-neutral shape and ``harvest_project_values`` / ``kantata_project_values`` the values each
tool takes. The code of the PSA project is the contract reference: it is how a retried job finds
the project it created (neither API has idempotency keys).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

TIME_MODELS = ("tm", "retainer")
FEE_MODELS = ("fixed_fee", "milestone")


@dataclass(frozen=True)
class ContractLine:
    ref: str  # sale.order.line id
    name: str
    billing_model: str | None  # tm | fixed_fee | milestone | retainer | non_billable | None
    quantity: Decimal
    in_hours: bool  # the quantity is hours (T&M budgets)
    price_unit: Decimal
    amount: Decimal  # untaxed subtotal
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Contract:
    reference: str  # the PSA project code
    name: str
    client: str
    currency: str
    ordered_on: date | None
    lines: tuple
    people: tuple = ()  # remote user ids to assign
    project_starts_on: date | None = None
    project_ends_on: date | None = None


@dataclass(frozen=True)
class TaskPlan:
    ref: str
    name: str
    billable: bool
    hourly_rate: Decimal | None
    budget_hours: Decimal | None


@dataclass(frozen=True)
class ProjectPlan:
    code: str
    name: str
    client: str
    currency: str
    billable: bool
    fixed_fee: bool
    fee: Decimal | None
    budget_hours: Decimal | None
    budget_amount: Decimal
    starts_on: date | None
    ends_on: date | None
    tasks: tuple = ()
    people: tuple = field(default_factory=tuple)


def _billable(line) -> bool:
    return bool(line.billing_model) and line.billing_model != "non_billable"


def plan(contract: Contract) -> ProjectPlan:
    lines = [line for line in contract.lines if line.billing_model != "expense"]
    billable = [line for line in lines if _billable(line)]
    time_lines = [line for line in billable if line.billing_model in TIME_MODELS]
    fee_lines = [line for line in billable if line.billing_model in FEE_MODELS]
    hours = sum((line.quantity for line in time_lines if line.in_hours), Decimal(0))
    starts = [d for d in (contract.ordered_on, contract.project_starts_on) if d]
    starts += [line.starts_on for line in lines if line.starts_on]
    ends = [line.ends_on for line in lines if line.ends_on]
    if contract.project_ends_on:
        ends.append(contract.project_ends_on)
    tasks = tuple(
        TaskPlan(
            ref=line.ref,
            name=line.name,
            billable=_billable(line),
            hourly_rate=line.price_unit if line.billing_model == "tm" and line.in_hours else None,
            budget_hours=line.quantity if line.in_hours and _billable(line) else None,
        )
        for line in lines
    )
    return ProjectPlan(
        code=contract.reference,
        name=contract.name,
        client=contract.client,
        currency=contract.currency,
        billable=bool(billable),
        fixed_fee=bool(fee_lines) and not time_lines,
        fee=sum((line.amount for line in fee_lines), Decimal(0)) if fee_lines else None,
        budget_hours=hours or None,
        budget_amount=sum((line.amount for line in billable), Decimal(0)),
        starts_on=min(starts) if starts else None,
        ends_on=max(ends) if ends else None,
        tasks=tasks,
        people=tuple(contract.people),
    )


def harvest_project_values(project: ProjectPlan) -> dict:
    """Harvest project fields: billing basis (bill_by), budget (budget_by), fee, dates."""
    if not project.billable:
        bill_by, budget_by = "none", "none"
    elif project.fixed_fee:
        bill_by = "Project"
        budget_by = "project_cost"
    else:
        bill_by = "Tasks"  # each task carries its contract line's rate
        budget_by = "project" if project.budget_hours else "project_cost"
    values = {
        "is_billable": project.billable,
        "bill_by": bill_by,
        "budget_by": budget_by,
        "is_fixed_fee": project.fixed_fee,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
    }
    if project.fixed_fee:
        values["fee"] = project.fee
    if budget_by == "project":
        values["budget"] = project.budget_hours
    elif budget_by == "project_cost":
        values["budget"] = project.budget_amount
    return values


def kantata_project_values(project: ProjectPlan) -> dict:
    return {
        "currency": project.currency,
        "budget": project.budget_amount,
        "start_date": project.starts_on,
        "due_date": project.ends_on,
    }


def harvest_task_values(task: TaskPlan) -> dict:
    values = {"billable": task.billable, "is_active": True}
    if task.hourly_rate is not None:
        values["hourly_rate"] = task.hourly_rate
    if task.budget_hours is not None:
        values["budget"] = task.budget_hours
    return values
