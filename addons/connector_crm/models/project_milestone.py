from odoo import models


class ProjectMilestone(models.Model):
    """A milestone reached (or not any more) changes what the CRM is told."""

    _inherit = "project.milestone"

    def write(self, vals):
        result = super().write(vals)
        if "is_reached" in vals:
            orders = (
                self.sudo().sale_line_id.order_id | self.sudo().project_id.reinvoiced_sale_order_id
            )
            orders._crm_request_push()
        return result
