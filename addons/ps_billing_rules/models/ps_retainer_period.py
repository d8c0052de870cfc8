from odoo import _, api, fields, models


class PsRetainerPeriod(models.Model):
    """One period of a retainer: its fee (invoiced in advance), what was used, and the true-up
    at period end (rollover, expiry, overage billed in arrears)."""

    _name = "ps.retainer.period"
    _description = "Retainer Period"
    _inherit = ["ps.billable.mixin"]
    _order = "sale_line_id, date_start"

    sale_line_id = fields.Many2one("sale.order.line", required=True, ondelete="cascade", index=True)
    order_id = fields.Many2one(related="sale_line_id.order_id", store=True, index=True)
    company_id = fields.Many2one(related="sale_line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="sale_line_id.currency_id")
    partner_id = fields.Many2one(related="order_id.partner_id", store=True)
    index = fields.Integer(required=True, help="0 for the first period of the retainer.")
    date_start = fields.Date(required=True)
    date_end = fields.Date(required=True)
    unit = fields.Selection(related="sale_line_id.ps_retainer_unit")
    included = fields.Float(readonly=True)
    rolled_in = fields.Float(string="Rolled in", readonly=True)
    consumed = fields.Float(readonly=True)
    overage = fields.Float(readonly=True)
    expired = fields.Float(readonly=True)
    rolled_out = fields.Float(string="Rolled out", readonly=True)
    rollover_buckets = fields.Json(
        readonly=True, help="Units carried to the next period, by origin."
    )
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed (trued up)")],
        default="open",
        required=True,
        index=True,
    )
    closed_on = fields.Date(readonly=True)
    # The fee uses the billable mixin fields; the overage has its own link.
    overage_invoice_line_id = fields.Many2one(
        "account.move.line", readonly=True, ondelete="set null"
    )
    overage_billed_amount = fields.Float(readonly=True)
    ledger_ids = fields.One2many("ps.retainer.ledger", "period_id", string="Ledger")

    _sql_constraints = [
        (
            "line_start_uniq",
            "unique(sale_line_id, date_start)",
            "A retainer has one record per period.",
        ),
    ]

    def _ledger(self, kind, day, units, note):
        self.ensure_one()
        self.env["ps.retainer.ledger"].sudo().create(
            {"period_id": self.id, "date": day, "kind": kind, "units": units, "note": note}
        )

    @api.depends("sale_line_id", "date_start", "date_end")
    def _compute_display_name(self):
        for period in self:
            period.display_name = _(
                "%(order)s retainer %(start)s → %(end)s",
                order=period.order_id.name,
                start=period.date_start,
                end=period.date_end,
            )


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
