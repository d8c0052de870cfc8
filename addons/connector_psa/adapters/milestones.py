"""Milestones (Kantata): milestone stories and billing milestones become ``project.milestone``;
one reached in the PSA is reached in Odoo, and ps_billing_rules bills it on the contract's
milestone line. A milestone un-reached in the PSA after Odoo billed it stays reached (a note
says so): billed data never changes silently.
"""

from decimal import Decimal

from ..engine.records import PsaMilestone
from .resolver import PROJECT

MILESTONE = "milestone"


class MilestoneMixin:
    def pull_milestones(self, stream, job):
        if not self.has_milestones:
            stream._record_pull_result(count=0)
            return None
        bindings = (
            self.env["connector.binding"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("remote_type", "=", PROJECT)])
        )
        specs = [
            {
                "operation": "psa.milestone.sync",
                "payload": {"project_ref": binding.remote_id, "project_id": binding.res_id},
                # One check per pull (a retried pull queues nothing twice).
                "idempotency_key": f"milestones:{binding.remote_id}:{job.id}",
                "record_key": f"milestones:{binding.remote_id}",
                "direction": "inbound",
                "source": "pull",
            }
            for binding in bindings
        ]
        self.env["connector.job"]._enqueue_many(self.backend, specs)
        stream._record_pull_result(count=len(specs))
        return None

    def sync_milestones(self, job):
        payload = job._payload()
        project = self.env["project.project"].browse(payload["project_id"]).exists()
        if not project:
            return None
        found = self.client().milestones(payload["project_ref"])
        # A billing milestone tied to a milestone story is one milestone: the billing one wins.
        covered = {m.task_id for m in found if m.kind == "billing" and m.task_id}
        milestones = [m for m in found if not (m.kind == "story" and m.remote_id in covered)]
        records = self.env["project.milestone"]
        for milestone in milestones:
            records |= self._apply_milestone(project, milestone)
        return records[:1] or None

    def _milestone_line(self, project):
        order = project.sale_order_id or project.sale_line_id.order_id
        lines = order.order_line.filtered(lambda sol: sol.ps_billing_model == "milestone")
        return lines if len(lines) == 1 else lines[:0]

    def _apply_milestone(self, project, milestone: PsaMilestone):
        Milestone = self.env["project.milestone"]
        bound = self._bound(MILESTONE, [milestone.remote_id])
        record = Milestone.browse(bound.get(milestone.remote_id)).exists()
        if not record:
            record = Milestone.search(
                [("project_id", "=", project.id), ("name", "=ilike", milestone.name)], limit=1
            )
            if not record:
                line = self._milestone_line(project)
                values = {
                    "name": milestone.name,
                    "project_id": project.id,
                    "deadline": milestone.due_date or False,
                }
                if line:
                    values["sale_line_id"] = line.id
                    if milestone.amount and line.price_subtotal:
                        share = Decimal(milestone.amount) / Decimal(str(line.price_subtotal))
                        values["quantity_percentage"] = float(min(share, Decimal(1)))
                record = Milestone.create(values)
            self._bind(record, MILESTONE, milestone.remote_id, updated_at=milestone.updated_at)
        if milestone.reached and not record.is_reached:
            day = min(milestone.due_date or self._today, self._today)
            record.write({"is_reached": True})
            record.reached_date = day
        elif not milestone.reached and record.is_reached:
            if record.ps_billing_state == "billed":
                self._note(
                    record,
                    f"{self.tool} marks this milestone as not reached, but it is billed on "
                    f"{record.ps_invoice_id.display_name}: it stays reached. Credit the invoice "
                    "if it must be billed again later.",
                )
            else:
                record.write({"is_reached": False})
        return record
