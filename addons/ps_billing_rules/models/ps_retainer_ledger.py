from odoo import fields, models


class PsRetainerLedger(models.Model):
    """The consumption ledger: every movement of a retainer's units, per period."""

    _name = "ps.retainer.ledger"
    _description = "Retainer Ledger Entry"
    _order = "date, id"

    period_id = fields.Many2one("ps.retainer.period", required=True, ondelete="cascade", index=True)
    sale_line_id = fields.Many2one(related="period_id.sale_line_id", store=True, index=True)
    company_id = fields.Many2one(related="period_id.company_id", store=True)
    date = fields.Date(required=True)
    kind = fields.Selection(
        [
            ("included", "Included"),
            ("rollover_in", "Rolled in"),
            ("consumption", "Used"),
            ("overage", "Overage (billed)"),
            ("expiry", "Expired"),
            ("rollover_out", "Rolled over"),
        ],
        required=True,
    )
    units = fields.Float(help="Positive adds to the balance, negative takes from it.")
    note = fields.Char()
