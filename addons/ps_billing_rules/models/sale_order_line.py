from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine import periods as period_logic
from ..engine.allocation import split_evenly
from ..engine.constants import (
    ALLOWED_RECOGNITION,
    APPROVED,
    BILLING_MODELS,
    DEFAULT_RECOGNITION,
    DEFERRED_MODELS,
    FIXED_FEE,
    NO_ROLLOVER,
    PERIOD_KINDS,
    RECOGNITION_METHODS,
    RETAINER,
    RETAINER_UNITS,
    ROLLOVER_RULES,
)

# connector_crm imports these from here (kept as names of this module).
__all__ = ["BILLING_MODELS", "DEFERRED_MODELS", "ROLLOVER_RULES", "SaleOrderLine"]


class SaleOrderLine(models.Model):
    """A contract line: its billing model and, per model, its terms."""

    _inherit = "sale.order.line"

    ps_billing_model = fields.Selection(
        BILLING_MODELS,
        string="Billing model",
        help="Empty: Odoo's own invoicing. Set on any line, the whole contract is billed by the "
        "billing rules (runs, pre-bill review, holds, caps).",
    )
    ps_installment_ids = fields.One2many(
        "ps.billing.installment", "sale_line_id", string="Installments", copy=True
    )
    ps_recognition_method = fields.Selection(
        RECOGNITION_METHODS,
        string="Revenue recognition",
        compute="_compute_ps_recognition_method",
        store=True,
        readonly=False,
    )
    ps_service_start = fields.Date(string="Service from")
    ps_service_end = fields.Date(string="Service to")
    ps_budget_hours = fields.Float(
        string="Budgeted hours", help="For percent-complete recognition."
    )
    # Retainers: a periodic fee, explicit about what was sold.
    ps_period_count = fields.Integer(
        string="Periods",
        compute="_compute_ps_period_count",
        store=True,
        readonly=False,
        help="Number of periodic fees the contract sold. The line's total is split over them "
        "(the last takes the remainder); billing never bills more periods: amend this number "
        "to extend the retainer.",
    )
    ps_period_fee = fields.Monetary(
        string="Fee per period",
        currency_field="currency_id",
        compute="_compute_ps_period_fee",
        store=True,
        help="The line's total divided by its periods (the last fee takes the remainder).",
    )
    ps_period_last_fee = fields.Monetary(
        string="Last fee",
        currency_field="currency_id",
        compute="_compute_ps_period_fee",
        store=True,
    )
    ps_retainer_unit = fields.Selection(RETAINER_UNITS, string="Retainer in", default="hours")
    ps_retainer_included = fields.Float(
        string="Included per period", help="Hours (or amount of work at standard rates) per period."
    )
    ps_retainer_period = fields.Selection(PERIOD_KINDS, string="Retainer period", default="monthly")
    ps_retainer_start = fields.Date(string="Retainer from")
    ps_retainer_end = fields.Date(
        string="Retainer until",
        compute="_compute_ps_retainer_end",
        store=True,
        help="End of the last period sold (from the start and the number of periods).",
    )
    ps_rollover_rule = fields.Selection(ROLLOVER_RULES, string="Rollover", default=NO_ROLLOVER)
    ps_rollover_cap = fields.Float(string="Rollover cap", help="Most unused units carried over.")
    ps_rollover_expiry = fields.Integer(string="Rolled units expire after (periods)", default=3)
    ps_overage_rate = fields.Monetary(
        string="Overage rate",
        currency_field="currency_id",
        help="Per hour beyond what is included (or per unit of amount for amount retainers).",
    )
    ps_retainer_period_ids = fields.One2many(
        "ps.retainer.period", "sale_line_id", string="Retainer periods"
    )
    ps_invoice_line_ids = fields.One2many(
        "account.move.line", "ps_sale_line_id", string="Billed invoice lines", readonly=True
    )

    @api.depends("ps_billing_model")
    def _compute_ps_recognition_method(self):
        for line in self:
            if line.ps_recognition_method not in ALLOWED_RECOGNITION.get(line.ps_billing_model, ()):
                line.ps_recognition_method = DEFAULT_RECOGNITION.get(line.ps_billing_model, False)

    @api.depends("ps_billing_model", "product_uom_qty")
    def _compute_ps_period_count(self):
        """By default a whole quantity is the number of periods ("12 x 2,000": twelve fees of
        2,000) and any other quantity one period: what was sold, nothing more."""
        for line in self:
            quantity = line.product_uom_qty
            if line.ps_billing_model != RETAINER:
                line.ps_period_count = 0
            else:
                line.ps_period_count = (
                    int(quantity) if quantity >= 1 and quantity == int(quantity) else 1
                )

    @api.depends("ps_period_count", "price_subtotal", "currency_id")
    def _compute_ps_period_fee(self):
        for line in self:
            if line.ps_period_count >= 1 and line.currency_id:
                fees = split_evenly(
                    line.price_subtotal, line.ps_period_count, line.currency_id.decimal_places
                )
                line.ps_period_fee, line.ps_period_last_fee = fees[0], fees[-1]
            else:
                line.ps_period_fee = line.ps_period_last_fee = 0.0

    @api.depends("ps_retainer_start", "ps_retainer_period", "ps_period_count")
    def _compute_ps_retainer_end(self):
        for line in self:
            if line.ps_retainer_start and line.ps_period_count >= 1:
                bounds = period_logic.periods_between(
                    line.ps_retainer_period or "monthly",
                    line.ps_retainer_start,
                    period_logic.add_months(
                        line.ps_retainer_start,
                        period_logic.months_in(line.ps_retainer_period or "monthly")
                        * (line.ps_period_count - 1),
                    ),
                )
                line.ps_retainer_end = bounds[-1][1]
            else:
                line.ps_retainer_end = False

    @api.constrains(
        "ps_billing_model",
        "ps_recognition_method",
        "ps_service_start",
        "ps_service_end",
        "ps_budget_hours",
        "ps_retainer_included",
        "ps_retainer_start",
        "ps_period_count",
        "ps_installment_ids",
    )
    def _check_ps_terms(self):
        for line in self.filtered("ps_billing_model"):
            name = line.name.splitlines()[0] if line.name else line.product_id.display_name
            allowed = ALLOWED_RECOGNITION.get(line.ps_billing_model)
            if allowed and line.ps_recognition_method not in allowed:
                raise ValidationError(
                    _(
                        "Contract line %(line)s: %(model)s revenue is recognised %(allowed)s.",
                        line=name,
                        model=dict(BILLING_MODELS)[line.ps_billing_model].lower(),
                        allowed=" or ".join(dict(RECOGNITION_METHODS)[m].lower() for m in allowed),
                    )
                )
            if (
                line.ps_recognition_method == "straight_line"
                and line.ps_billing_model == FIXED_FEE
                and not (line.ps_service_start and line.ps_service_end)
            ):
                raise ValidationError(
                    _(
                        "Contract line %s: straight-line recognition needs the service period (from, to).",
                        name,
                    )
                )
            if line.ps_recognition_method == "percent_complete" and line.ps_budget_hours <= 0:
                raise ValidationError(
                    _("Contract line %s: percent-complete recognition needs budgeted hours.", name)
                )
            if line.ps_billing_model == RETAINER:
                if line.ps_retainer_included <= 0 or not line.ps_retainer_start:
                    raise ValidationError(
                        _(
                            "Retainer line %s needs the units included per period and a start date.",
                            name,
                        )
                    )
                if line.ps_period_count < 1:
                    raise ValidationError(
                        _(
                            "Retainer line %s: give the number of periods sold (at least one).",
                            name,
                        )
                    )
            if line.ps_billing_model == FIXED_FEE:
                total = sum(line.ps_installment_ids.mapped("percentage"))
                if total > 100.0001:
                    raise ValidationError(
                        _(
                            "Installments of %(line)s add up to %(total)s%%: at most 100%%.",
                            line=name,
                            total=round(total, 4),
                        )
                    )

    def write(self, vals):
        # A change of what a confirmed contract sold is an amendment: visible in its chatter.
        watched = {"ps_period_count", "product_uom_qty", "price_unit"} & set(vals)
        before = {}
        if watched:
            for line in self.filtered(
                lambda sol: sol.ps_billing_model == RETAINER and sol.state == "sale"
            ):
                before[line.id] = (line.ps_period_count, line.price_subtotal)
        result = super().write(vals)
        for line in self.filtered(lambda sol: sol.id in before):
            count, total = before[line.id]
            if (count, total) != (line.ps_period_count, line.price_subtotal):
                line.order_id.message_post(
                    body=_(
                        "Retainer %(line)s amended: %(old_count)s period(s) for %(old_total)s → "
                        "%(count)s period(s) for %(total)s (fee per period %(fee)s).",
                        line=line.product_id.display_name,
                        old_count=count,
                        old_total=line.currency_id.format(total),
                        count=line.ps_period_count,
                        total=line.currency_id.format(line.price_subtotal),
                        fee=line.currency_id.format(line.ps_period_fee),
                    )
                )
        return result

    def _ps_is_deferred(self):
        self.ensure_one()
        return self.ps_billing_model in DEFERRED_MODELS

    def _compute_qty_invoiced(self):
        """Odoo rounds each invoice line's quantity up to the unit's rounding before adding them
        up (three thirds of a fee would make 1.02 units, 1 h 20 would be 1.34 h): lines billed by
        the rules add up their exact quantities (each invoice line carries its exact share)."""
        governed = self.filtered("ps_billing_model")
        super(SaleOrderLine, self - governed)._compute_qty_invoiced()
        for line in governed:
            quantity = 0.0
            for invoice_line in line._get_invoice_lines():
                move = invoice_line.move_id
                if move.state == "cancel" and move.payment_state != "invoicing_legacy":
                    continue
                converted = invoice_line.product_uom_id._compute_quantity(
                    invoice_line.quantity, line.product_uom, round=False
                )
                if move.move_type == "out_invoice":
                    quantity += converted
                elif move.move_type == "out_refund":
                    quantity -= converted
            line.qty_invoiced = quantity

    @api.depends("timesheet_ids.ps_approval_state")
    def _compute_qty_delivered(self):
        # Approving (or reopening) time changes what is delivered.
        return super()._compute_qty_delivered()

    def _timesheet_compute_delivered_quantity_domain(self):
        # Odoo's own hook: only approved time is delivered (and so invoiceable).
        domain = super()._timesheet_compute_delivered_quantity_domain()
        return [*domain, ("ps_approval_state", "=", APPROVED)]
