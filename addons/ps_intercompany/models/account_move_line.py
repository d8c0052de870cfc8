from odoo import _, fields, models
from odoo.exceptions import UserError

from .ps_ic_recharge import CTX_ENGINE

# Changing these on a recharge line would put the invoice out of step with its items.
PRICED_FIELDS = {"quantity", "price_unit", "discount"}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ps_ic_recharge_line_id = fields.Many2one(
        "ps.ic.recharge.line",
        string="Recharge line",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )

    def _ps_ic_recharge_line(self):
        """The recharge line of this line, or of the line it reverses (a credit note made by
        Odoo's reversal wizard is mirrored before its lines are linked)."""
        self.ensure_one()
        line = self.sudo()
        if line.ps_ic_recharge_line_id:
            return line.ps_ic_recharge_line_id
        origin = line.move_id.reversed_entry_id
        for candidate in origin.invoice_line_ids:
            if candidate.name == line.name and candidate.product_id == line.product_id:
                return candidate.ps_ic_recharge_line_id
        return line.ps_ic_recharge_line_id

    def _prepare_account_move_line(self, dest_move, dest_company):
        """A mirrored line on the agreement's intercompany account (cost in the receiver,
        revenue in the provider) and, for a recharge, with the receiving project's analytic
        distribution (OCA copies neither: the product's default account, no analytics)."""
        vals = super()._prepare_account_move_line(dest_move, dest_company)
        if self.display_type != "product":
            return vals
        agreement = self.move_id._ps_ic_agreement()
        if agreement:
            if dest_company == agreement.receiver_company_id:
                vals["account_id"] = agreement.cost_account_id.id
            elif dest_company == agreement.provider_company_id:
                vals["account_id"] = agreement.revenue_account_id.id
        line = self._ps_ic_recharge_line()
        if line:
            vals["ps_ic_recharge_line_id"] = line.id
            analytic = line.project_id.sudo().account_id
            if analytic and dest_company == line.receiver_company_id:
                vals["analytic_distribution"] = {str(analytic.id): 100.0}
        if "product_uom_id" in vals and not self.product_uom_id:
            vals["product_uom_id"] = False
        if line:
            vals.update(self._ps_ic_mirror_amounts(dest_move, vals))
        return vals

    def _ps_ic_mirror_amounts(self, dest_move, vals):
        """Partner and amounts of a mirrored recharge line given at creation (Odoo would write
        each line again to set them; it still checks them when it syncs the taxes)."""
        tax_ids = vals.get("tax_ids", [[None, None, []]])[0][2]
        if self.env["account.tax"].browse(tax_ids).filtered("price_include"):
            return {}
        currency = dest_move.currency_id
        amount = currency.round(
            vals["quantity"] * vals["price_unit"] * (1 - (vals.get("discount") or 0.0) / 100.0)
        )
        direction = dest_move.direction_sign  # bills debit their costs, invoices credit revenue
        rate = dest_move.invoice_currency_rate or 1.0
        return {
            "partner_id": dest_move.commercial_partner_id.id,
            "amount_currency": direction * amount,
            "balance": dest_move.company_currency_id.round(direction * amount / rate),
        }

    def write(self, vals):
        if PRICED_FIELDS & set(vals) and not self.env.context.get(CTX_ENGINE):
            products = self.filtered(lambda line: line.display_type == "product")
            mirrors = products.filtered(lambda line: line.move_id.auto_generated)
            if mirrors:
                move = mirrors[:1].move_id
                raise UserError(
                    _(
                        "%(move)s mirrors %(origin)s of %(company)s: its quantities and prices "
                        "follow that document (one source of truth for both companies). Ask "
                        "%(company)s for a credit note or a corrected invoice.",
                        move=move.display_name,
                        origin=move.sudo().auto_invoice_id.name,
                        company=move.sudo().auto_invoice_id.company_id.name,
                    )
                )
            locked = products.filtered(
                lambda line: (
                    line.ps_ic_recharge_line_id
                    and line.move_id.ps_ic_recharge_id.invoice_id == line.move_id
                )
            )
            if locked:
                raise UserError(
                    _(
                        "%(move)s recharges work at the transfer price of its agreement: its "
                        "quantities and prices follow the recharged items. Correct the work (or "
                        "the agreement) and run the recharge again, or delete the draft to "
                        "release its items.",
                        move=locked[:1].move_id.display_name,
                    )
                )
        return super().write(vals)
