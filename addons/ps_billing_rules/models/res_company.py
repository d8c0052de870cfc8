import pytz

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ps_deferred_revenue_account_id = fields.Many2one(
        "account.account",
        string="Deferred revenue account",
        help="Fixed-fee and retainer invoice lines post here; recognition entries move the "
        "earned part to revenue.",
    )
    ps_unbilled_receivable_account_id = fields.Many2one(
        "account.account", string="Unbilled receivable (WIP) account"
    )
    ps_wip_revenue_account_id = fields.Many2one(
        "account.account",
        string="WIP accrual revenue account",
        help="Revenue account credited by the period-end WIP accrual.",
    )
    ps_billing_journal_id = fields.Many2one(
        "account.journal",
        string="Recognition and WIP journal",
        domain="[('type', '=', 'general'), ('company_id', '=', id)]",
    )
    ps_auto_billing = fields.Boolean(
        string="Scheduled billing runs",
        help="Bill governed contracts automatically the day after their billing cycle ends.",
    )
    ps_wip_accrual = fields.Boolean(string="Accrue WIP at period end")

    def _ps_timezone(self):
        """The company's timezone: billing periods end at midnight there."""
        self.ensure_one()
        tz = self.resource_calendar_id.tz or self.partner_id.tz or "UTC"
        return tz if tz in pytz.all_timezones_set else "UTC"
