"""From the PSA's references to Odoo's records, for a batch of entries at once.

A person's employee and a project come from their bindings (a project not yet bound is linked
when a confirmed contract carries its PSA code); a task or service gives the contract line from
the task mappings (a project's default contract line when the task has no mapping). The
results are cached for the batch: a page of 2,000 entries costs a handful of queries, not one
per entry. ``resolve`` also gathers the facts validation needs.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine.validation import EntryFacts, Subject

USER = "user"
PROJECT = "project"


@dataclass
class Resolution:
    employee: object
    project: object
    task: object  # project.task or empty
    sale_line: object  # sale.order.line or empty
    line_billable: bool | None
    task_mapped: bool
    facts: EntryFacts
    subject: Subject
    mapping: object = None
    problems: list = field(default_factory=list)


class Resolver:
    def __init__(self, adapter, entries):
        self.adapter = adapter
        self.env = adapter.env
        self.backend = adapter.backend
        self.employees = self._load(USER, "hr.employee", {e.user_id for e in entries})
        self.projects = self._load(PROJECT, "project.project", {e.project_id for e in entries})
        self._link_unbound_projects(entries)
        self.maps = self._load_task_maps()
        self.day_hours = self._load_day_hours(entries)
        self._targets = {}  # (project id, task mapping id) -> what they give an entry

    # Loading -------------------------------------------------------------------------------------

    def _load(self, remote_type, model, remote_ids):
        bound = self.adapter._bound(remote_type, remote_ids)
        records = self.env[model].browse(set(bound.values())).exists()
        by_id = {record.id: record for record in records}
        return {rid: by_id[res_id] for rid, res_id in bound.items() if res_id in by_id}

    def _link_unbound_projects(self, entries):
        """A PSA project not bound yet is linked to the project of the confirmed contract that
        carries its code (the contract reference: what provisioning gives it)."""
        self.codes = {}
        for remote_id in sorted({e.project_id for e in entries} - set(self.projects)):
            code = self.adapter.remote_project_code(remote_id)
            self.codes[remote_id] = code
            if not code:
                continue
            orders = self.env["sale.order"].search(
                [
                    ("psa_project_code", "=", code),
                    ("state", "=", "sale"),
                    ("project_id", "!=", False),
                ]
            )
            if len(orders.project_id) != 1:
                continue
            try:
                self.adapter._bind(orders.project_id, PROJECT, remote_id)
            except BusinessError:
                continue  # bound to another PSA project: a person decides (unknown project)
            self.projects[remote_id] = orders.project_id

    def _load_task_maps(self):
        projects = [p.id for p in self.projects.values()]
        rows = self.env["connector.psa.task.map"].search(
            [("backend_id", "=", self.backend.id), ("project_id", "in", projects)]
        )
        maps = {}
        for row in rows:
            if row.psa_task_ref:
                maps[(row.project_id.id, row.psa_task_ref)] = row
            if row.psa_task_name:
                maps.setdefault((row.project_id.id, "name:" + row.psa_task_name.lower()), row)
        return maps

    def _load_day_hours(self, entries):
        employees = [e.id for e in self.employees.values()]
        days = sorted({e.spent_on for e in entries})
        if not employees or not days:
            return {}
        self.env["account.analytic.line"].flush_model(["employee_id", "date", "unit_amount"])
        self.env.cr.execute(
            """SELECT employee_id, date, SUM(unit_amount) FROM account_analytic_line
               WHERE project_id IS NOT NULL AND employee_id = ANY(%s) AND date = ANY(%s)
               GROUP BY employee_id, date""",
            (employees, days),
        )
        return {(emp, day): Decimal(str(total)) for emp, day, total in self.env.cr.fetchall()}

    def book(self, employee, day, hours):
        key = (employee.id, day)
        self.day_hours[key] = self.day_hours.get(key, Decimal(0)) + Decimal(str(hours))

    # Resolving one entry ----------------------------------------------------------------------

    def task_mapping(self, project, entry):
        """The mapping row of the entry's task (created from the project's default line, or
        unmapped, when the task is new: it then shows in the mapping list)."""
        task_ref = entry.task_id or ""
        row = self.maps.get((project.id, task_ref))
        if row is None and entry.task_name:
            row = self.maps.get((project.id, "name:" + entry.task_name.lower()))
            if row is not None and not row.psa_task_ref and task_ref:
                row.psa_task_ref = task_ref
        if row is None:
            row = self.env["connector.psa.task.map"].create(
                {
                    "backend_id": self.backend.id,
                    "project_id": project.id,
                    "psa_project_ref": entry.project_id,
                    "psa_task_ref": task_ref or False,
                    "psa_task_name": entry.task_name or False,
                    "sale_line_id": project.sale_line_id.id,
                }
            )
            self.maps[(project.id, task_ref)] = row
        return row

    def _target(self, project, mapping):
        """What a project and a task mapping give every entry: contract line, task, the facts
        of validation about them (read once per batch, not once per entry)."""
        facts = {"project": project.display_name or None}
        sale_line = self.env["sale.order.line"]
        task = self.env["project.task"]
        line_billable = None
        mapped = False
        if project:
            facts["project_archived"] = not project.active
            if project.last_update_status == "done" and project.last_update_id:
                facts["project_closed_on"] = project.last_update_id.date
            if mapping is not None:
                mapped = bool(mapping.sale_line_id or mapping.non_billable)
                sale_line = mapping.sale_line_id
                line_billable = bool(
                    sale_line
                    and not mapping.non_billable
                    and sale_line.ps_billing_model != "non_billable"
                )
                task = mapping.task_id or (
                    sale_line.task_id if sale_line.task_id.project_id == project else task
                )
                start = sale_line.ps_service_start or sale_line.ps_retainer_start
                end = sale_line.ps_service_end or sale_line.ps_retainer_end
                facts.update(
                    line=sale_line.display_name if sale_line else None,
                    line_billable=line_billable if mapped else None,
                    task_mapped=mapped,
                    period_start=start or project.date_start or None,
                    period_end=end or project.date or None,
                )
        return {
            "facts": facts,
            "sale_line": sale_line,
            "task": task,
            "line_billable": line_billable,
            "mapped": mapped,
        }

    def resolve(self, entry, *, quantity=None, line=None, kind="time entry"):
        tool = self.adapter.tool
        employee = self.employees.get(entry.user_id) or self.env["hr.employee"]
        project = self.projects.get(entry.project_id) or self.env["project.project"]
        user_label = entry.user_name or entry.user_email or f"user {entry.user_id}"
        subject = Subject(
            kind=kind,
            remote_id=entry.remote_id,
            user=user_label,
            spent_on=entry.spent_on,
            project=entry.project_name or entry.project_id,
            task=getattr(entry, "task_name", None),
            quantity=quantity,
            billable=entry.billable,
        )
        values = {
            "tool": tool,
            "employee": employee.name or None,
            "project_code": self.codes.get(entry.project_id),
        }
        mapping = None
        if project and kind == "time entry":
            mapping = self.task_mapping(project, entry)
        key = (project.id, mapping.id if mapping is not None else None)
        if key not in self._targets:  # the same for every entry of a project and task mapping
            self._targets[key] = self._target(project, mapping)
        target = self._targets[key]
        values.update(target["facts"])
        if employee and quantity is not None:
            booked = self.day_hours.get((employee.id, entry.spent_on), Decimal(0))
            if line and line.employee_id == employee and line.date == entry.spent_on:
                booked -= Decimal(str(line.unit_amount))
            values["hours_booked_that_day"] = booked
        return Resolution(
            employee=employee,
            project=project,
            task=target["task"],
            sale_line=target["sale_line"],
            line_billable=target["line_billable"],
            task_mapped=target["mapped"],
            facts=EntryFacts(**values),
            subject=subject,
            mapping=mapping,
        )
