from odoo import fields, models, tools

from ..engine import rates


class ConnectorPsaRateDiscrepancy(models.Model):
    """Imported billable time: Odoo's rate (rate cards, in force on the day of the work) against
    the PSA's own billable rate, compared in the same currency only (see engine/rates.py; the
    comparison is stored on each line when it is imported or re-rated)."""

    _name = "connector.psa.rate.discrepancy"
    _description = "PSA rate discrepancy"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "account.analytic.line": [
            "date",
            "company_id",
            "employee_id",
            "project_id",
            "so_line",
            "unit_amount",
            "ps_rate",
            "ps_rate_currency_id",
            "psa_backend_id",
            "psa_remote_id",
            "psa_billable",
            "psa_billable_rate",
            "psa_currency_id",
            "psa_rate_status",
            "psa_rate_difference",
            "psa_amount_difference",
            "ps_billing_state",
        ],
    }

    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    backend_id = fields.Many2one("connector.backend", string="PSA backend", readonly=True)
    remote_id = fields.Char(string="PSA entry", readonly=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Contract line", readonly=True)
    hours = fields.Float(readonly=True)
    odoo_rate = fields.Float(
        string="Odoo rate", readonly=True, digits="Product Price", aggregator="avg"
    )
    odoo_currency_id = fields.Many2one("res.currency", string="Odoo currency", readonly=True)
    psa_rate = fields.Float(
        string="PSA rate", readonly=True, digits="Product Price", aggregator="avg"
    )
    psa_currency_id = fields.Many2one("res.currency", string="PSA currency", readonly=True)
    status = fields.Selection(rates.STATUSES, readonly=True)
    rate_difference = fields.Float(readonly=True, digits="Product Price", aggregator="avg")
    amount_difference = fields.Float(readonly=True)
    billing_state = fields.Selection(
        [
            ("unbilled", "Unbilled"),
            ("billed", "Billed"),
            ("review", "Back in review"),
            ("non_billable", "Non-billable"),
        ],
        readonly=True,
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                SELECT l.id, l.date, l.company_id, l.psa_backend_id AS backend_id,
                       l.psa_remote_id AS remote_id, l.employee_id, l.project_id,
                       l.so_line AS sale_line_id, l.unit_amount AS hours,
                       l.ps_rate AS odoo_rate, l.ps_rate_currency_id AS odoo_currency_id,
                       l.psa_billable_rate AS psa_rate, l.psa_currency_id,
                       l.psa_rate_status AS status, l.psa_rate_difference AS rate_difference,
                       l.psa_amount_difference AS amount_difference,
                       l.ps_billing_state AS billing_state
                FROM account_analytic_line l
                WHERE l.psa_remote_id IS NOT NULL AND l.psa_billable AND l.project_id IS NOT NULL
            )"""
        )
