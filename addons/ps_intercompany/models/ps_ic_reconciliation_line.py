from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..engine import matching, reasons


class PsIcReconciliationLine(models.Model):
    """A document matched to its mirror (or alone), or a balance of the pair, with the amounts
    in the transaction currency, each company's currency and the group currency. Differences
    carry their reason and the controller's explanation (kept across refreshes)."""

    _name = "ps.ic.reconciliation.line"
    _description = "Intercompany Reconciliation Line"
    _order = "reconciliation_id, status desc, line_type, provider_company_id, provider_date, id"

    reconciliation_id = fields.Many2one(
        "ps.ic.reconciliation", required=True, ondelete="cascade", index=True
    )
    key = fields.Char(required=True, index=True)
    line_type = fields.Selection(
        [("document", "Document"), ("balance", "Receivable / payable"), ("pnl", "Revenue / cost")],
        required=True,
    )
    kind = fields.Selection(
        [
            (matching.INVOICE, "Invoice / credit note"),
            (matching.PAYMENT, "Payment"),
            (matching.NETTING, "Netting"),
            (matching.ENTRY, "Journal entry"),
        ]
    )
    provider_company_id = fields.Many2one("res.company", string="Provider")
    receiver_company_id = fields.Many2one("res.company", string="Receiver")
    provider_move_id = fields.Many2one("account.move", string="Provider document")
    receiver_move_id = fields.Many2one("account.move", string="Receiver document")
    provider_ref = fields.Char(string="Provider side")
    receiver_ref = fields.Char(string="Receiver side")
    provider_state = fields.Char()
    receiver_state = fields.Char()
    provider_date = fields.Date()
    receiver_date = fields.Date()
    currency_id = fields.Many2one("res.currency", string="Currency")
    receiver_currency_id = fields.Many2one("res.currency", string="Receiver currency")
    provider_amount = fields.Monetary(currency_field="currency_id")
    receiver_amount = fields.Monetary(currency_field="currency_id")
    difference = fields.Monetary(currency_field="currency_id")
    provider_company_currency_id = fields.Many2one(
        related="provider_company_id.currency_id", string="Provider currency"
    )
    receiver_company_currency_id = fields.Many2one(
        related="receiver_company_id.currency_id", string="Receiver company currency"
    )
    provider_company_amount = fields.Monetary(currency_field="provider_company_currency_id")
    receiver_company_amount = fields.Monetary(currency_field="receiver_company_currency_id")
    group_currency_id = fields.Many2one(related="reconciliation_id.group_currency_id")
    provider_group_amount = fields.Monetary(currency_field="group_currency_id")
    receiver_group_amount = fields.Monetary(currency_field="group_currency_id")
    group_difference = fields.Monetary(currency_field="group_currency_id")
    status = fields.Selection([("tied", "Tied"), ("difference", "Difference")], required=True)
    reason = fields.Selection(reasons.DIFFERENCE_REASONS)
    reasons_text = fields.Char(string="Reasons")
    explanation = fields.Text(help="Why this difference is right, or what will fix it.")

    def write(self, vals):
        result = super().write(vals)
        if "explanation" in vals:
            self.reconciliation_id._update_state()
        return result

    def _open(self, move):
        if not move:
            return False
        try:
            move.check_access("read")
        except AccessError as exc:
            raise AccessError(
                _(
                    "%s belongs to a company you do not work in: ask its accountant.",
                    move.sudo().name,
                )
            ) from exc
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
        }

    def action_open_provider_move(self):
        self.ensure_one()
        self.check_access("read")
        return self._open(
            self.provider_move_id.with_context(allowed_company_ids=self.env.user.company_ids.ids)
        )

    def action_open_receiver_move(self):
        self.ensure_one()
        self.check_access("read")
        return self._open(
            self.receiver_move_id.with_context(allowed_company_ids=self.env.user.company_ids.ids)
        )
