from odoo import api, fields, models

from ..engine.constants import (
    REPORT_CONCURRENT,
    REPORT_ERROR,
    REPORT_LINE_TYPES,
    SKIP_REASONS,
)


class PsBillingRunLine(models.Model):
    """The run report: invoices created, items skipped (and why), groups that failed."""

    _name = "ps.billing.run.line"
    _description = "Billing Run Report Line"
    _order = "run_id, line_type, id"

    run_id = fields.Many2one("ps.billing.run", required=True, ondelete="cascade", index=True)
    line_type = fields.Selection(REPORT_LINE_TYPES, required=True)
    order_ids = fields.Many2many("sale.order", string="Contracts")
    order_names = fields.Char(compute="_compute_order_names", string="Contract")
    partner_id = fields.Many2one("res.partner", string="Customer")
    invoice_id = fields.Many2one("account.move")
    reason = fields.Selection(
        [*SKIP_REASONS, (REPORT_CONCURRENT, "Billed by another run"), (REPORT_ERROR, "Error")]
    )
    detail = fields.Text()

    @api.depends("order_ids")
    def _compute_order_names(self):
        for line in self:
            line.order_names = ", ".join(line.order_ids.mapped("name"))
