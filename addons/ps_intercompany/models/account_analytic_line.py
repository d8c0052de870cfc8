from odoo import api, fields, models
from odoo.tools import SQL


class AccountAnalyticLine(models.Model):
    """Timesheet lines recharged to another company: whether they were, and their ledger."""

    _name = "account.analytic.line"
    _inherit = ["account.analytic.line", "ps.ic.rechargeable.mixin"]
    _ps_ic_relevant_fields = (
        "unit_amount",
        "date",
        "employee_id",
        "project_id",
        "task_id",
        "company_id",
        "ps_cost_rate",
        "ps_approval_state",
        "ps_billing_state",
        "ps_billed_amount",
        "ps_invoice_id",
    )

    ps_ic_entry_ids = fields.One2many(
        "ps.ic.recharge.entry",
        "item_ref",
        domain=[("item_model", "=", "account.analytic.line")],
        string="Recharges",
    )
    ps_ic_cross_company = fields.Boolean(
        string="Cross-company",
        compute="_compute_ps_ic_cross_company",
        search="_search_ps_ic_cross_company",
        help="Work of another company's employee on this company's project.",
    )

    @api.depends("employee_id.company_id", "company_id")
    def _compute_ps_ic_cross_company(self):
        for line in self:
            line.ps_ic_cross_company = bool(
                line.project_id
                and line.employee_id
                and line.sudo().employee_id.company_id != line.company_id
            )

    def _search_ps_ic_cross_company(self, operator, value):
        positive = (operator == "=") == bool(value)
        query = SQL(
            """(SELECT l.id FROM account_analytic_line l JOIN hr_employee e ON e.id = l.employee_id
               WHERE l.project_id IS NOT NULL AND l.company_id != e.company_id)"""
        )
        return [("id", "in" if positive else "not in", query)]
