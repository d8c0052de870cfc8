from odoo import _, fields, models
from odoo.exceptions import UserError

from ..engine.constants import BILLED, BILLING_STATES, REVIEW, UNBILLED


class PsBillableMixin(models.AbstractModel):
    """What every billable item (timesheet line, expense, milestone, installment, retainer period)
    records about its billing: the invoice line it was billed on (at most one, ever live), the
    standard and billed values (realization), and the reviewer's decisions."""

    _name = "ps.billable.mixin"
    _description = "Billable item"

    ps_billing_state = fields.Selection(
        BILLING_STATES,
        string="Billing status",
        default=UNBILLED,
        required=True,
        index=True,
        copy=False,
    )
    ps_invoice_line_id = fields.Many2one(
        "account.move.line",
        string="Billed on",
        index="btree_not_null",
        copy=False,
        ondelete="set null",
        readonly=True,
    )
    ps_invoice_id = fields.Many2one(
        "account.move",
        string="Billed on invoice",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    ps_credited_line_id = fields.Many2one(
        "account.move.line",
        string="Credited invoice line",
        copy=False,
        readonly=True,
        ondelete="set null",
        help="The invoice line a full credit note took this item back from (it is billed there "
        "again if the credit note is reset to draft or cancelled before the item is re-billed).",
    )
    ps_standard_amount = fields.Float(
        string="Standard value",
        copy=False,
        readonly=True,
        help="Value at the standard rate when billed, in the contract currency.",
        groups="ps_billing_rules.group_billing_user",
    )
    ps_invoiced_amount = fields.Float(
        string="Invoiced value",
        copy=False,
        readonly=True,
        help="Its share of the invoice line when billed (after write-ups and write-downs).",
        groups="ps_billing_rules.group_billing_user",
    )
    ps_billed_amount = fields.Float(
        string="Billed value",
        copy=False,
        readonly=True,
        help="Invoiced value less its share of partial credit notes.",
        groups="ps_billing_rules.group_billing_user",
    )
    ps_adjusted_amount = fields.Float(
        string="Adjusted value",
        copy=False,
        help="Set in the pre-bill review: what to bill instead of the standard value.",
        groups="ps_billing_rules.group_billing_user",
    )
    ps_adjustment_reason = fields.Char(copy=False, groups="ps_billing_rules.group_billing_user")
    ps_defer_until = fields.Date(
        string="Deferred to",
        copy=False,
        help="Not billed by runs whose period ends before this date.",
    )
    ps_nonbillable_reason = fields.Char(string="Non-billable because", copy=False)

    def _ps_check_not_billed(self, action):
        billed = self.filtered(lambda item: item.ps_billing_state == BILLED)
        if billed:
            raise UserError(
                _(
                    "%(count)s item(s) are already billed on %(invoices)s and cannot be %(action)s. "
                    "Cancel the draft invoice, or issue a credit note, to change them.",
                    count=len(billed),
                    invoices=", ".join(billed.mapped("ps_invoice_id.display_name")),
                    action=action,
                )
            )

    def _ps_release(self, to_review=False):
        """Back to unbilled (a cancelled or deleted draft, a removed line) or to the pre-bill
        review (a full credit note: the credited line is kept to undo it)."""
        if not self:
            return
        values = {
            "ps_billing_state": REVIEW if to_review else UNBILLED,
            "ps_invoice_line_id": False,
            "ps_invoice_id": False,
            "ps_billed_amount": 0.0,
        }
        if to_review:
            # The values billed are kept with the credited line: undoing the credit note
            # (reset to draft, cancelled) bills the items there again.
            for line, items in self.grouped("ps_invoice_line_id").items():
                items.write(dict(values, ps_credited_line_id=line.id))
        else:
            self.write(
                dict(
                    values,
                    ps_credited_line_id=False,
                    ps_standard_amount=0.0,
                    ps_invoiced_amount=0.0,
                )
            )
