"""Validation of a PSA entry before anything is written (pure: facts in, problems out).

The ORM side gathers what Odoo knows about the entry (its employee, project, contract line,
period, the hours already booked that day) into an ``EntryFacts``; the rules below say what is
wrong, naming the entry, the rule and how to fix it. An entry with problems goes to a
needs-attention job of its own; the other entries of its page are imported.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

UNKNOWN_USER = "unknown_user"
UNKNOWN_PROJECT = "unknown_project"
UNKNOWN_TASK = "unknown_task"
UNKNOWN_CATEGORY = "unknown_category"
HOURS_NOT_POSITIVE = "hours_not_positive"
DAY_OVER_24H = "day_over_24h"
BEFORE_CONTRACT = "before_contract"
AFTER_CONTRACT = "after_contract"
PROJECT_CLOSED = "project_closed"
BILLABLE_ON_NON_BILLABLE = "billable_on_non_billable_line"
NON_BILLABLE_ON_BILLABLE = "non_billable_on_billable_line"
AMOUNT_NOT_POSITIVE = "amount_not_positive"

# Backend setting "billable mismatch": what to do with non-billable time on a billable line.
MISMATCH_IMPORT = "import_non_billable"  # imported, not billed (the PSA said non-billable)
MISMATCH_REJECT = "reject"  # needs attention, like billable time on a non-billable line

MAX_HOURS_PER_DAY = Decimal(24)


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str
    fix: str

    def __str__(self):
        return f"{self.message} To fix: {self.fix}"


@dataclass(frozen=True)
class EntryFacts:
    """What Odoo knows about an entry's references (names for the messages)."""

    tool: str  # "Harvest" / "Kantata"
    employee: str | None = None
    project: str | None = None
    project_code: str | None = None
    line: str | None = None  # contract line the work goes to (None: no line found)
    line_billable: bool | None = None  # None: no line found
    task_mapped: bool = False  # a mapping (or a default line) decides the line
    period_start: date | None = None
    period_end: date | None = None
    project_archived: bool = False
    project_closed_on: date | None = None
    hours_booked_that_day: Decimal = Decimal(0)  # the employee's other time that day in Odoo
    category_product: str | None = None  # expenses: the mapped product


@dataclass(frozen=True)
class Subject:
    """The entry as a person recognises it in the PSA."""

    kind: str  # "time entry" / "expense"
    remote_id: str
    user: str
    spent_on: date
    project: str
    task: str | None = None
    quantity: Decimal | None = None  # hours
    amount: str | None = None  # expenses: "142.50 EUR"
    billable: bool = True
    extra: dict = field(default_factory=dict)

    def describe(self, tool) -> str:
        what = f"{self.quantity.normalize():f} h" if self.quantity is not None else self.amount
        task = f" / {self.task}" if self.task else ""
        return (
            f"{tool} {self.kind} {self.remote_id} ({self.user}, {self.spent_on.isoformat()}, "
            f"{what} on {self.project}{task})"
        )


def _references(subject, facts) -> list[Problem]:
    tool = facts.tool
    problems = []
    if not facts.employee:
        problems.append(
            Problem(
                UNKNOWN_USER,
                f"{tool} user {subject.user} is not linked to an employee.",
                f"open Connectors > PSA > People, Link {subject.user} to an employee or Create "
                "employee, then Retry this job.",
            )
        )
    if not facts.project:
        code = f" (code {facts.project_code})" if facts.project_code else ""
        problems.append(
            Problem(
                UNKNOWN_PROJECT,
                f"{tool} project {subject.project}{code} is not linked to an Odoo project.",
                "give the contract this PSA project code (contract, tab PSA) or provision the "
                "contract to the PSA, or link the project in Connectors > PSA > Projects; then "
                "Retry this job.",
            )
        )
    return problems


def validate_time_entry(
    subject: Subject, facts: EntryFacts, *, mismatch=MISMATCH_IMPORT
) -> list[Problem]:
    """Everything wrong with a time entry (empty: it can be imported)."""
    tool = facts.tool
    problems = _references(subject, facts)
    hours = subject.quantity if subject.quantity is not None else Decimal(0)
    if hours <= 0:
        problems.append(
            Problem(
                HOURS_NOT_POSITIVE,
                f"The entry has {hours.normalize():f} hours.",
                f"correct the hours in {tool} (or delete the entry there); the corrected entry "
                "is imported at the next pull, or Retry this job.",
            )
        )
    elif facts.employee and facts.hours_booked_that_day + hours > MAX_HOURS_PER_DAY:
        total = (facts.hours_booked_that_day + hours).normalize()
        problems.append(
            Problem(
                DAY_OVER_24H,
                f"{facts.employee} would have {total:f} hours on {subject.spent_on.isoformat()} "
                f"({facts.hours_booked_that_day.normalize():f} h already in Odoo).",
                f"correct the entries of that day in {tool}, then Retry this job.",
            )
        )
    if not facts.project:
        return problems
    if not facts.task_mapped:
        problems.append(
            Problem(
                UNKNOWN_TASK,
                f"Task {subject.task or '(none)'} of project {facts.project} is not mapped to a "
                "contract line, and the project has no default contract line.",
                "map the task in Connectors > PSA > Tasks and services (or set the project's "
                "default contract line), then Retry this job.",
            )
        )
    if facts.period_start and subject.spent_on < facts.period_start:
        problems.append(
            Problem(
                BEFORE_CONTRACT,
                f"The work date {subject.spent_on.isoformat()} is before the contract period, "
                f"which starts on {facts.period_start.isoformat()} ({facts.line or facts.project}).",
                f"correct the date in {tool}, or move the start of the contract line's service "
                "period, then Retry this job.",
            )
        )
    if facts.period_end and subject.spent_on > facts.period_end:
        problems.append(
            Problem(
                AFTER_CONTRACT,
                f"The work date {subject.spent_on.isoformat()} is after the contract period, "
                f"which ended on {facts.period_end.isoformat()} ({facts.line or facts.project}).",
                f"extend the contract (service period of the line, or an amendment), or correct "
                f"the date in {tool}, then Retry this job.",
            )
        )
    if facts.project_archived:
        problems.append(
            Problem(
                PROJECT_CLOSED,
                f"Project {facts.project} is archived in Odoo.",
                f"restore the project, or move the time to an open project in {tool}, then "
                "Retry this job.",
            )
        )
    elif facts.project_closed_on and subject.spent_on > facts.project_closed_on:
        problems.append(
            Problem(
                PROJECT_CLOSED,
                f"Project {facts.project} was closed on {facts.project_closed_on.isoformat()} "
                f"(status Done), before the work date {subject.spent_on.isoformat()}.",
                f"post a new project update that reopens it, or correct the date in {tool}, "
                "then Retry this job.",
            )
        )
    if facts.line_billable is False and subject.billable:
        problems.append(
            Problem(
                BILLABLE_ON_NON_BILLABLE,
                f"The entry is billable but its task goes to a non-billable line "
                f"({facts.line or 'no contract line'}).",
                f"mark the entry non-billable in {tool}, or map the task to a billable contract "
                "line, then Retry this job.",
            )
        )
    if facts.line_billable and not subject.billable and mismatch == MISMATCH_REJECT:
        problems.append(
            Problem(
                NON_BILLABLE_ON_BILLABLE,
                f"The entry is non-billable but its task goes to the billable line {facts.line}.",
                f"mark the entry billable in {tool}, or change the backend's billable mismatch "
                "setting to import such time as non-billable, then Retry this job.",
            )
        )
    return problems


def validate_expense(subject: Subject, facts: EntryFacts, amount: Decimal) -> list[Problem]:
    tool = facts.tool
    problems = _references(subject, facts)
    if not facts.category_product:
        category = subject.extra.get("category") or "(none)"
        problems.append(
            Problem(
                UNKNOWN_CATEGORY,
                f"{tool} expense category {category} is not mapped to an expense product.",
                "map it in Connectors > PSA > Expense categories (or set a default expense "
                "product on the backend), then Retry this job.",
            )
        )
    if amount <= 0:
        problems.append(
            Problem(
                AMOUNT_NOT_POSITIVE,
                f"The expense amount is {amount.normalize():f}.",
                f"correct the expense in {tool}, then Retry this job.",
            )
        )
    if facts.project_archived:
        problems.append(
            Problem(
                PROJECT_CLOSED,
                f"Project {facts.project} is archived in Odoo.",
                "restore the project, then Retry this job.",
            )
        )
    return problems


def report(subject: Subject, tool: str, problems: list[Problem]) -> str:
    """The needs-attention text: the entry, then each rule broken and how to fix it."""
    lines = [f"{subject.describe(tool)} was not imported:"]
    lines += [f"- [{p.rule}] {p}" for p in problems]
    return "\n".join(lines)
