from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..engine import periods


class PsBillingRunWizard(models.TransientModel):
    _name = "ps.billing.run.wizard"
    _description = "Start a billing run"

    period_end = fields.Date(
        required=True,
        default=lambda self: (
            periods.month_start(fields.Date.context_today(self)) - timedelta(days=1)
        ),
    )
    invoice_date = fields.Date(required=True, default=fields.Date.context_today)
    company_ids = fields.Many2many("res.company", default=lambda self: self.env.company)
    partner_ids = fields.Many2many("res.partner", string="Customers")
    run_now = fields.Boolean(
        string="Run in this window",
        help="Bill right away and show the report (small runs). Otherwise the run is queued and "
        "the billing cron works through it in batches; its progress shows on the run.",
    )

    def action_start(self):
        self.ensure_one()
        if not self.env.user.has_group("ps_billing_rules.group_billing_user"):
            raise AccessError(
                _(
                    "Only Billing Users can run billing: ask one of them, or an administrator "
                    "for the Billing User role."
                )
            )
        run = self.env["ps.billing.run"].create(
            {
                "name": _("Billing run to %s", self.period_end),
                "period_end": self.period_end,
                "invoice_date": self.invoice_date,
                "company_ids": [(6, 0, self.company_ids.ids)],
                "partner_ids": [(6, 0, self.partner_ids.ids)],
            }
        )
        if self.run_now:
            run.action_run_now()
        else:
            run.action_start()
        return {
            "type": "ir.actions.act_window",
            "res_model": "ps.billing.run",
            "res_id": run.id,
            "view_mode": "form",
        }
