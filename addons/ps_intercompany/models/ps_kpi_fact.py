"""KPI facts of ps_billing_rules, right across companies: cross-company time costed in the
project company's currency, utilization by the employee's company, and margins by company before
and after recharges (recharge revenue in the provider, recharge cost in the receiver, the cost of
recharged time moved to the employee's company)."""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from ..engine import periods

ZERO_MEASURES = (
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
    "margin",
)
# Net recharged amount of a timesheet line on posted recharge invoices (0: not recharged, or
# credited in full).
_RECHARGED = """COALESCE((
    SELECT SUM(x.amount) FROM ps_ic_recharge_entry x
    JOIN ps_ic_recharge r ON r.id = x.recharge_id
    JOIN account_move m ON m.id = r.invoice_id
    WHERE x.item_model = 'account.analytic.line' AND x.item_ref = l.id AND m.state = 'posted'
), 0) != 0"""


class PsKpiFact(models.Model):
    _inherit = "ps.kpi.fact"

    employee_company_id = fields.Many2one(
        "res.company",
        string="Employee's company",
        readonly=True,
        index=True,
        help="Group utilization by it: an employee's billable hours on another company's "
        "projects count for the company that employs them.",
    )
    recharge_revenue = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Intercompany recharges invoiced (provider).",
    )
    recharge_cost = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Intercompany recharges received (receiver).",
    )
    margin_after_recharges = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Margin once recharges are booked: the provider earns the recharge and bears its "
        "employees' cost, the receiver bears the recharge instead of that cost.",
    )

    @api.model
    def _refresh(self, date_from=None, date_to=None, companies=None):
        count = super()._refresh(date_from, date_to, companies)
        today = fields.Date.context_today(self)
        date_to = periods.month_end(date_to or today)
        date_from = periods.month_start(date_from or (date_to - relativedelta(months=12)))
        companies = companies or self.env["res.company"].sudo().search([])
        self._ps_ic_refresh(date_from, date_to, companies)
        self.env.cr.execute(
            "SELECT count(*) FROM ps_kpi_fact WHERE company_id = ANY(%s) AND period BETWEEN %s AND %s",
            (companies.ids, date_from, date_to),
        )
        self.invalidate_model()
        return self.env.cr.fetchone()[0] or count

    def _ps_ic_refresh(self, date_from, date_to, companies):
        cr = self.env.cr
        self.env.flush_all()
        params = {"from": date_from, "to": date_to, "companies": companies.ids}
        zeros = ", ".join(ZERO_MEASURES)
        zero_values = ", ".join("0" for _m in ZERO_MEASURES)
        cr.execute(
            """UPDATE ps_kpi_fact f
               SET recharge_revenue = 0, recharge_cost = 0,
                   margin_after_recharges = COALESCE(f.margin, 0),
                   employee_company_id = (SELECT e.company_id FROM hr_employee e WHERE e.id = f.employee_id)
               WHERE f.company_id = ANY(%(companies)s) AND f.period BETWEEN %(from)s AND %(to)s""",
            params,
        )
        # Cross-company time: its cost converted into the project company's currency (rates of
        # the project company on the day of the work); after recharges the project company
        # bears only the cost of time not recharged yet.
        cr.execute(
            f"""
            WITH t AS (
                SELECT l.company_id, date_trunc('month', l.date)::date AS period, l.employee_id,
                       l.project_id, sol.order_id, so.partner_id, e.company_id AS employee_company,
                       SUM(l.ps_cost_amount * ps_ic_rate(c.currency_id, l.company_id, l.date)
                           / ps_ic_rate(ec.currency_id, l.company_id, l.date)) AS cost,
                       SUM(l.ps_cost_amount * ps_ic_rate(c.currency_id, l.company_id, l.date)
                           / ps_ic_rate(ec.currency_id, l.company_id, l.date))
                           FILTER (WHERE NOT ({_RECHARGED})) AS cost_open,
                       SUM(l.ps_cost_amount) FILTER (WHERE {_RECHARGED}) AS cost_recharged
                FROM account_analytic_line l
                JOIN hr_employee e ON e.id = l.employee_id
                JOIN res_company c ON c.id = l.company_id
                JOIN res_company ec ON ec.id = e.company_id
                LEFT JOIN sale_order_line sol ON sol.id = l.so_line
                LEFT JOIN sale_order so ON so.id = sol.order_id
                WHERE l.project_id IS NOT NULL AND l.ps_approval_state = 'approved'
                  AND e.company_id != l.company_id
                  AND (l.company_id = ANY(%(companies)s) OR e.company_id = ANY(%(companies)s))
                  AND l.date BETWEEN %(from)s AND %(to)s
                GROUP BY 1, 2, 3, 4, 5, 6, 7
            ), fixed AS (
                UPDATE ps_kpi_fact f
                SET cost = t.cost, margin = -t.cost,
                    margin_after_recharges = -COALESCE(t.cost_open, 0)
                FROM t
                WHERE f.company_id = t.company_id AND f.period = t.period
                  AND f.employee_id = t.employee_id AND f.project_id = t.project_id
                  AND f.order_id IS NOT DISTINCT FROM t.order_id
                  AND f.partner_id IS NOT DISTINCT FROM t.partner_id
                RETURNING f.id
            )
            INSERT INTO ps_kpi_fact (company_id, period, employee_id, project_id,
                employee_company_id, recharge_revenue, recharge_cost, margin_after_recharges,
                {zeros})
            SELECT t.employee_company, t.period, t.employee_id, t.project_id, t.employee_company,
                   0, 0, -SUM(t.cost_recharged), {zero_values}
            FROM t
            WHERE t.cost_recharged IS NOT NULL AND t.employee_company = ANY(%(companies)s)
            GROUP BY 1, 2, 3, 4, 5
            """,
            params,
        )
        # Recharge documents: revenue in the provider, cost in the receiver (company currency).
        cr.execute(
            f"""
            INSERT INTO ps_kpi_fact (company_id, period, employee_id, project_id,
                employee_company_id, recharge_revenue, recharge_cost, margin_after_recharges,
                {zeros})
            SELECT m.company_id, date_trunc('month', m.date)::date, rl.employee_id,
                   rl.project_id, e.company_id,
                   COALESCE(SUM(-aml.balance) FILTER (WHERE m.move_type IN ('out_invoice', 'out_refund')), 0),
                   COALESCE(SUM(aml.balance) FILTER (WHERE m.move_type IN ('in_invoice', 'in_refund')), 0),
                   SUM(-aml.balance), {zero_values}
            FROM account_move_line aml
            JOIN account_move m ON m.id = aml.move_id
            LEFT JOIN ps_ic_recharge_line rl ON rl.id = aml.ps_ic_recharge_line_id
            LEFT JOIN hr_employee e ON e.id = rl.employee_id
            WHERE m.state = 'posted' AND m.ps_ic_recharge_id IS NOT NULL
              AND aml.display_type = 'product'
              AND m.company_id = ANY(%(companies)s) AND m.date BETWEEN %(from)s AND %(to)s
            GROUP BY 1, 2, 3, 4, 5
            """,
            params,
        )
