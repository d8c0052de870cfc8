from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine.constants import (
    CTX_KEEP_APPROVAL,
    ITEM_KINDS,
    KIND_DOWN_PAYMENT,
    KIND_TIMESHEET,
    PREBILL_ACTIONS,
    PREBILL_LINE_STATUS,
)


class PsPrebillLine(models.Model):
    _name = "ps.prebill.line"
    _description = "Pre-bill Review Item"
    _order = "prebill_id, status, date, id"

    prebill_id = fields.Many2one("ps.prebill", required=True, ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="prebill_id.currency_id")
    item_key = fields.Char(readonly=True)
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    kind = fields.Selection([*ITEM_KINDS, ("info", "Note")], readonly=True)
    date = fields.Date(readonly=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    description = fields.Char(readonly=True)
    quantity = fields.Float(string="Hours / quantity", readonly=True)
    rate = fields.Monetary(currency_field="currency_id", readonly=True)
    standard = fields.Monetary(string="Standard value", currency_field="currency_id", readonly=True)
    adjusted_amount = fields.Monetary(string="Bill", currency_field="currency_id")
    adjustment = fields.Monetary(compute="_compute_adjustment", currency_field="currency_id")
    will_bill = fields.Monetary(
        compute="_compute_adjustment",
        currency_field="currency_id",
        help="What the invoice will carry for this item, to the cent.",
    )
    reason = fields.Char(help="Required when the amount billed differs from the standard value.")
    action = fields.Selection(PREBILL_ACTIONS, default="bill", required=True)
    defer_to = fields.Date()
    transfer_sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Transfer to",
        domain="[('ps_billing_model', '=', 'tm'), ('order_id.state', '=', 'sale')]",
    )
    status = fields.Selection(PREBILL_LINE_STATUS, readonly=True, default="billable")
    status_detail = fields.Char(string="Why", readonly=True)
    returned = fields.Boolean(
        string="Credited", readonly=True, help="Returned by a full credit note."
    )
    billed_amount = fields.Monetary(currency_field="currency_id", readonly=True)

    @api.depends("adjusted_amount", "standard", "status", "action")
    def _compute_adjustment(self):
        # Invoice lines carry the reviewed amount exactly (quantities keep their precision);
        # held, over-cap, not-yet-billable, deferred or transferred items carry nothing now, so
        # that the column's total is the review's "To bill".
        for line in self:
            billed_now = line.status == "billable" and line.action == "bill"
            line.will_bill = line.adjusted_amount if billed_now else 0.0
            line.adjustment = line.adjusted_amount - line.standard

    @api.constrains("adjusted_amount", "reason", "action", "defer_to", "transfer_sale_line_id")
    def _check_decision(self):
        for line in self:
            if line.kind == "info":
                continue
            changed = (
                line.currency_id
                and line.currency_id.compare_amounts(line.adjusted_amount, line.standard) != 0
            )
            if changed and not line.reason:
                raise ValidationError(
                    _(
                        "%s: give the reason for writing it up or down (it is kept for realization reporting).",
                        line.description,
                    )
                )
            if line.adjusted_amount < 0 and line.kind != KIND_DOWN_PAYMENT:
                raise ValidationError(
                    _("%s: a billed amount cannot be negative.", line.description)
                )
            if line.action == "defer" and not line.defer_to:
                raise ValidationError(_("%s: choose the date to defer it to.", line.description))
            if line.action == "transfer" and (
                line.kind != KIND_TIMESHEET or not line.transfer_sale_line_id
            ):
                raise ValidationError(
                    _(
                        "%s: only time can be transferred, to a time-and-materials contract line.",
                        line.description,
                    )
                )

    def _transfer(self, timesheet):
        target = self.transfer_sale_line_id
        values = {"so_line": target.id, "is_so_line_edited": True}
        if target.order_id.project_id and target.order_id.project_id != timesheet.project_id:
            values.update(project_id=target.order_id.project_id.id, task_id=False)
        source = timesheet.so_line
        timesheet.with_context(**{CTX_KEEP_APPROVAL: True}).write(values)
        for order in source.order_id | target.order_id:
            order.message_post(
                body=_(
                    "Pre-bill review: %(hours)s h of %(employee)s on %(date)s transferred from %(origin)s to %(target)s.",
                    hours=timesheet.unit_amount,
                    employee=timesheet.employee_id.name,
                    date=timesheet.date,
                    origin=source.display_name,
                    target=target.display_name,
                )
            )
