from odoo import api, fields, models, tools

# A currency's rate in a company's table on a day, as res.currency._get_rates reads it: the
# company's (root's) own rate first, else a shared one; the latest on or before the day, else
# the earliest; else 1. Used by the reports to convert in SQL.
RATE_FUNCTION = """
CREATE OR REPLACE FUNCTION ps_ic_rate(p_currency integer, p_company integer, p_day date)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE(
        (SELECT r.rate FROM res_currency_rate r
         WHERE r.currency_id = p_currency AND r.name <= p_day
           AND (r.company_id IS NULL OR r.company_id = (
                SELECT split_part(c.parent_path, '/', 1)::integer FROM res_company c WHERE c.id = p_company))
         ORDER BY r.company_id NULLS LAST, r.name DESC LIMIT 1),
        (SELECT r.rate FROM res_currency_rate r
         WHERE r.currency_id = p_currency
           AND (r.company_id IS NULL OR r.company_id = (
                SELECT split_part(c.parent_path, '/', 1)::integer FROM res_company c WHERE c.id = p_company))
         ORDER BY r.company_id NULLS LAST, r.name ASC LIMIT 1),
        1.0)::numeric
$$;
"""
GROUP_COMPANY_PARAM = "ps_intercompany.group_company_id"


class PsIcEliminationReport(models.Model):
    """What consolidation eliminates: every posted journal item of a group company with another
    group company as partner, classified as revenue, cost, receivable or payable, per month and
    company pair, in the company's currency and in the group currency (the group company's
    rates of the item's date). Read live from the journal items."""

    _name = "ps.ic.elimination.report"
    _description = "Intercompany Elimination"
    _auto = False
    _order = "period desc, pair, company_id"
    # Searches flush these first (the view reads them in SQL).
    _depends = {
        "account.move.line": [
            "partner_id",
            "company_id",
            "account_id",
            "balance",
            "date",
            "parent_state",
            "move_id",
            "journal_id",
        ],
        "account.move": ["state"],
        "res.partner": ["commercial_partner_id"],
    }

    period = fields.Date(string="Month", readonly=True)
    date = fields.Date(readonly=True)
    pair = fields.Char(string="Company pair", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    counterpart_company_id = fields.Many2one("res.company", string="Counterpart", readonly=True)
    kind = fields.Selection(
        [
            ("revenue", "Revenue"),
            ("cost", "Cost"),
            ("receivable", "Receivable"),
            ("payable", "Payable"),
            ("other", "Other (taxes, cash...)"),
        ],
        readonly=True,
    )
    account_id = fields.Many2one("account.account", readonly=True)
    move_id = fields.Many2one("account.move", readonly=True)
    journal_id = fields.Many2one("account.journal", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    balance = fields.Monetary(currency_field="company_currency_id", readonly=True)
    group_currency_id = fields.Many2one("res.currency", string="Group currency", readonly=True)
    amount_group = fields.Monetary(
        string="To eliminate (group currency)", currency_field="group_currency_id", readonly=True
    )

    def init(self):
        self.env.cr.execute(RATE_FUNCTION)
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                WITH gc AS (
                    SELECT c.id, c.currency_id FROM res_company c
                    WHERE c.id = COALESCE(
                        (SELECT NULLIF(p.value, '')::integer FROM ir_config_parameter p
                         WHERE p.key = '{GROUP_COMPANY_PARAM}'),
                        (SELECT min(id) FROM res_company WHERE parent_id IS NULL))
                )
                SELECT aml.id, date_trunc('month', aml.date)::date AS period, aml.date,
                       aml.company_id, cp.id AS counterpart_company_id,
                       CASE WHEN c.name < cp.name THEN c.name || ' ↔ ' || cp.name
                            ELSE cp.name || ' ↔ ' || c.name END AS pair,
                       CASE WHEN a.account_type IN ('income', 'income_other') THEN 'revenue'
                            WHEN a.account_type LIKE 'expense%' THEN 'cost'
                            WHEN a.account_type = 'asset_receivable' THEN 'receivable'
                            WHEN a.account_type = 'liability_payable' THEN 'payable'
                            ELSE 'other' END AS kind,
                       aml.account_id, aml.move_id, aml.journal_id,
                       c.currency_id AS company_currency_id, aml.balance,
                       gc.currency_id AS group_currency_id,
                       ROUND((aml.balance * ps_ic_rate(gc.currency_id, gc.id, aml.date)
                              / ps_ic_rate(c.currency_id, gc.id, aml.date))::numeric, 2)
                           AS amount_group
                FROM account_move_line aml
                JOIN res_partner p ON p.id = aml.partner_id
                JOIN res_company cp ON cp.partner_id = COALESCE(p.commercial_partner_id, p.id)
                JOIN res_company c ON c.id = aml.company_id
                JOIN account_account a ON a.id = aml.account_id
                CROSS JOIN gc
                WHERE aml.parent_state = 'posted' AND cp.id != aml.company_id
            )"""
        )

    @api.model
    def _group_company(self):
        value = self.env["ir.config_parameter"].sudo().get_param(GROUP_COMPANY_PARAM)
        company = self.env["res.company"].sudo().browse(int(value)).exists() if value else None
        return company or self.env["res.company"].sudo().search(
            [("parent_id", "=", False)], limit=1, order="id"
        )
