from odoo import fields, models

SIDE_LABELS = [
    ("a_receivable", "Company: receivable"),
    ("a_payable", "Company: payable"),
    ("b_receivable", "Other company: receivable"),
    ("b_payable", "Other company: payable"),
]


class PsIcNettingLine(models.Model):
    """An open item of a netting proposal and the part of it the netting offsets."""

    _name = "ps.ic.netting.line"
    _description = "Intercompany Netting Line"
    _order = "netting_id, side, id"

    netting_id = fields.Many2one("ps.ic.netting", required=True, ondelete="cascade", index=True)
    side = fields.Selection(SIDE_LABELS, required=True)
    company_id = fields.Many2one("res.company", required=True)
    move_line_id = fields.Many2one("account.move.line", string="Open item", required=True)
    document = fields.Char()
    currency_id = fields.Many2one(related="netting_id.currency_id")
    residual = fields.Monetary(string="Open", currency_field="currency_id")
    amount = fields.Monetary(string="Netted", currency_field="currency_id")
