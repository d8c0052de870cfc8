"""Stored KPI facts: what utilization, realization, effective rate, margin, backlog and WIP are
computed from, per company, month, employee, project, contract and customer.

Refreshed in SQL (one aggregate query per source) for a range of months, so that reporting never
computes on the fly over hundreds of thousands of timesheet lines; capacity comes from each
employee's working calendar net of leaves recorded in ``resource``.
"""

import logging
from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, date_utils

from ..logic import periods

_logger = logging.getLogger(__name__)

BILLABLE_MODELS = ("tm", "fixed_fee", "milestone", "retainer")
MEASURES = (
    "capacity_hours",
    "billable_hours",
    "nonbillable_hours",
    "standard_value",
    "billed_standard",
    "billed_value",
    "billed_hours",
    "cost",
    "expense_cost",
    "revenue",
    "backlog",
    "wip_value",
)


class PsKpiFact(models.Model):
    _name = "ps.kpi.fact"
    _description = "Services KPI fact"
    _order = "period desc, company_id, employee_id, project_id"
    _rec_name = "period"

    company_id = fields.Many2one("res.company", readonly=True, index=True)
    period = fields.Date(string="Month", readonly=True, index=True)
    employee_id = fields.Many2one("hr.employee", readonly=True, index=True)
    project_id = fields.Many2one("project.project", readonly=True, index=True)
    order_id = fields.Many2one("sale.order", string="Contract", readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    capacity_hours = fields.Float(readonly=True, help="Working hours of the month net of leaves.")
    billable_hours = fields.Float(readonly=True)
    nonbillable_hours = fields.Float(string="Non-billable hours", readonly=True)
    standard_value = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Approved time at its stored standard rate.",
    )
    billed_standard = fields.Monetary(
        string="Standard value billed", readonly=True, currency_field="currency_id"
    )
    billed_value = fields.Monetary(
        readonly=True, currency_field="currency_id", help="What invoices carried for that time."
    )
    billed_hours = fields.Float(readonly=True)
    cost = fields.Monetary(string="Cost of time", readonly=True, currency_field="currency_id")
    expense_cost = fields.Monetary(string="Expenses", readonly=True, currency_field="currency_id")
    revenue = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Invoiced revenue (T&M, milestones, expenses) plus recognised deferred revenue.",
    )
    backlog = fields.Monetary(
        readonly=True, currency_field="currency_id", help="Contracted minus invoiced (at refresh)."
    )
    wip_value = fields.Monetary(
        string="WIP",
        readonly=True,
        currency_field="currency_id",
        help="Approved, unbilled T&M time.",
    )
    margin = fields.Monetary(readonly=True, currency_field="currency_id")

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS ps_kpi_fact_period_company_idx ON ps_kpi_fact (company_id, period)"
        )

    # ------------------------------------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------------------------------------

    @api.model
    def _refresh(self, date_from=None, date_to=None, companies=None):
        """Rebuild the facts of the months between ``date_from`` and ``date_to`` (default: the
        last 13 months) for ``companies`` (default: all). Returns the number of fact rows."""
        today = fields.Date.context_today(self)
        date_to = periods.month_end(date_to or today)
        date_from = periods.month_start(date_from or (date_to - relativedelta(months=12)))
        companies = companies or self.env["res.company"].sudo().search([])
        cr = self.env.cr
        for model in (
            "account.analytic.line",
            "account.move",
            "account.move.line",
            "sale.order",
            "sale.order.line",
            "hr.expense",
            "ps.recognition.line",
        ):
            self.env[model].flush_model()
        params = {"from": date_from, "to": date_to, "companies": companies.ids}
        cr.execute(
            "DELETE FROM ps_kpi_fact WHERE company_id = ANY(%(companies)s) "
            "AND period BETWEEN %(from)s AND %(to)s",
            params,
        )
        # Time: hours, standard, billed and cost. Values are converted to company currency at
        # the rate of the day of the work (rate currency) or of the invoice date (contract).
        cr.execute(
            """
            INSERT INTO ps_kpi_fact (company_id, period, employee_id, project_id, order_id,
                partner_id, billable_hours, nonbillable_hours, standard_value, billed_standard,
                billed_value, billed_hours, cost, wip_value, margin,
                capacity_hours, expense_cost, revenue, backlog)
            SELECT l.company_id, date_trunc('month', l.date)::date, l.employee_id, l.project_id,
                   sol.order_id, so.partner_id,
                   SUM(l.unit_amount) FILTER (WHERE sol.ps_billing_model = ANY(%(billable)s)
                                                OR (sol.id IS NOT NULL AND sol.ps_billing_model IS NULL)),
                   SUM(l.unit_amount) FILTER (WHERE sol.id IS NULL OR sol.ps_billing_model = 'non_billable'
                                                OR l.ps_billing_state = 'non_billable'),
                   SUM(l.unit_amount * l.ps_rate / COALESCE(rr.rate, 1.0)),
                   SUM(l.ps_standard_amount / COALESCE(ro.rate, 1.0)) FILTER (WHERE l.ps_billing_state = 'billed'),
                   SUM(l.ps_billed_amount / COALESCE(ro.rate, 1.0)) FILTER (WHERE l.ps_billing_state = 'billed'),
                   SUM(l.unit_amount) FILTER (WHERE l.ps_billing_state = 'billed'
                                                AND sol.ps_billing_model = 'tm'),
                   SUM(l.ps_cost_amount),
                   SUM(l.unit_amount * l.ps_rate / COALESCE(rr.rate, 1.0))
                       FILTER (WHERE l.ps_billing_state = 'unbilled' AND sol.ps_billing_model = 'tm'),
                   -SUM(l.ps_cost_amount),
                   0, 0, 0, 0
            FROM account_analytic_line l
            LEFT JOIN sale_order_line sol ON sol.id = l.so_line
            LEFT JOIN sale_order so ON so.id = sol.order_id
            LEFT JOIN res_company c ON c.id = l.company_id
            LEFT JOIN LATERAL (
                SELECT r.rate FROM res_currency_rate r
                WHERE r.currency_id = l.ps_rate_currency_id AND l.ps_rate_currency_id != c.currency_id
                  AND r.name <= l.date AND (r.company_id = l.company_id OR r.company_id IS NULL)
                ORDER BY r.name DESC LIMIT 1) rr ON TRUE
            LEFT JOIN LATERAL (
                SELECT r.rate FROM res_currency_rate r
                WHERE r.currency_id = so.currency_id AND so.currency_id != c.currency_id
                  AND r.name <= l.date AND (r.company_id = l.company_id OR r.company_id IS NULL)
                ORDER BY r.name DESC LIMIT 1) ro ON TRUE
            WHERE l.project_id IS NOT NULL
              AND l.ps_approval_state = 'approved'
              AND l.company_id = ANY(%(companies)s)
              AND l.date BETWEEN %(from)s AND %(to)s
            GROUP BY 1, 2, 3, 4, 5, 6
            """,
            dict(params, billable=list(BILLABLE_MODELS)),
        )
        # Revenue: posted customer invoices of governed contracts not on deferred revenue
        # (signed, company currency), and recognised deferred revenue.
        cr.execute(
            """
            INSERT INTO ps_kpi_fact (company_id, period, order_id, partner_id, revenue, margin,
                capacity_hours, billable_hours, nonbillable_hours, standard_value, billed_standard,
                billed_value, billed_hours, cost, expense_cost, backlog, wip_value)
            SELECT m.company_id, date_trunc('month', m.date)::date, sol.order_id, so.partner_id,
                   SUM(-aml.balance), SUM(-aml.balance), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            FROM account_move_line aml
            JOIN account_move m ON m.id = aml.move_id
            JOIN sale_order_line sol ON sol.id = COALESCE(aml.ps_sale_line_id,
                (SELECT rel.order_line_id FROM sale_order_line_invoice_rel rel
                 WHERE rel.invoice_line_id = aml.id LIMIT 1))
            JOIN sale_order so ON so.id = sol.order_id
            JOIN res_company c ON c.id = m.company_id
            WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
              AND aml.display_type = 'product'
              AND aml.account_id IS DISTINCT FROM c.ps_deferred_revenue_account_id
              AND m.company_id = ANY(%(companies)s) AND m.date BETWEEN %(from)s AND %(to)s
            GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT r.company_id, date_trunc('month', r.period_end)::date, r.order_id, r.partner_id,
                   SUM(r.amount), SUM(r.amount), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            FROM ps_recognition_line r
            WHERE r.company_id = ANY(%(companies)s) AND r.period_end BETWEEN %(from)s AND %(to)s
            GROUP BY 1, 2, 3, 4
            """,
            params,
        )
        # Expenses re-invoiced to contracts (their cost lowers the margin).
        cr.execute(
            """
            INSERT INTO ps_kpi_fact (company_id, period, employee_id, order_id, partner_id,
                expense_cost, margin, capacity_hours, billable_hours, nonbillable_hours,
                standard_value, billed_standard, billed_value, billed_hours, cost, revenue,
                backlog, wip_value)
            SELECT e.company_id, date_trunc('month', e.date)::date, e.employee_id, e.sale_order_id,
                   so.partner_id, SUM(e.total_amount), -SUM(e.total_amount),
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            FROM hr_expense e
            JOIN sale_order so ON so.id = e.sale_order_id
            WHERE e.state IN ('approved', 'done') AND e.company_id = ANY(%(companies)s)
              AND e.date BETWEEN %(from)s AND %(to)s
            GROUP BY 1, 2, 3, 4, 5
            """,
            params,
        )
        # Backlog at refresh time, on the current month: contracted minus invoiced (untaxed).
        current = periods.month_start(today)
        if date_from <= current <= date_to:
            cr.execute(
                """
                INSERT INTO ps_kpi_fact (company_id, period, order_id, partner_id, backlog,
                    capacity_hours, billable_hours, nonbillable_hours, standard_value,
                    billed_standard, billed_value, billed_hours, cost, expense_cost, revenue,
                    wip_value, margin)
                SELECT so.company_id, %(current)s, so.id, so.partner_id,
                       (so.amount_untaxed - COALESCE(inv.amount, 0)) / COALESCE(so.currency_rate, 1.0),
                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
                FROM sale_order so
                LEFT JOIN (
                    SELECT sol.order_id,
                           SUM(CASE WHEN m.move_type = 'out_refund' THEN -aml.price_subtotal
                                    ELSE aml.price_subtotal END) AS amount
                    FROM account_move_line aml
                    JOIN account_move m ON m.id = aml.move_id
                    JOIN sale_order_line sol ON sol.id = COALESCE(aml.ps_sale_line_id,
                        (SELECT rel.order_line_id FROM sale_order_line_invoice_rel rel
                         WHERE rel.invoice_line_id = aml.id LIMIT 1))
                    WHERE m.state != 'cancel' AND m.move_type IN ('out_invoice', 'out_refund')
                      AND aml.display_type = 'product'
                    GROUP BY sol.order_id) inv ON inv.order_id = so.id
                WHERE so.ps_governed AND so.state = 'sale' AND so.company_id = ANY(%(companies)s)
                """,
                dict(params, current=current),
            )
        self._insert_capacity(date_from, date_to, companies)
        cr.execute(
            "SELECT count(*) FROM ps_kpi_fact WHERE company_id = ANY(%(companies)s) "
            "AND period BETWEEN %(from)s AND %(to)s",
            params,
        )
        self.invalidate_model()
        return cr.fetchone()[0]

    @api.model
    def _insert_capacity(self, date_from, date_to, companies):
        """Working hours per employee and month, net of their leaves (resource calendars)."""
        employees = self.env["hr.employee"].sudo().search([("company_id", "in", companies.ids)])
        if not employees:
            return
        rows = []
        month = date_from
        while month <= date_to:
            start = pytz.utc.localize(datetime.combine(month, time.min))
            end = pytz.utc.localize(datetime.combine(periods.month_end(month), time.max))
            data = employees._get_work_days_data_batch(start, end)
            rows.extend(
                (employee.company_id.id, month, employee.id, data[employee.id]["hours"])
                for employee in employees
                if data.get(employee.id, {}).get("hours")
            )
            month = date_utils.add(month, months=1)
        if rows:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO ps_kpi_fact (company_id, period, employee_id, capacity_hours,
                           billable_hours, nonbillable_hours, standard_value, billed_standard,
                           billed_value, billed_hours, cost, expense_cost, revenue, backlog,
                           wip_value, margin)
                       VALUES %s""",
                    SQL(", ").join(
                        SQL("(%s, %s, %s, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)", *row)
                        for row in rows
                    ),
                )
            )

    @api.model
    def _cron_refresh(self):
        count = self._refresh()
        _logger.info("services KPIs refreshed: %s fact rows", count)

    def action_refresh(self):
        self._refresh()
        return {"type": "ir.actions.client", "tag": "soft_reload"}


class PsKpiDashboard(models.TransientModel):
    """Ratios over the stored facts (pivot tables cannot divide sums): utilization, realization,
    effective rate, margin, backlog and WIP by employee, project, customer, company or month."""

    _name = "ps.kpi.dashboard"
    _description = "Services KPI dashboard"

    date_from = fields.Date(
        required=True,
        default=lambda self: date_utils.start_of(fields.Date.context_today(self), "year"),
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    group_by = fields.Selection(
        [
            ("employee_id", "Employee"),
            ("project_id", "Project"),
            ("partner_id", "Customer"),
            ("company_id", "Company"),
            ("period", "Month"),
        ],
        required=True,
        default="employee_id",
    )
    line_ids = fields.One2many("ps.kpi.dashboard.line", "dashboard_id", readonly=True)
    refreshed = fields.Boolean()

    def action_compute(self):
        self.ensure_one()
        if not self.refreshed:
            self.env["ps.kpi.fact"]._refresh(self.date_from, self.date_to)
            self.refreshed = True
        self.line_ids.unlink()
        groupby = self.group_by if self.group_by != "period" else "period:month"
        groups = self.env["ps.kpi.fact"]._read_group(
            [("period", ">=", periods.month_start(self.date_from)), ("period", "<=", self.date_to)],
            [groupby],
            [f"{measure}:sum" for measure in MEASURES],
        )
        lines = []
        for key, *sums in groups:
            values = dict(zip(MEASURES, sums, strict=True))
            label = key.display_name if hasattr(key, "display_name") else str(key)
            lines.append(self._line_values(label or _("(none)"), values))
        self.env["ps.kpi.dashboard.line"].create(lines)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def _line_values(self, label, values):
        def ratio(numerator, denominator):
            return 100.0 * numerator / denominator if denominator else 0.0

        return {
            "dashboard_id": self.id,
            "name": label,
            "capacity_hours": values["capacity_hours"],
            "billable_hours": values["billable_hours"],
            "utilization": ratio(values["billable_hours"], values["capacity_hours"]),
            "standard_value": values["standard_value"],
            "billed_value": values["billed_value"],
            "realization": ratio(values["billed_value"], values["billed_standard"]),
            "effective_rate": values["billed_value"] / values["billed_hours"]
            if values["billed_hours"]
            else 0.0,
            "revenue": values["revenue"],
            "cost": values["cost"] + values["expense_cost"],
            "margin": values["revenue"] - values["cost"] - values["expense_cost"],
            "backlog": values["backlog"],
            "wip_value": values["wip_value"],
        }


class PsKpiDashboardLine(models.TransientModel):
    _name = "ps.kpi.dashboard.line"
    _description = "Services KPI dashboard line"
    _order = "revenue desc, name"

    dashboard_id = fields.Many2one("ps.kpi.dashboard", ondelete="cascade")
    name = fields.Char()
    capacity_hours = fields.Float(string="Capacity (h)")
    billable_hours = fields.Float(string="Billable (h)")
    utilization = fields.Float(string="Utilization (%)", digits=(16, 1))
    standard_value = fields.Float(digits=(16, 2))
    billed_value = fields.Float(digits=(16, 2))
    realization = fields.Float(string="Realization (%)", digits=(16, 1))
    effective_rate = fields.Float(digits=(16, 2))
    revenue = fields.Float(digits=(16, 2))
    cost = fields.Float(digits=(16, 2))
    margin = fields.Float(digits=(16, 2))
    backlog = fields.Float(digits=(16, 2))
    wip_value = fields.Float(string="WIP", digits=(16, 2))
