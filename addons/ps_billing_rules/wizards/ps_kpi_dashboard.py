from odoo import _, api, fields, models
from odoo.tools import date_utils

from ..engine import periods

GROUP_BY = [
    ("employee_id", "Employee"),
    ("project_id", "Project"),
    ("partner_id", "Customer"),
    ("company_id", "Company"),
    ("period", "Month"),
]
# Summed from the stored facts (earned revenue is computed for the exact range instead).
FACT_MEASURES = (
    "capacity_hours",
    "billable_hours",
    "nonbillable_hours",
    "billed_standard",
    "billed_value",
    "billed_hours",
    "other_billed",
    "cost",
    "expense_cost",
    "revenue",
    "backlog",
    "wip_value",
)


class PsKpiDashboard(models.TransientModel):
    """Ratios over the stored facts (pivot tables cannot divide sums) for an exact date range:
    utilization, realization, effective rate, delivered value and margin, backlog and WIP, by
    employee, project, customer, company or month. It opens computed, on this year to date."""

    _name = "ps.kpi.dashboard"
    _description = "Services KPI dashboard"

    date_from = fields.Date(
        required=True,
        default=lambda self: date_utils.start_of(fields.Date.context_today(self), "year"),
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    group_by = fields.Selection(GROUP_BY, required=True, default="employee_id")
    show_empty = fields.Boolean(
        string="Show rows without time",
        help="People with capacity but no time (and no amounts) in the range are hidden unless "
        "this is ticked.",
    )
    line_ids = fields.One2many("ps.kpi.dashboard.line", "dashboard_id", readonly=True)
    refreshed = fields.Boolean(help="The facts were refreshed for this range already.")

    @api.depends("date_from", "date_to", "group_by")
    def _compute_display_name(self):
        labels = dict(self._fields["group_by"]._description_selection(self.env))
        for dashboard in self:
            dashboard.display_name = _(
                "KPIs %(start)s → %(end)s by %(by)s",
                start=dashboard.date_from,
                end=dashboard.date_to,
                by=(labels.get(dashboard.group_by) or "").lower(),
            )

    def write(self, vals):
        if {"date_from", "date_to"} & set(vals):
            vals = dict(vals, refreshed=False)  # another range: its facts are refreshed first
        return super().write(vals)

    @api.model
    def action_open(self):
        """The menu: a dashboard computed on this year to date (no empty "New" form)."""
        return self.create({}).action_compute()

    def action_compute(self):
        self.ensure_one()
        if not self.refreshed:
            self.env["ps.kpi.fact"]._refresh(self.date_from, self.date_to)
            self.refreshed = True
        self.line_ids.unlink()
        rows = self._fact_rows()
        for label, earned in self._earned_rows().items():
            rows.setdefault(label, dict.fromkeys(FACT_MEASURES, 0.0))["earned_value"] = earned
        lines = [
            self._line_values(label, values)
            for label, values in rows.items()
            if self.show_empty or self._has_activity(values)
        ]
        self.env["ps.kpi.dashboard.line"].create(lines)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": self.display_name,
        }

    def _group_label(self, key):
        if self.group_by == "period":
            return key.strftime("%Y-%m") if key else _("(none)")
        if not key:
            return _("(not attributed)") if self.group_by == "employee_id" else _("(none)")
        # Facts the user may read can name a record of a company they do not work in (an EU
        # consultant's time on a US project): its name labels the row, nothing more is read.
        return key.sudo().display_name

    def _fact_rows(self):
        groupby = "date:month" if self.group_by == "period" else self.group_by
        groups = self.env["ps.kpi.fact"]._read_group(
            [("date", ">=", self.date_from), ("date", "<=", self.date_to)],
            [groupby],
            [f"{measure}:sum" for measure in FACT_MEASURES],
        )
        rows = {}
        for key, *sums in groups:
            values = {
                measure: value or 0.0 for measure, value in zip(FACT_MEASURES, sums, strict=True)
            }
            label = self._group_label(key)
            if label in rows:
                for measure, value in values.items():
                    rows[label][measure] += value
            else:
                rows[label] = values
        return rows

    def _earned_rows(self):
        """What fixed fees and retainers earned in the exact range, by the dashboard's
        grouping (not attributed to an employee)."""
        Fact = self.env["ps.kpi.fact"]
        companies = self.env.companies
        today = fields.Date.context_today(self)
        end = min(self.date_to, today)
        earned = {}
        if self.date_from > end:
            return earned
        for sol in Fact._deferred_lines(companies):
            if self.group_by == "period":
                month = periods.month_start(self.date_from)
                while month <= end:
                    start = max(month, self.date_from)
                    stop = min(periods.month_end(month), end)
                    amount = Fact._earned_between(sol, start, stop)
                    if amount:
                        label = self._group_label(month)
                        earned[label] = earned.get(label, 0.0) + amount
                    month = periods.add_months(month, 1)
                continue
            amount = Fact._earned_between(sol, self.date_from, end)
            if not amount:
                continue
            key = {
                "employee_id": None,
                "project_id": sol.order_id.project_id,
                "partner_id": sol.order_id.partner_id,
                "company_id": sol.company_id,
            }[self.group_by]
            label = self._group_label(key)
            earned[label] = earned.get(label, 0.0) + amount
        return earned

    @staticmethod
    def _has_activity(values):
        return any(
            values.get(measure)
            for measure in (
                "billable_hours",
                "nonbillable_hours",
                "billed_value",
                "other_billed",
                "earned_value",
                "cost",
                "expense_cost",
                "revenue",
                "backlog",
                "wip_value",
            )
        )

    def _line_values(self, label, values):
        def ratio(numerator, denominator):
            return 100.0 * numerator / denominator if denominator else 0.0

        earned = values.get("earned_value", 0.0)
        delivered = values["billed_value"] + values["other_billed"] + earned
        cost = values["cost"] + values["expense_cost"]
        return {
            "dashboard_id": self.id,
            "name": label,
            "capacity_hours": values["capacity_hours"],
            "billable_hours": values["billable_hours"],
            "utilization": ratio(values["billable_hours"], values["capacity_hours"]),
            "billed_standard": values["billed_standard"],
            "billed_value": values["billed_value"],
            "realization": ratio(values["billed_value"], values["billed_standard"]),
            "effective_rate": values["billed_value"] / values["billed_hours"]
            if values["billed_hours"]
            else 0.0,
            "other_billed": values["other_billed"],
            "earned_value": earned,
            "delivered_value": delivered,
            "revenue": values["revenue"],
            "cost": cost,
            "margin": delivered - cost,
            "backlog": values["backlog"],
            "wip_value": values["wip_value"],
        }
