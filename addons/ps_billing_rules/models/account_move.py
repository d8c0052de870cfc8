from odoo import _, fields, models

BILLABLE_MODELS = (
    "account.analytic.line",
    "hr.expense",
    "project.milestone",
    "ps.billing.installment",
    "ps.retainer.period",
)


class AccountMove(models.Model):
    """Keep billed items true to their invoices: a cancelled or deleted draft releases them, a
    full credit note sends them back to the pre-bill review, a partial one is a write-down."""

    _inherit = "account.move"

    ps_show_timesheets = fields.Boolean(
        compute="_compute_ps_show_timesheets",
        help="A contract billed here asks for the timesheet detail on the invoice PDF.",
    )

    def _compute_ps_show_timesheets(self):
        for move in self:
            orders = (
                move.invoice_line_ids.sale_line_ids.order_id
                | move.invoice_line_ids.ps_sale_line_id.order_id
            )
            move.ps_show_timesheets = any(orders.mapped("ps_timesheet_detail"))

    def _ps_billed_items(self):
        """{model: records} billed on these invoices."""
        found = {}
        for model in BILLABLE_MODELS:
            records = self.env[model].sudo().search([("ps_invoice_id", "in", self.ids)])
            if records:
                found[model] = records
        return found

    def _ps_release_items(self, to_review=False):
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        if not invoices:
            return
        for model, records in invoices._ps_billed_items().items():
            if model == "account.analytic.line":
                # Odoo's own link, so its locks and "invoiced" flags follow.
                records.with_context(ps_rating=True).write({"timesheet_invoice_id": False})
                covered = records.filtered(lambda line: line.so_line.ps_billing_model == "retainer")
                records -= covered
                # Time a retainer covered goes back to its period (trued up again next run).
                covered.write(
                    {
                        "ps_billing_state": "unbilled",
                        "ps_invoice_line_id": False,
                        "ps_invoice_id": False,
                    }
                )
            records._ps_release(to_review=to_review)
        overage = (
            self.env["ps.retainer.period"]
            .sudo()
            .search([("overage_invoice_line_id.move_id", "in", invoices.ids)])
        )
        overage.write({"overage_invoice_line_id": False, "overage_billed_amount": 0.0})

    def button_cancel(self):
        result = super().button_cancel()
        self.filtered(lambda move: move.state == "cancel")._ps_release_items()
        return result

    def unlink(self):
        self.filtered(lambda move: move.state == "draft")._ps_release_items()
        return super().unlink()

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        for refund in posted.filtered(
            lambda move: move.move_type == "out_refund" and move.reversed_entry_id
        ):
            refund._ps_apply_credit_note()
        return posted

    def _ps_apply_credit_note(self):
        """A credit note of a billed invoice: full -> items back to review; partial -> write-down."""
        self.ensure_one()
        original = self.reversed_entry_id
        currency = original.currency_id
        refunded = sum(
            original.reversal_move_ids.filtered(lambda move: move.state == "posted").mapped(
                "amount_untaxed"
            )
        )
        if currency.compare_amounts(refunded, original.amount_untaxed) >= 0:
            original._ps_release_items(to_review=True)
            original.message_post(
                body=_(
                    "Fully credited by %s: its billed work is back in the pre-bill review "
                    "(it is not billed again by the next run without a review).",
                    self.name,
                )
            )
            return
        ratio = self.amount_untaxed / original.amount_untaxed if original.amount_untaxed else 0.0
        for _model, records in original._ps_billed_items().items():
            for record in records:
                record.ps_billed_amount = currency.round(record.ps_billed_amount * (1 - ratio))
        original.message_post(
            body=_(
                "Partially credited by %(refund)s (%(amount)s): its items stay billed and the credit "
                "counts as a write-down.",
                refund=self.name,
                amount=currency.format(self.amount_untaxed),
            )
        )
