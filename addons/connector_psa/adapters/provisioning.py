"""Odoo -> PSA: a confirmed governed contract with a project becomes a PSA project.

The client (when missing), the project (code = the contract reference, budget, billing basis,
dates), one task or service per contract line, and the people assigned to the Odoo project. An
amendment runs the same job again: the budget, dates and tasks follow. Neither API has
idempotency keys: everything is looked up (by code, reference or name) before it is created, so
a retried job finds what its first attempt made. Every object is bound (External IDs), and each
task is mapped to its contract line for the time import.
"""

from decimal import Decimal

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import provisioning
from .resolver import PROJECT, USER

CLIENT = "client"
TASK = "task"


class ProvisioningMixin:
    def provision(self, job):
        order_id = job._payload()["order_id"]
        order = self.env["sale.order"].browse(order_id).exists()
        if not order:
            return None  # deleted since: nothing to create
        if order.state != "sale" or not order.project_id:
            raise BusinessError(
                f"Contract {order.name} is not confirmed with a project: confirm it (its project "
                "is created on confirmation) before it is provisioned, then Retry."
            )
        contract, missing = self._contract_of(order)
        project_plan = provisioning.plan(contract)
        remote = self._provision_project(order, project_plan)
        if missing:
            self._note(
                order,
                f"{self.tool} project {project_plan.code}: not assigned (no {self.tool} user "
                f"linked to them): {', '.join(missing)}. Link them in Connectors > PSA > People "
                "and provision again.",
            )
        self._note(
            order,
            f"Provisioned in {self.tool} ({self.backend.name}): project {project_plan.code} "
            f"(id {remote.remote_id}), {len(project_plan.tasks)} task(s), "
            f"{len(project_plan.people)} person(s).",
        )
        return order

    def _contract_of(self, order):
        project = order.project_id
        hours_category = self.env.ref("uom.uom_categ_wtime")
        lines = []
        for line in order.order_line.filtered(
            lambda sol: not sol.display_type and not sol.is_expense and sol.product_id
        ):
            lines.append(
                provisioning.ContractLine(
                    ref=str(line.id),
                    name=(line.name or line.product_id.name).splitlines()[0][:250],
                    billing_model=line.ps_billing_model or None,
                    quantity=Decimal(str(line.product_uom_qty)),
                    in_hours=line.product_uom.category_id == hours_category,
                    price_unit=Decimal(str(line.price_unit)),
                    amount=Decimal(str(line.price_subtotal)),
                    starts_on=line.ps_service_start or line.ps_retainer_start or None,
                    ends_on=line.ps_service_end or line.ps_retainer_end or None,
                )
            )
        employees = (
            project.sale_line_employee_ids.employee_id
            | project.user_id.employee_id
            | project.task_ids.user_ids.employee_id
        )
        remote_users, missing = [], []
        for employee in employees.sorted("name"):
            binding = self.env["connector.binding"]._find_binding(self.backend, employee, USER)
            if binding:
                remote_users.append(binding.remote_id)
            else:
                missing.append(employee.name)
        contract = provisioning.Contract(
            reference=order._psa_code(),
            name=project.name or order.name,
            client=order.partner_id.commercial_partner_id.name,
            currency=order.currency_id.name,
            ordered_on=order.date_order.date() if order.date_order else None,
            lines=tuple(lines),
            people=tuple(remote_users),
            project_starts_on=project.date_start or None,
            project_ends_on=project.date or None,
        )
        return contract, missing

    def _provision_project(self, order, plan):  # pragma: no cover - per tool
        raise NotImplementedError

    def _map_task(self, order, plan_task, project_ref, task_ref, task_name):
        """The mapping contract line <-> PSA task (what the time import reads), and a binding."""
        line = self.env["sale.order.line"].browse(int(plan_task.ref))
        Map = self.env["connector.psa.task.map"]
        project = order.project_id
        row = Map.search(
            [
                ("backend_id", "=", self.backend.id),
                ("project_id", "=", project.id),
                ("psa_task_ref", "=", task_ref),
            ],
            limit=1,
        )
        values = {
            "backend_id": self.backend.id,
            "project_id": project.id,
            "psa_project_ref": project_ref,
            "psa_task_ref": task_ref,
            "psa_task_name": task_name,
            "sale_line_id": line.id if plan_task.billable else False,
            "non_billable": not plan_task.billable,
            "task_id": line.task_id.id if line.task_id.project_id == project else False,
        }
        if row:
            # A mapping a person changed since is theirs: only an empty one is filled.
            if not row.sale_line_id and not row.non_billable:
                row.write({k: values[k] for k in ("sale_line_id", "non_billable", "task_id")})
        else:
            Map.create(values)
        binding = self.env["connector.binding"]._find_binding(self.backend, line, TASK)
        if not binding:
            self._bind(line, TASK, f"{project_ref}:{task_ref}")

    def _bind_project(self, order, remote_project):
        project = order.project_id
        binding = self.env["connector.binding"]._find_binding(self.backend, project, PROJECT)
        if binding and binding.remote_id != remote_project.remote_id:
            raise BusinessError(
                f"Project {project.display_name} is already linked to {self.tool} project "
                f"{binding.remote_id}, but {self.tool} project {remote_project.remote_id} carries "
                f"the code {remote_project.code}. Archive one of them in {self.tool} (or unlink "
                "the project in Connectors > External IDs), then Retry."
            )
        self._bind(project, PROJECT, remote_project.remote_id, updated_at=remote_project.updated_at)
