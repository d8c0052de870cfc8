from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PsRateCard(models.Model):
    """A set of effective-dated billing rates: the company's default card, a customer's card or
    a contract's card (resolved in that order, most specific first)."""

    _name = "ps.rate.card"
    _description = "Rate Card"
    _inherit = ["mail.thread"]
    _order = "level, name"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    level = fields.Selection(
        [("contract", "Contract"), ("customer", "Customer"), ("company", "Company default")],
        required=True,
        default="company",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        index=True,
        tracking=True,
        domain=[("is_company", "=", True)],
    )
    sale_order_id = fields.Many2one("sale.order", string="Contract", index=True, tracking=True)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        tracking=True,
        help="Rates are in this currency and converted to the contract's currency on the invoice date.",
    )
    line_ids = fields.One2many("ps.rate.card.line", "card_id", string="Rates", copy=True)

    @api.constrains("level", "partner_id", "sale_order_id")
    def _check_scope(self):
        for card in self:
            if card.level == "customer" and not card.partner_id:
                raise ValidationError(_("Customer card %s: choose the customer.", card.name))
            if card.level == "contract" and not card.sale_order_id:
                raise ValidationError(_("Contract card %s: choose the contract.", card.name))
            if card.level == "company" and (card.partner_id or card.sale_order_id):
                raise ValidationError(
                    _(
                        "Company card %s applies to everyone: clear its customer and contract.",
                        card.name,
                    )
                )

    def action_rerate_unbilled(self):
        """Apply the current rates to every unbilled timesheet that a card of this kind governs."""
        self.env["sale.order"]._ps_check_rerate_allowed()
        contracts = self.env["sale.order"]
        for card in self:
            if card.level == "contract":
                contracts |= card.sale_order_id
            elif card.level == "customer":
                contracts |= self.env["sale.order"].search(
                    [("partner_id", "child_of", card.partner_id.id), ("ps_governed", "=", True)]
                )
            else:
                contracts |= self.env["sale.order"].search(
                    [("company_id", "=", card.company_id.id), ("ps_governed", "=", True)]
                )
        return contracts.action_ps_rerate_unbilled()
