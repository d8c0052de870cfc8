from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ps_sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Billed for contract line",
        index="btree_not_null",
        copy=True,
        readonly=True,
        help="Set by billing runs on every line they create, including lines (retainer overage) "
        "that Odoo does not link to the contract line.",
    )
