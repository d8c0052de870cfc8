from odoo import _, fields, models
from odoo.exceptions import UserError

BILLING_STATES = [
    ("unbilled", "Unbilled"),
    ("billed", "Billed"),
    ("review", "Back in review"),
    ("non_billable", "Non-billable"),
]


class PsBillableMixin(models.AbstractModel):
    """What every billable item (timesheet line, expense, milestone, installment, retainer period)
    records about its billing: the invoice line it was billed on (at most one, ever live), the
    standard and billed values (realization), and the reviewer's decisions."""

    _name = "ps.billable.mixin"
    _description = "Billable item"

    ps_billing_state = fields.Selection(
        BILLING_STATES,
        string="Billing status",
        default="unbilled",
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
    ps_standard_amount = fields.Float(
        string="Standard value",
        copy=False,
        readonly=True,
        help="Value at the standard rate when billed, in the contract currency.",
        groups="ps_billing_rules.group_billing_user",
    )
    ps_billed_amount = fields.Float(
        string="Billed value",
        copy=False,
        readonly=True,
        help="Value on the invoice line (after write-ups and write-downs).",
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
        billed = self.filtered(lambda item: item.ps_billing_state == "billed")
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
        """Back to unbilled (a cancelled draft) or to the pre-bill review (a full credit note)."""
        self.write(
            {
                "ps_billing_state": "review" if to_review else "unbilled",
                "ps_invoice_line_id": False,
                "ps_invoice_id": False,
                "ps_standard_amount": 0.0,
                "ps_billed_amount": 0.0,
            }
        )
