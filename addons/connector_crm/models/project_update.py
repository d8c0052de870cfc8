from odoo import api, models


class ProjectUpdate(models.Model):
    """A project status update (on track, at risk...) is sent to the CRM."""

    _inherit = "project.update"

    @api.model_create_multi
    def create(self, vals_list):
        updates = super().create(vals_list)
        updates.sudo().project_id.reinvoiced_sale_order_id._crm_request_push()
        return updates
