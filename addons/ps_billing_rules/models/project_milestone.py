from odoo import _, models


class ProjectMilestone(models.Model):
    """Reached milestones of a milestone-billed contract line are billable items."""

    _name = "project.milestone"
    _inherit = ["project.milestone", "ps.billable.mixin"]

    def write(self, vals):
        if "is_reached" in vals and not vals["is_reached"]:
            self._ps_check_not_billed(_("marked not reached"))
        if {"quantity_percentage", "sale_line_id", "product_uom_qty"} & set(vals):
            self._ps_check_not_billed(_("changed"))
        return super().write(vals)
