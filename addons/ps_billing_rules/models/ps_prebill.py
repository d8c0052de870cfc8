from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine.caps import allocate_under_cap
from ..engine.constants import (
    KIND_RETAINER_OVERAGE,
    KIND_TIMESHEET,
    NON_BILLABLE,
    PREBILL_STATES,
    REVIEW,
    SKIP_REASONS,
    UNBILLED,
)


class PsPrebill(models.Model):
    """The pre-bill worksheet of one contract up to a date: every billable item with its hours,
    rate and standard value; a Billing User writes lines up or down (with a reason), defers,
    transfers or marks them non-billable, then generates the draft invoice."""

    _name = "ps.prebill"
    _description = "Pre-bill Review"
    _inherit = ["mail.thread"]
    _order = "period_end desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    sale_order_id = fields.Many2one("sale.order", string="Contract", required=True, index=True)
    partner_id = fields.Many2one(related="sale_order_id.partner_id", store=True)
    company_id = fields.Many2one(related="sale_order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    period_end = fields.Date(string="Work up to", required=True)
    state = fields.Selection(
        PREBILL_STATES,
        default="draft",
        required=True,
        tracking=True,
    )
    line_ids = fields.One2many("ps.prebill.line", "prebill_id", string="Items")
    invoice_id = fields.Many2one("account.move", readonly=True)
    standard_total = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    billed_total = fields.Monetary(
        compute="_compute_totals",
        currency_field="currency_id",
        string="To bill",
        help="What the invoice will carry (after write-ups and write-downs).",
    )
    adjustment_total = fields.Monetary(compute="_compute_totals", currency_field="currency_id")
    realization = fields.Float(
        compute="_compute_totals",
        string="Realization (%)",
        help="Billed ÷ standard value of what is billed.",
    )
    held_count = fields.Integer(compute="_compute_totals")

    @api.depends("sale_order_id", "period_end")
    def _compute_name(self):
        for prebill in self:
            prebill.name = _(
                "%(contract)s up to %(date)s",
                contract=prebill.sale_order_id.name,
                date=prebill.period_end,
            )

    @api.depends(
        "line_ids.standard",
        "line_ids.adjusted_amount",
        "line_ids.action",
        "line_ids.status",
        "invoice_id.amount_untaxed",
    )
    def _compute_totals(self):
        for prebill in self:
            billed = prebill.line_ids.filtered(
                lambda item: item.status == "billable" and item.action == "bill"
            )
            standard = sum(billed.mapped("standard"))
            to_bill = sum(billed.mapped("will_bill"))
            if prebill.state == "invoiced":
                to_bill = sum(billed.mapped("billed_amount"))
            prebill.standard_total = standard
            prebill.billed_total = to_bill
            prebill.adjustment_total = to_bill - standard
            prebill.realization = 100.0 * to_bill / standard if standard else 0.0
            prebill.held_count = len(prebill.line_ids.filtered(lambda item: item.status == "held"))

    # ------------------------------------------------------------------------------------------

    @api.model
    def _for_contract(self, order, period_end):
        if not order.ps_governed:
            raise UserError(
                _("%s has no billing model on its lines: Odoo's own invoicing applies.", order.name)
            )
        prebill = self.search(
            [
                ("sale_order_id", "=", order.id),
                ("period_end", "=", period_end),
                ("state", "=", "draft"),
            ],
            limit=1,
        ) or self.create({"sale_order_id": order.id, "period_end": period_end})
        prebill.action_refresh()
        return prebill

    def action_refresh(self):
        """Rebuild the worksheet from the contract's current unbilled items (decisions already
        saved on the items are kept). Each item shows the standard value and the amount the
        invoice will carry for it, to the cent."""
        Collector = self.env["ps.billing.collector"].sudo()
        Builder = self.env["ps.invoice.builder"].sudo()
        Hold = self.env["ps.billing.hold"]
        for prebill in self.filtered(lambda p: p.state == "draft"):
            order = prebill.sale_order_id
            currency = order.currency_id
            prebill.line_ids.unlink()
            holds = Hold._active_holds_index(order.company_id.ids)
            prefetched = Collector._prefetch(order, prebill.period_end)
            items, skipped = Collector._collect(
                order,
                prebill.period_end,
                fields.Date.context_today(self),
                include_review=True,
                prefetched=prefetched,
            )
            items = Collector._drop_unconfigured(order, items, skipped)
            held, free = {}, []
            for item in items:
                hold = Hold._hold_for(
                    holds,
                    partner=order.partner_id,
                    order=order,
                    project=item.project,
                    task=item.task,
                    timesheet=item.record if item.kind == KIND_TIMESHEET else None,
                )
                if hold:
                    held[item.key] = hold
                else:
                    free.append(item)
            free = Collector._drop_beyond_sold(order, free, skipped, prefetched["invoiced"])
            Builder._lines(free, currency)
            Builder._lines([item for item in items if item.key in held], currency)
            shown = {item.key for item in free} | set(held)
            values = [
                prebill._line_values(item, held.get(item.key))
                for item in items
                if item.key in shown
            ]
            deductions = Collector._down_payment_items(order, free)
            for item in deductions:
                skipped.append(
                    (
                        order,
                        item.description,
                        "down_payment",
                        _(
                            "%s will be deducted from the invoice",
                            currency.format(-item.preset_standard),
                        ),
                    )
                )
            reasons = dict(SKIP_REASONS, down_payment=_("Down payment"))
            for _order, what, reason, detail in skipped:
                values.append(
                    {
                        "prebill_id": prebill.id,
                        "kind": "info",
                        "description": what,
                        "status": "info",
                        "status_detail": f"{reasons.get(reason, reason)}: {detail}",
                    }
                )
            lines = self.env["ps.prebill.line"].create(values)
            if order.ps_cap_amount:
                decision = allocate_under_cap(
                    [(item.key, item.amount) for item in free],
                    order.ps_cap_amount,
                    order._ps_invoiced_amounts().get(order.id, 0.0),
                    order.ps_cap_approved_excess,
                    rounding=currency.rounding,
                )
                over = set(decision.over_cap)
                lines.filtered(lambda line, over=over: line.item_key in over).write(
                    {
                        "status": "over_cap",
                        "status_detail": _(
                            "exceeds the not-to-exceed amount: needs a Billing Manager's approval"
                        ),
                    }
                )
        return True

    def _line_values(self, item, hold):
        record = item.record
        # Overage is decided by the true-up, not per item: shown, not adjustable.
        decidable = record and item.kind != KIND_RETAINER_OVERAGE
        return {
            "prebill_id": self.id,
            "item_key": item.key,
            "res_model": record._name if decidable else False,
            "res_id": record.id if decidable else False,
            "kind": item.kind,
            "date": item.day,
            "employee_id": item.employee.id if item.employee else False,
            "description": item.description,
            "quantity": item.quantity,
            "rate": item.price_unit,
            "standard": item.standard,
            "adjusted_amount": item.amount,
            "reason": record.ps_adjustment_reason if record and item.adjusted else False,
            "status": "held" if hold else "billable",
            "status_detail": hold._describe() if hold else False,
            "returned": bool(decidable and record.ps_billing_state == REVIEW),
        }

    def _apply_decisions(self):
        """Write the reviewer's decisions onto the items themselves, so that the billing run (and
        any later run) honours them."""
        self.ensure_one()
        for line in self.line_ids.filtered(
            lambda item: item.res_model and item.status == "billable"
        ):
            record = self.env[line.res_model].sudo().browse(line.res_id).exists()
            if not record:
                continue
            if line.action == "non_billable":
                record.write(
                    {
                        "ps_billing_state": NON_BILLABLE,
                        "ps_nonbillable_reason": line.reason or _("marked in the pre-bill review"),
                    }
                )
            elif line.action == "defer":
                record.write({"ps_defer_until": line.defer_to})
            elif line.action == "transfer":
                line._transfer(record)
            else:
                changed = line.currency_id.compare_amounts(line.adjusted_amount, line.standard) != 0
                record.write(
                    {
                        "ps_adjusted_amount": line.adjusted_amount if changed else 0.0,
                        "ps_adjustment_reason": line.reason if changed else False,
                        "ps_billing_state": UNBILLED
                        if record.ps_billing_state == REVIEW
                        else record.ps_billing_state,
                        "ps_defer_until": False,
                    }
                )

    def action_save_decisions(self):
        """Write the decisions onto the items and rebuild the worksheet (nothing is invoiced)."""
        self.ensure_one()
        self._apply_decisions()
        self.action_refresh()
        return self._notify(_("Decisions saved: runs and this review will honour them."), "success")

    def _notify(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_generate_invoice(self):
        """Apply the decisions and bill this contract now: one native draft invoice."""
        self.ensure_one()
        if not self.env.user.has_group("ps_billing_rules.group_billing_user"):
            raise AccessError(
                _(
                    "Only Billing Users can generate invoices from the pre-bill review: ask one "
                    "of them, or an administrator for the Billing User role."
                )
            )
        if self.state != "draft":
            raise UserError(_("This review was already invoiced: open %s.", self.invoice_id.name))
        self._apply_decisions()
        run = self.env["ps.billing.run"]._bill_contracts(
            self.sale_order_id,
            self.period_end,
            origin=_("Pre-bill review %s", self.name),
            kind="prebill",
        )
        invoice = run.invoice_ids[:1]
        if not invoice:
            # Not an error: the decisions are saved (an exception would roll them back).
            self.action_refresh()
            return self._notify(_("Decisions saved. %s", run._nothing_to_bill_message()), "warning")
        for line in self.line_ids.filtered(
            lambda item: item.res_model and item.action == "bill" and item.status == "billable"
        ):
            record = self.env[line.res_model].sudo().browse(line.res_id)
            if record.ps_invoice_id == invoice:
                line.billed_amount = record.ps_billed_amount
        self.write({"state": "invoiced", "invoice_id": invoice.id})
        self.message_post(
            body=_(
                "Draft invoice %(invoice)s generated: %(billed)s billed for %(standard)s of standard value "
                "(realization %(realization).1f%%).",
                invoice=invoice.name or invoice.display_name,
                billed=self.currency_id.format(self.billed_total),
                standard=self.currency_id.format(self.standard_total),
                realization=self.realization,
            )
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": invoice.id,
            "view_mode": "form",
        }
