from odoo import fields, models


class PsKpiDashboardLine(models.TransientModel):
    _name = "ps.kpi.dashboard.line"
    _description = "Services KPI dashboard line"
    _order = "delivered_value desc, name"

    dashboard_id = fields.Many2one("ps.kpi.dashboard", ondelete="cascade")
    name = fields.Char(string="By")
    capacity_hours = fields.Float(string="Capacity (h)")
    billable_hours = fields.Float(string="Billable (h)")
    utilization = fields.Float(string="Utilization (%)", digits=(16, 1))
    billed_standard = fields.Float(
        string="Standard value of billed time",
        digits=(16, 2),
        help="Billed time at its standard rates: realization = billed value / this.",
    )
    billed_value = fields.Float(string="Billed value of time", digits=(16, 2))
    realization = fields.Float(string="Realization (%)", digits=(16, 1))
    effective_rate = fields.Float(digits=(16, 2), help="Billed value of time / billed hours.")
    other_billed = fields.Float(string="Milestones and expenses billed", digits=(16, 2))
    earned_value = fields.Float(
        string="Earned on fixed fees and retainers",
        digits=(16, 2),
        help="What fixed fees and retainers earned in the range (as the period close will "
        "recognise it), whether or not the period is closed yet.",
    )
    delivered_value = fields.Float(
        digits=(16, 2),
        help="Billed value of time, milestones and expenses plus what fixed fees and retainers "
        "earned: the revenue of the margin.",
    )
    revenue = fields.Float(
        string="Revenue (accounting)",
        digits=(16, 2),
        help="Invoice lines on revenue accounts (draft and posted) plus recognition entries.",
    )
    cost = fields.Float(digits=(16, 2))
    margin = fields.Float(digits=(16, 2), help="Delivered value minus cost.")
    backlog = fields.Float(digits=(16, 2))
    wip_value = fields.Float(string="WIP", digits=(16, 2))
