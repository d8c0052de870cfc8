"""Stored KPI facts: what utilization, realization, effective rate, margin, backlog and WIP are
computed from, per company, day, employee, project, contract and customer.

Refreshed in SQL (one aggregate query per source) for a range of days, so that reporting never
computes on the fly over hundreds of thousands of timesheet lines; capacity comes from each
employee's working calendar net of leaves recorded in ``resource``, day by day (a range of 1-15
November counts half of November's capacity, not all of it).

Two revenues, both named for what they are:
- *Delivered value* (for margins, right between period closes): the billed value of the work of
  the period (time, milestones, expenses, drafts included) plus what fixed fees and retainers
  earned in it (the recognition target, whether or not the period was closed yet);
- *Revenue (accounting)*: invoice lines on revenue accounts (draft and posted, by invoice date)
  plus the recognition entries posted by period closes.
"""

import logging
from datetime import datetime, time, timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import periods
from ..engine.constants import BILLABLE_MODELS, DEFERRED_MODELS, TM

_logger = logging.getLogger(__name__)

KEYS = ("company_id", "date", "period", "employee_id", "project_id", "order_id", "partner_id")
MEASURES = (
    "capacity_hours",
    "billable_hours",
    "nonbillable_hours",
    "standard_value",
    "billed_standard",
    "billed_value",
    "billed_hours",
    "other_billed",
    "earned_value",
    "cost",
    "expense_cost",
    "revenue",
    "backlog",
    "wip_value",
    "margin",
)
# Amounts in company currency at the rate of the day: a currency's rate is its units per unit of
# the company currency (Odoo's convention), so an amount divides by it.
RATE_OF = """LEFT JOIN LATERAL (
    SELECT r.rate FROM res_currency_rate r
    WHERE r.currency_id = {currency} AND {currency} != c.currency_id
      AND r.name <= {day} AND (r.company_id = c.id OR r.company_id IS NULL)
    ORDER BY r.company_id NULLS LAST, r.name DESC LIMIT 1) {alias} ON TRUE"""


class PsKpiFact(models.Model):
    _name = "ps.kpi.fact"
    _description = "Services KPI fact"
    _order = "date desc, company_id, employee_id, project_id"
    _rec_name = "date"

    company_id = fields.Many2one("res.company", readonly=True, index=True)
    date = fields.Date(string="Day", readonly=True, index=True)
    period = fields.Date(string="Month", readonly=True, index=True)
    employee_id = fields.Many2one("hr.employee", readonly=True, index=True)
    project_id = fields.Many2one("project.project", readonly=True, index=True)
    order_id = fields.Many2one("sale.order", string="Contract", readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    capacity_hours = fields.Float(readonly=True, help="Working hours net of leaves.")
    billable_hours = fields.Float(readonly=True)
    nonbillable_hours = fields.Float(string="Non-billable hours", readonly=True)
    standard_value = fields.Monetary(
        string="Approved time at standard",
        readonly=True,
        currency_field="currency_id",
        help="All approved time at its stored standard rate (billed or not).",
    )
    billed_standard = fields.Monetary(
        string="Standard value of billed time",
        readonly=True,
        currency_field="currency_id",
        help="Realization = billed value / this.",
    )
    billed_value = fields.Monetary(
        string="Billed value of time",
        readonly=True,
        currency_field="currency_id",
        help="What invoices carry for that time (drafts included, less partial credit notes).",
    )
    billed_hours = fields.Float(readonly=True)
    other_billed = fields.Monetary(
        string="Billed milestones and expenses", readonly=True, currency_field="currency_id"
    )
    earned_value = fields.Monetary(
        string="Earned on fixed fees and retainers",
        readonly=True,
        currency_field="currency_id",
        help="Revenue of deferred contract lines earned in the month (the recognition target), "
        "before or after the period is closed.",
    )
    cost = fields.Monetary(string="Cost of time", readonly=True, currency_field="currency_id")
    expense_cost = fields.Monetary(string="Expenses", readonly=True, currency_field="currency_id")
    revenue = fields.Monetary(
        string="Revenue (accounting)",
        readonly=True,
        currency_field="currency_id",
        help="Invoice lines on revenue accounts (draft and posted, by invoice date) plus the "
        "recognition entries of closed periods.",
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
    margin = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Delivered value (billed value of time, milestones and expenses, plus what fixed "
        "fees and retainers earned) minus the cost of time and expenses.",
    )

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS ps_kpi_fact_date_company_idx ON ps_kpi_fact (company_id, date)"
        )

    # ------------------------------------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------------------------------------

    @api.model
    def _insert(self, values, tail, params):
        """INSERT ... SELECT of fact rows: ``values`` {column: SQL expression}; measures not
        given are 0, keys not given NULL; ``period`` is the month of ``date``."""
        values = dict(values, period=f"date_trunc('month', {values['date']})::date")
        columns = KEYS + MEASURES
        exprs = [values.get(col, "0" if col in MEASURES else "NULL") for col in columns]
        self.env.cr.execute(
            f"INSERT INTO ps_kpi_fact ({', '.join(columns)}) SELECT {', '.join(exprs)} {tail}",
            params,
        )

    @api.model
    def _refresh(self, date_from=None, date_to=None, companies=None):
        """Rebuild the facts of the months from ``date_from`` to ``date_to`` (whole months;
        default: the last 13) for ``companies`` (default: all). Returns the number of fact rows
        of those months. Facts are per day: reports filter exact date ranges."""
        today = fields.Date.context_today(self)
        date_to = periods.month_end(date_to or today)
        date_from = periods.month_start(date_from or (date_to - relativedelta(months=12)))
        companies = companies or self.env["res.company"].sudo().search([])
        for model in (
            "account.analytic.line",
            "account.move",
            "account.move.line",
            "sale.order",
            "sale.order.line",
            "hr.expense",
            "project.milestone",
            "ps.recognition.line",
        ):
            self.env[model].flush_model()
        params = {
            "from": date_from,
            "to": date_to,
            "companies": companies.ids,
            "billable": list(BILLABLE_MODELS),
            "tm": TM,
        }
        self.env.cr.execute(
            "DELETE FROM ps_kpi_fact WHERE company_id = ANY(%(companies)s) "
            "AND date BETWEEN %(from)s AND %(to)s",
            params,
        )
        self._insert_time(params)
        self._insert_other_billed(params)
        self._insert_revenue(params)
        self._insert_expenses(params)
        self._insert_backlog(params, today)
        self._insert_earned(date_from, date_to, companies, today)
        self._insert_capacity(date_from, date_to, companies)
        self.env.cr.execute(
            "SELECT count(*) FROM ps_kpi_fact WHERE company_id = ANY(%(companies)s) "
            "AND date BETWEEN %(from)s AND %(to)s",
            params,
        )
        self.invalidate_model()
        return self.env.cr.fetchone()[0]

    @api.model
    def _insert_time(self, params):
        """Hours, standard, billed and cost of approved time, per day. Values in company
        currency at the rate of the day of the work."""
        billed = "l.ps_billing_state = 'billed'"
        self._insert(
            {
                "company_id": "l.company_id",
                "date": "l.date",
                "employee_id": "l.employee_id",
                "project_id": "l.project_id",
                "order_id": "sol.order_id",
                "partner_id": "so.partner_id",
                "billable_hours": "COALESCE(SUM(l.unit_amount) FILTER (WHERE (sol.ps_billing_model"
                " = ANY(%(billable)s) OR (sol.id IS NOT NULL AND sol.ps_billing_model IS NULL))"
                " AND l.ps_billing_state != 'non_billable'), 0)",
                "nonbillable_hours": "COALESCE(SUM(l.unit_amount) FILTER (WHERE sol.id IS NULL"
                " OR sol.ps_billing_model = 'non_billable' OR l.ps_billing_state = 'non_billable'), 0)",
                "standard_value": "SUM(l.unit_amount * l.ps_rate / COALESCE(rr.rate, 1.0))",
                "billed_standard": f"COALESCE(SUM(l.ps_standard_amount / COALESCE(ro.rate, 1.0)) FILTER (WHERE {billed}), 0)",
                "billed_value": f"COALESCE(SUM(l.ps_billed_amount / COALESCE(ro.rate, 1.0)) FILTER (WHERE {billed}), 0)",
                "billed_hours": f"COALESCE(SUM(l.unit_amount) FILTER (WHERE {billed} AND sol.ps_billing_model = %(tm)s), 0)",
                "cost": "SUM(l.ps_cost_amount)",
                "wip_value": "COALESCE(SUM(l.unit_amount * l.ps_rate / COALESCE(rr.rate, 1.0))"
                " FILTER (WHERE l.ps_billing_state = 'unbilled' AND sol.ps_billing_model = %(tm)s), 0)",
                "margin": f"COALESCE(SUM(l.ps_billed_amount / COALESCE(ro.rate, 1.0)) FILTER (WHERE {billed}), 0)"
                " - COALESCE(SUM(l.ps_cost_amount), 0)",
            },
            f"""FROM account_analytic_line l
                LEFT JOIN sale_order_line sol ON sol.id = l.so_line
                LEFT JOIN sale_order so ON so.id = sol.order_id
                JOIN res_company c ON c.id = l.company_id
                {RATE_OF.format(currency="l.ps_rate_currency_id", day="l.date", alias="rr")}
                {RATE_OF.format(currency="so.currency_id", day="l.date", alias="ro")}
                WHERE l.project_id IS NOT NULL AND l.ps_approval_state = 'approved'
                  AND l.company_id = ANY(%(companies)s) AND l.date BETWEEN %(from)s AND %(to)s
                GROUP BY l.company_id, l.date, l.employee_id, l.project_id, sol.order_id, so.partner_id""",
            params,
        )

    @api.model
    def _insert_other_billed(self, params):
        """Billed milestones (on the day reached) and re-invoiced expenses (on their day)."""
        value = "SUM(x.ps_billed_amount / COALESCE(ro.rate, 1.0))"
        self._insert(
            {
                "company_id": "so.company_id",
                "date": "x.reached_date",
                "project_id": "x.project_id",
                "order_id": "so.id",
                "partner_id": "so.partner_id",
                "other_billed": value,
                "margin": value,
            },
            f"""FROM project_milestone x
                JOIN sale_order_line sol ON sol.id = x.sale_line_id
                JOIN sale_order so ON so.id = sol.order_id
                JOIN res_company c ON c.id = so.company_id
                {RATE_OF.format(currency="so.currency_id", day="x.reached_date", alias="ro")}
                WHERE x.ps_billing_state = 'billed' AND so.company_id = ANY(%(companies)s)
                  AND x.reached_date BETWEEN %(from)s AND %(to)s
                GROUP BY so.company_id, x.reached_date, x.project_id, so.id, so.partner_id""",
            params,
        )
        self._insert(
            {
                "company_id": "so.company_id",
                "date": "x.date",
                "employee_id": "x.employee_id",
                "order_id": "so.id",
                "partner_id": "so.partner_id",
                "other_billed": value,
                "margin": value,
            },
            f"""FROM hr_expense x
                JOIN sale_order so ON so.id = x.sale_order_id
                JOIN res_company c ON c.id = so.company_id
                {RATE_OF.format(currency="so.currency_id", day="x.date", alias="ro")}
                WHERE x.ps_billing_state = 'billed' AND so.company_id = ANY(%(companies)s)
                  AND x.date BETWEEN %(from)s AND %(to)s
                GROUP BY so.company_id, x.date, x.employee_id, so.id, so.partner_id""",
            params,
        )

    @api.model
    def _insert_revenue(self, params):
        """Accounting revenue: invoice lines of governed contracts not on deferred revenue
        (drafts too: right after a billing run), signed, and posted recognition entries."""
        self._insert(
            {
                "company_id": "m.company_id",
                "date": "COALESCE(m.invoice_date, m.date)",
                "order_id": "sol.order_id",
                "partner_id": "so.partner_id",
                "revenue": "SUM(-aml.balance)",
            },
            """FROM account_move_line aml
               JOIN account_move m ON m.id = aml.move_id
               JOIN sale_order_line sol ON sol.id = COALESCE(aml.ps_sale_line_id,
                   (SELECT rel.order_line_id FROM sale_order_line_invoice_rel rel
                    WHERE rel.invoice_line_id = aml.id LIMIT 1))
               JOIN sale_order so ON so.id = sol.order_id
               JOIN res_company c ON c.id = m.company_id
               WHERE m.state != 'cancel' AND m.move_type IN ('out_invoice', 'out_refund')
                 AND aml.display_type = 'product'
                 AND aml.account_id IS DISTINCT FROM c.ps_deferred_revenue_account_id
                 AND m.company_id = ANY(%(companies)s)
                 AND COALESCE(m.invoice_date, m.date) BETWEEN %(from)s AND %(to)s
               GROUP BY m.company_id, COALESCE(m.invoice_date, m.date), sol.order_id, so.partner_id""",
            params,
        )
        self._insert(
            {
                "company_id": "r.company_id",
                "date": "r.period_end",
                "order_id": "r.order_id",
                "partner_id": "r.partner_id",
                "revenue": "SUM(r.amount)",
            },
            """FROM ps_recognition_line r
               WHERE r.company_id = ANY(%(companies)s) AND r.period_end BETWEEN %(from)s AND %(to)s
               GROUP BY r.company_id, r.period_end, r.order_id, r.partner_id""",
            params,
        )

    @api.model
    def _insert_expenses(self, params):
        """Expenses re-invoiced to contracts: their cost lowers the margin."""
        self._insert(
            {
                "company_id": "e.company_id",
                "date": "e.date",
                "employee_id": "e.employee_id",
                "order_id": "e.sale_order_id",
                "partner_id": "so.partner_id",
                "expense_cost": "SUM(e.total_amount)",
                "margin": "-SUM(e.total_amount)",
            },
            """FROM hr_expense e
               JOIN sale_order so ON so.id = e.sale_order_id
               WHERE e.state IN ('approved', 'done') AND e.company_id = ANY(%(companies)s)
                 AND e.date BETWEEN %(from)s AND %(to)s
               GROUP BY e.company_id, e.date, e.employee_id, e.sale_order_id, so.partner_id""",
            params,
        )

    @api.model
    def _insert_backlog(self, params, today):
        """Backlog at refresh time, on today: contracted minus invoiced (untaxed)."""
        if not params["from"] <= today <= params["to"]:
            return
        self._insert(
            {
                "company_id": "so.company_id",
                "date": "%(today)s::date",
                "order_id": "so.id",
                "partner_id": "so.partner_id",
                "backlog": "(so.amount_untaxed - COALESCE(inv.amount, 0)) / COALESCE(so.currency_rate, 1.0)",
            },
            """FROM sale_order so
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
               WHERE so.ps_governed AND so.state = 'sale' AND so.company_id = ANY(%(companies)s)""",
            dict(params, today=today),
        )

    @api.model
    def _deferred_lines(self, companies):
        return (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [
                    ("company_id", "in", companies.ids),
                    ("ps_billing_model", "in", DEFERRED_MODELS),
                    ("order_id.state", "=", "sale"),
                ]
            )
        )

    @api.model
    def _earned_between(self, sol, start, end):
        """What a deferred line earned from ``start`` to ``end`` (company currency)."""
        Recognition = self.env["ps.recognition.line"]
        try:
            return sol.company_id.currency_id.round(
                Recognition._target(sol, end) - Recognition._target(sol, start - timedelta(days=1))
            )
        except ValueError:  # e.g. percent complete without budgeted hours: nothing earned
            return 0.0

    @api.model
    def _insert_earned(self, date_from, date_to, companies, today):
        """What fixed fees and retainers earned, per month (on the month's last day, or today
        for the current month): right between closes, equal to what the close will post."""
        rows = []
        for sol in self._deferred_lines(companies):
            month = periods.month_start(date_from)
            while month <= min(date_to, today):
                start = max(month, date_from)
                end = min(periods.month_end(month), date_to, today)
                earned = self._earned_between(sol, start, end)
                if earned:
                    rows.append(
                        (
                            sol.company_id.id,
                            end,
                            month,
                            sol.order_id.project_id.id or None,
                            sol.order_id.id,
                            sol.order_id.partner_id.id,
                            earned,
                        )
                    )
                month = periods.add_months(month, 1)
        if rows:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO ps_kpi_fact (company_id, date, period, project_id, order_id,
                           partner_id, earned_value, margin, capacity_hours, billable_hours,
                           nonbillable_hours, standard_value, billed_standard, billed_value,
                           billed_hours, other_billed, cost, expense_cost, revenue, backlog,
                           wip_value)
                       VALUES %s""",
                    SQL(", ").join(
                        SQL(
                            "(%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
                            *row,
                            row[-1],
                        )
                        for row in rows
                    ),
                )
            )

    @api.model
    def _insert_capacity(self, date_from, date_to, companies):
        """Working hours per employee and day, net of their leaves (resource calendars)."""
        employees = self.env["hr.employee"].sudo().search([("company_id", "in", companies.ids)])
        if not employees:
            return
        start = pytz.utc.localize(datetime.combine(date_from - timedelta(days=1), time.min))
        end = pytz.utc.localize(datetime.combine(date_to + timedelta(days=1), time.max))
        per_day = employees._list_work_time_per_day(start, end)
        rows = [
            (employee.company_id.id, day, day.replace(day=1), employee.id, hours)
            for employee in employees
            for day, hours in per_day.get(employee.id, ())
            if hours and date_from <= day <= date_to
        ]
        for index in range(0, len(rows), 5000):
            self.env.cr.execute(
                SQL(
                    """INSERT INTO ps_kpi_fact (company_id, date, period, employee_id,
                           capacity_hours, billable_hours, nonbillable_hours, standard_value,
                           billed_standard, billed_value, billed_hours, other_billed,
                           earned_value, cost, expense_cost, revenue, backlog, wip_value, margin)
                       VALUES %s""",
                    SQL(", ").join(
                        SQL("(%s, %s, %s, %s, %s, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)", *row)
                        for row in rows[index : index + 5000]
                    ),
                )
            )

    @api.model
    def _cron_refresh(self):
        count = self._refresh()
        _logger.info("services KPIs refreshed: %s fact rows", count)

    def action_refresh(self):
        # The rebuild reads every company's work as superuser: for readers of the KPIs only.
        self.check_access("read")
        self._refresh()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
