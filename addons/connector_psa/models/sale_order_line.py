from odoo import api, models

from .sale_order import PROVISIONED_LINE_FIELDS


class SaleOrderLine(models.Model):
    """An amendment of a confirmed contract provisions its PSA project again."""

    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id.filtered(lambda o: o.state == "sale")._psa_queue_provisioning()
        return lines

    def write(self, vals):
        result = super().write(vals)
        if set(PROVISIONED_LINE_FIELDS) & set(vals):
            self.order_id.filtered(lambda o: o.state == "sale")._psa_queue_provisioning()
        return result
