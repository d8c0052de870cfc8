from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PsBillingInstallment(models.Model):
    """A dated share of a fixed-fee contract line, billed by the first run whose period covers
    its date (the last one bills whatever the earlier ones left, so rounding never strands cents)."""

    _name = "ps.billing.installment"
    _description = "Fixed-fee Installment"
    _inherit = ["ps.billable.mixin"]
    _order = "sale_line_id, date, id"

    sale_line_id = fields.Many2one("sale.order.line", required=True, ondelete="cascade", index=True)
    order_id = fields.Many2one(related="sale_line_id.order_id", store=True, index=True)
    company_id = fields.Many2one(related="sale_line_id.company_id", store=True)
    currency_id = fields.Many2one(related="sale_line_id.currency_id")
    name = fields.Char(required=True, default=lambda self: _("Installment"))
    date = fields.Date(
        required=True, help="Billed by runs whose period ends on or after this date."
    )
    percentage = fields.Float(required=True, help="Share of the line's amount, in percent.")
    amount = fields.Monetary(compute="_compute_amount", currency_field="currency_id")

    @api.depends("percentage", "sale_line_id.price_subtotal")
    def _compute_amount(self):
        for installment in self:
            installment.amount = (
                installment.currency_id.round(
                    installment.sale_line_id.price_subtotal * installment.percentage / 100.0
                )
                if installment.currency_id
                else 0.0
            )

    @api.constrains("percentage")
    def _check_percentage(self):
        for installment in self:
            if not 0 < installment.percentage <= 100:
                raise ValidationError(_("An installment is a share between 0 and 100 percent."))

    def write(self, vals):
        if {"percentage", "date", "sale_line_id"} & set(vals):
            self._ps_check_not_billed(_("changed"))
        return super().write(vals)

    def unlink(self):
        self._ps_check_not_billed(_("deleted"))
        return super().unlink()
