from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

BILLING_MODELS = [
    ("tm", "Time and materials"),
    ("fixed_fee", "Fixed fee"),
    ("milestone", "Milestones"),
    ("retainer", "Retainer"),
    ("non_billable", "Non-billable"),
]
RECOGNITION_METHODS = [
    ("straight_line", "Straight-line over the service period"),
    ("percent_complete", "Percent complete (hours / budget)"),
    ("reached", "When milestones are reached"),
    ("consumed", "As consumed (retainer hours)"),
    ("invoiced", "When invoiced (revenue account)"),
]
ROLLOVER_RULES = [
    ("none", "No rollover"),
    ("capped", "Roll over, capped"),
    ("expiring", "Roll over, expire after N periods"),
]
# Lines whose invoices are posted to deferred revenue and recognised by schedule.
DEFERRED_MODELS = ("fixed_fee", "retainer")


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
    # Retainers
    ps_retainer_unit = fields.Selection(
        [("hours", "Hours"), ("amount", "Amount")], string="Retainer in", default="hours"
    )
    ps_retainer_included = fields.Float(
        string="Included per period", help="Hours (or amount of work at standard rates) per period."
    )
    ps_retainer_period = fields.Selection(
        [("monthly", "Monthly"), ("quarterly", "Quarterly")],
        string="Retainer period",
        default="monthly",
    )
    ps_retainer_start = fields.Date(string="Retainer from")
    ps_retainer_end = fields.Date(string="Retainer until")
    ps_rollover_rule = fields.Selection(ROLLOVER_RULES, string="Rollover", default="none")
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
        defaults = {
            "fixed_fee": "straight_line",
            "retainer": "consumed",
            "milestone": "reached",
            "tm": "invoiced",
            "non_billable": False,
        }
        allowed = self._ps_allowed_methods()
        for line in self:
            if line.ps_recognition_method not in allowed.get(line.ps_billing_model, ()):
                line.ps_recognition_method = defaults.get(line.ps_billing_model)

    @api.model
    def _ps_allowed_methods(self):
        return {
            "fixed_fee": ("straight_line", "percent_complete"),
            "retainer": ("consumed", "straight_line"),
            "milestone": ("reached",),
            "tm": ("invoiced",),
        }

    @api.constrains(
        "ps_billing_model",
        "ps_recognition_method",
        "ps_service_start",
        "ps_service_end",
        "ps_budget_hours",
        "ps_retainer_included",
        "ps_retainer_start",
        "ps_installment_ids",
    )
    def _check_ps_terms(self):
        for line in self.filtered("ps_billing_model"):
            name = line.name.splitlines()[0] if line.name else line.product_id.display_name
            allowed = self._ps_allowed_methods().get(line.ps_billing_model)
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
                and line.ps_billing_model == "fixed_fee"
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
            if line.ps_billing_model == "retainer" and (
                line.ps_retainer_included <= 0 or not line.ps_retainer_start
            ):
                raise ValidationError(
                    _(
                        "Retainer line %s needs the units included per period and a start date.",
                        name,
                    )
                )
            if line.ps_billing_model == "fixed_fee":
                total = sum(line.ps_installment_ids.mapped("percentage"))
                if total > 100.0001:
                    raise ValidationError(
                        _(
                            "Installments of %(line)s add up to %(total)s%%: at most 100%%.",
                            line=name,
                            total=total,
                        )
                    )

    def _ps_is_deferred(self):
        self.ensure_one()
        return self.ps_billing_model in DEFERRED_MODELS

    @api.depends("timesheet_ids.ps_approval_state")
    def _compute_qty_delivered(self):
        # Approving (or reopening) time changes what is delivered.
        return super()._compute_qty_delivered()

    def _timesheet_compute_delivered_quantity_domain(self):
        # Odoo's own hook: only approved time is delivered (and so invoiceable).
        domain = super()._timesheet_compute_delivered_quantity_domain()
        return [*domain, ("ps_approval_state", "=", "approved")]
