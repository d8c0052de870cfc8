from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine.allocation import round_amount


class PsBillingInstallment(models.Model):
    """A dated share of a fixed-fee contract line, billed by the first run whose period covers
    its date. Its amount is its percentage of the line's total, rounded; when the installments
    make 100 %, the last one takes what the others leave, so they add up to the fee exactly and
    each invoice carries exactly its installment's amount."""

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
    percentage = fields.Float(
        required=True,
        help="Share of the line's amount, in percent (kept exact: 33.333333 % is a third).",
    )
    amount = fields.Monetary(compute="_compute_amount", currency_field="currency_id")

    @api.depends(
        "percentage",
        "date",
        "sale_line_id.price_subtotal",
        "sale_line_id.ps_installment_ids.percentage",
        "sale_line_id.ps_installment_ids.date",
    )
    def _compute_amount(self):
        for installment in self:
            installment.amount = installment._ps_scheduled_amount()

    def _ps_scheduled_amount(self):
        """Its share of the line's total; the last installment of a 100 % schedule takes the
        remainder of the others' rounded amounts."""
        self.ensure_one()
        sol = self.sale_line_id
        currency = self.currency_id
        if not currency:
            return 0.0
        digits = currency.decimal_places
        total = sol.price_subtotal
        siblings = sol.ps_installment_ids.sorted(
            lambda inst: (inst.date or fields.Date.today(), inst._origin.id or 0)
        )
        complete = abs(sum(siblings.mapped("percentage")) - 100.0) < 1e-6
        if complete and siblings and siblings[-1] == self:
            return round_amount(
                total
                - sum(
                    round_amount(total * other.percentage / 100.0, digits)
                    for other in siblings[:-1]
                ),
                digits,
            )
        return round_amount(total * self.percentage / 100.0, digits)

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
