from odoo import _, fields, models


class SaleOrderLine(models.Model):
    """Contract lines know the CRM line they came from and the deal version that added them."""

    _inherit = "sale.order.line"

    crm_line_id = fields.Char(string="CRM line ID", readonly=True, copy=False, index=True)
    crm_version_id = fields.Many2one(
        "connector.crm.deal.version", string="Deal version", readonly=True, copy=False, index=True
    )

    def _timesheet_create_project(self):
        """Odoo creates the project on confirmation (sale_project); a CRM engagement's project is
        a copy of the template mapped from the deal, as Odoo does for a product's template,
        named after the deal (not "Template: ...") and with stages: the template's, or the
        default engagement stages when it has none (as Odoo gives its own new projects), so
        that its tasks do not sit in a folded column without stage."""
        template = self.order_id.crm_project_template_id
        if not template or self.product_id.project_template_id:
            return super()._timesheet_create_project()
        self.ensure_one()
        values = self._timesheet_create_project_prepare_values()
        order = self.order_id
        values["name"] = f"{order.crm_deal_name or template.name} ({order.name})"
        if template.user_id:
            values["user_id"] = template.user_id.id
        project = template.copy(values)
        if not project.type_ids:
            project.type_ids = self._crm_default_stages()
        first_stage = project.type_ids.sorted("sequence")[:1]
        project.with_context(active_test=False).tasks.filtered(
            lambda task: not task.stage_id
        ).write({"stage_id": first_stage.id})
        project.tasks.write({"sale_line_id": self.id, "partner_id": self.order_id.partner_id.id})
        project.tasks.filtered("parent_id").write(
            {"sale_line_id": self.id, "sale_order_id": self.order_id.id}
        )
        self.write({"project_id": project.id})
        project.reinvoiced_sale_order_id = self.order_id
        return project

    def _crm_default_stages(self):
        Stage = self.env["project.task.type"]
        stages = Stage.union(
            *(
                self.env.ref(f"connector_crm.project_stage_{name}", raise_if_not_found=False)
                or Stage
                for name in ("todo", "in_progress", "done", "cancelled")
            )
        )
        return stages.filtered("active")

    def _crm_link_milestones(self):
        """Milestone-billed lines bill the project's milestones (those of the template, shared
        equally), or one milestone of their own when the template has none."""
        for line in self.filtered(lambda so_line: so_line.ps_billing_model == "milestone"):
            if line.env["project.milestone"].search_count([("sale_line_id", "=", line.id)]):
                continue
            project = line.project_id or line.order_id.project_id
            if not project:
                continue
            free = project.milestone_ids.filtered(lambda m: not m.sale_line_id)
            if free:
                free.write({"sale_line_id": line.id, "quantity_percentage": 1.0 / len(free)})
            else:
                self.env["project.milestone"].create(
                    {
                        "name": line.name.splitlines()[0] if line.name else _("Milestone"),
                        "project_id": project.id,
                        "sale_line_id": line.id,
                        "quantity_percentage": 1.0,
                    }
                )
