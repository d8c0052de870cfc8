from odoo import api, fields, models

# Changing these on recharged time may change what it is worth to the provider: its ledger
# entries are checked again by the next run (adjustment lines if the value moved).
RECHARGE_RELEVANT_FIELDS = {
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
}


class AccountAnalyticLine(models.Model):
    """Timesheet lines recharged to another company: whether they were, and their ledger."""

    _inherit = "account.analytic.line"

    ps_ic_recharged = fields.Boolean(
        string="Recharged",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Recharged by the employee's company to the project's company.",
    )
    ps_ic_entry_ids = fields.One2many("ps.ic.recharge.entry", "timesheet_id", string="Recharges")
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
        self.env.cr.execute(
            """SELECT l.id FROM account_analytic_line l JOIN hr_employee e ON e.id = l.employee_id
               WHERE l.project_id IS NOT NULL AND l.company_id != e.company_id"""
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", ids)]

    def write(self, vals):
        result = super().write(vals)
        if RECHARGE_RELEVANT_FIELDS & set(vals):
            recharged = self.filtered("ps_ic_recharged")
            if recharged:
                self.env["ps.ic.recharge.entry"]._mark_stale(self._name, recharged.ids)
        return result

    def unlink(self):
        recharged = self.filtered("ps_ic_recharged")
        if recharged:
            self.env["ps.ic.recharge.entry"]._mark_stale(self._name, recharged.ids)
        return super().unlink()
