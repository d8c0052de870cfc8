from odoo import fields, models

from ..engine import reasons


class PsIcRechargeRunLine(models.Model):
    """The run report: recharges made, and groups of items skipped with the reason."""

    _name = "ps.ic.recharge.run.line"
    _description = "Intercompany Recharge Run Report Line"
    _order = "run_id, line_type, provider_company_id, receiver_company_id, id"

    run_id = fields.Many2one("ps.ic.recharge.run", required=True, ondelete="cascade", index=True)
    line_type = fields.Selection(
        [("recharge", "Recharged"), ("note", "Note"), ("skip", "Skipped"), ("error", "Error")],
        required=True,
    )
    agreement_id = fields.Many2one("ps.ic.agreement")
    provider_company_id = fields.Many2one("res.company", string="Provider")
    receiver_company_id = fields.Many2one("res.company", string="Receiver")
    recharge_id = fields.Many2one("ps.ic.recharge", ondelete="set null")
    employee_id = fields.Many2one("hr.employee")
    project_id = fields.Many2one("project.project")
    reason = fields.Selection(reasons.SKIP_REASONS)
    item_count = fields.Integer(string="Items")
    hours = fields.Float(digits=(16, 2))
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency")
    detail = fields.Text()
