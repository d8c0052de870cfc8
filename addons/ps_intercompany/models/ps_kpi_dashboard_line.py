from odoo import fields, models


class PsKpiDashboardLine(models.TransientModel):
    _inherit = "ps.kpi.dashboard.line"

    recharge_revenue = fields.Float(digits=(16, 2))
    recharge_cost = fields.Float(digits=(16, 2))
    margin_after_recharges = fields.Float(string="Margin after recharges", digits=(16, 2))
