from odoo import fields, models, tools


class PsWipReport(models.Model):
    """Work in progress: approved, unbilled time-and-materials time at its stored rate, by
    contract, customer, employee and age (days since the work)."""

    _name = "ps.wip.report"
    _description = "Work in Progress"
    _auto = False
    _order = "date"
    # Flush these before reading the view (it reads their tables directly).
    _depends = {
        "account.analytic.line": [
            "date",
            "company_id",
            "so_line",
            "project_id",
            "employee_id",
            "unit_amount",
            "ps_rate",
            "ps_rate_currency_id",
            "ps_approval_state",
            "ps_billing_state",
        ],
        "sale.order.line": ["order_id", "ps_billing_model"],
        "sale.order": ["partner_id", "currency_id"],
    }

    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    order_id = fields.Many2one("sale.order", string="Contract", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    hours = fields.Float(readonly=True)
    value = fields.Float(string="Value (rate currency)", readonly=True)
    rate_currency_id = fields.Many2one("res.currency", readonly=True)
    age_days = fields.Integer(string="Age (days)", readonly=True, aggregator="max")
    age_bucket = fields.Selection(
        [
            ("0-30", "0-30 days"),
            ("31-60", "31-60 days"),
            ("61-90", "61-90 days"),
            ("90+", "Over 90 days"),
        ],
        readonly=True,
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                SELECT l.id, l.date, l.company_id, sol.order_id, so.partner_id, l.project_id,
                       l.employee_id, l.unit_amount AS hours, l.unit_amount * l.ps_rate AS value,
                       COALESCE(l.ps_rate_currency_id, so.currency_id) AS rate_currency_id,
                       (CURRENT_DATE - l.date) AS age_days,
                       CASE WHEN CURRENT_DATE - l.date <= 30 THEN '0-30'
                            WHEN CURRENT_DATE - l.date <= 60 THEN '31-60'
                            WHEN CURRENT_DATE - l.date <= 90 THEN '61-90'
                            ELSE '90+' END AS age_bucket
                FROM account_analytic_line l
                JOIN sale_order_line sol ON sol.id = l.so_line
                JOIN sale_order so ON so.id = sol.order_id
                WHERE l.project_id IS NOT NULL
                  AND l.ps_approval_state = 'approved'
                  AND l.ps_billing_state = 'unbilled'
                  AND sol.ps_billing_model = 'tm'
            )"""
        )
