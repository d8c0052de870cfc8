from odoo import fields, models

from ..engine import periods

RECHARGE_MEASURES = ("recharge_revenue", "recharge_cost", "margin_after_recharges")


class PsKpiDashboard(models.TransientModel):
    """The services KPI dashboard, by the employee's company too (utilization of a company's
    people wherever they worked), with margins after recharges."""

    _inherit = "ps.kpi.dashboard"

    group_by = fields.Selection(
        selection_add=[("employee_company_id", "Employee's company")],
        ondelete={"employee_company_id": "set default"},
    )

    def action_compute(self):
        action = super().action_compute()
        groupby = self.group_by if self.group_by != "period" else "period:month"
        groups = self.env["ps.kpi.fact"]._read_group(
            [("period", ">=", periods.month_start(self.date_from)), ("period", "<=", self.date_to)],
            [groupby],
            [f"{measure}:sum" for measure in RECHARGE_MEASURES],
        )
        by_label = {}
        for key, *sums in groups:
            # The dashboard's own labels (a month as 2026-03, a record by name even of another
            # company), or the recharge columns would miss their rows.
            by_label[self._group_label(key)] = dict(zip(RECHARGE_MEASURES, sums, strict=True))
        for line in self.line_ids:
            values = by_label.get(line.name)
            if values:
                line.write(
                    {
                        "recharge_revenue": values["recharge_revenue"] or 0.0,
                        "recharge_cost": values["recharge_cost"] or 0.0,
                        "margin_after_recharges": values["margin_after_recharges"] or 0.0,
                    }
                )
        return action
