from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ps_deferred_revenue_account_id = fields.Many2one(
        related="company_id.ps_deferred_revenue_account_id", readonly=False
    )
    ps_unbilled_receivable_account_id = fields.Many2one(
        related="company_id.ps_unbilled_receivable_account_id", readonly=False
    )
    ps_wip_revenue_account_id = fields.Many2one(
        related="company_id.ps_wip_revenue_account_id", readonly=False
    )
    ps_billing_journal_id = fields.Many2one(
        related="company_id.ps_billing_journal_id", readonly=False
    )
    ps_auto_billing = fields.Boolean(related="company_id.ps_auto_billing", readonly=False)
    ps_wip_accrual = fields.Boolean(related="company_id.ps_wip_accrual", readonly=False)
