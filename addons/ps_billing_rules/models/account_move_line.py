from odoo import fields, models

from ..engine.allocation import split_proportionally
from ..engine.constants import BILLED, CTX_RATING, RETAINER, REVIEW, UNBILLED

BILLABLE_MODELS = (
    "account.analytic.line",
    "hr.expense",
    "project.milestone",
    "ps.billing.installment",
    "ps.retainer.period",
)


class AccountMoveLine(models.Model):
    """Invoice lines know the work they bill: removing a line from a draft (or setting its
    quantity to 0) releases it, changing its amount changes the billed value of its items."""

    _inherit = "account.move.line"

    # Billed time is priced from its exact hours (1 h 20 at 90 is 120.00, not 1.33 x 90): the
    # quantity keeps its precision. Screens still show two decimals (the web client's default
    # for a float without digits) and the invoice PDF the unit of measure precision.
    quantity = fields.Float(digits=0)
    ps_sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Billed for contract line",
        index="btree_not_null",
        copy=True,
        readonly=True,
        help="Set by billing runs on every line they create, including lines (retainer overage) "
        "that Odoo does not link to the contract line.",
    )

    # ------------------------------------------------------------------------------------------
    # Edits of draft invoices
    # ------------------------------------------------------------------------------------------

    def write(self, vals):
        amounts = {"quantity", "price_unit", "discount"} & set(vals)
        result = super().write(vals)
        if amounts:
            drafts = self.filtered(
                lambda line: (
                    line.parent_state == "draft" and line.move_id.move_type == "out_invoice"
                )
            )
            if drafts:
                emptied = drafts.filtered(lambda line: line.currency_id.is_zero(line.quantity))
                emptied._ps_release_items()
                (drafts - emptied)._ps_write_billed_values({})
        return result

    def unlink(self):
        self.filtered(
            lambda line: line.parent_state == "draft" and line.move_id.move_type == "out_invoice"
        )._ps_release_items()
        return super().unlink()

    # ------------------------------------------------------------------------------------------
    # The items billed on lines
    # ------------------------------------------------------------------------------------------

    def _ps_billed_items(self, field="ps_invoice_line_id"):
        """{model: records} billed on these lines (or credited from them: ``field``)."""
        found = {}
        if not self.ids:
            return found
        for model in BILLABLE_MODELS:
            records = self.env[model].sudo().search([(field, "in", self.ids)])
            if records:
                found[model] = records
        return found

    def _ps_overage_periods(self):
        if not self.ids:
            return self.env["ps.retainer.period"]
        return (
            self.env["ps.retainer.period"]
            .sudo()
            .search([("overage_invoice_line_id", "in", self.ids)])
        )

    def _ps_release_items(self, to_review=False):
        """Release the work billed on these lines: unbilled (a removed line, a cancelled draft)
        or back to the pre-bill review (a full credit note). Time a retainer period consumed
        stays consumed: it only loses its link to the fee line (its period is closed)."""
        for model, records in self._ps_billed_items().items():
            if model == "account.analytic.line":
                # Odoo's own link, so its locks and "invoiced" flags follow.
                records.with_context(**{CTX_RATING: True}).write({"timesheet_invoice_id": False})
                covered = records.filtered(lambda line: line.so_line.ps_billing_model == RETAINER)
                covered.write({"ps_invoice_line_id": False, "ps_invoice_id": False})
                records -= covered
            records._ps_release(to_review=to_review)
        self._ps_overage_periods().write(
            {
                "overage_invoice_line_id": False,
                "overage_billed_amount": 0.0,
                "overage_billing_state": REVIEW if to_review else UNBILLED,
            }
        )

    def _ps_restore_credited_items(self):
        """Items a full credit note of these lines sent to the review, not billed again since:
        billed here again (the credit note was reset to draft or cancelled)."""
        for model, records in self._ps_billed_items("ps_credited_line_id").items():
            for line, items in (
                records.filtered(lambda item: item.ps_billing_state == REVIEW)
                .grouped("ps_credited_line_id")
                .items()
            ):
                items.write(
                    {
                        "ps_billing_state": BILLED,
                        "ps_invoice_line_id": line.id,
                        "ps_invoice_id": line.move_id.id,
                        "ps_credited_line_id": False,
                    }
                )
                if model == "account.analytic.line":
                    items.with_context(**{CTX_RATING: True}).write(
                        {"timesheet_invoice_id": line.move_id.id}
                    )
                if model == "ps.retainer.period":
                    for period in items:
                        period._ps_link_consumed_time(line)

    def _ps_write_billed_values(self, credited):
        """Each item's billed value: its share of its line's amount less the credit of that
        line (``credited``: {line id: amount})."""
        for line in self:
            digits = line.currency_id.decimal_places
            net = line.price_subtotal - credited.get(line.id, 0.0)
            items = [
                record
                for records in line._ps_billed_items().values()
                for record in records
                if record.ps_billing_state == BILLED
                and not (
                    record._name == "account.analytic.line"
                    and record.so_line.ps_billing_model == RETAINER
                )
            ]
            if items:
                weights = [item.ps_invoiced_amount or item.ps_standard_amount for item in items]
                shares = split_proportionally(max(net, 0.0), weights, digits)
                for item, share in zip(items, shares, strict=True):
                    if line.parent_state == "draft" and not credited:
                        item.ps_invoiced_amount = share
                    item.ps_billed_amount = share
            line._ps_overage_periods().write({"overage_billed_amount": max(net, 0.0)})

    def _ps_move_items_to(self, new_line):
        """Bill the work of this line on ``new_line`` (a replacing draft)."""
        self.ensure_one()
        for model, records in self._ps_billed_items().items():
            records.write({"ps_invoice_line_id": new_line.id, "ps_invoice_id": new_line.move_id.id})
            if model == "account.analytic.line":
                records.with_context(**{CTX_RATING: True}).write(
                    {"timesheet_invoice_id": new_line.move_id.id}
                )
        self._ps_overage_periods().write({"overage_invoice_line_id": new_line.id})
        new_line._ps_write_billed_values({})
