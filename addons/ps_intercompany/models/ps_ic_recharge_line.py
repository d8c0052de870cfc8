from odoo import api, fields, models

from ..engine import grouping, pricing


class PsIcRechargeLine(models.Model):
    """A line of a recharge: the work of one employee (or role) on one project at one transfer
    price, or an expense, or an adjustment; it is one line of the invoice and of its mirror."""

    _name = "ps.ic.recharge.line"
    _description = "Intercompany Recharge Line"
    _order = "recharge_id, sequence, id"

    recharge_id = fields.Many2one("ps.ic.recharge", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True)
    kind = fields.Selection(grouping.ENTRY_KINDS, required=True)
    item_kind = fields.Selection(
        [(pricing.TIME, "Time"), (pricing.EXPENSE, "Expense")], required=True
    )
    basis = fields.Selection(
        [(pricing.HOURLY, "Hours x price"), (pricing.LUMP, "Lump sum")], required=True
    )
    provider_company_id = fields.Many2one(related="recharge_id.provider_company_id", store=True)
    receiver_company_id = fields.Many2one(related="recharge_id.receiver_company_id", store=True)
    project_id = fields.Many2one("project.project", string="Receiving project")
    employee_id = fields.Many2one("hr.employee")
    job_id = fields.Many2one("hr.job", string="Role")
    hours = fields.Float(digits=(16, 2))
    quantity = fields.Float(digits=(16, 6))
    price_unit = fields.Float(string="Transfer price", digits="Product Price")
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(related="recharge_id.currency_id", store=True)
    item_count = fields.Integer(string="Items")
    move_line_ids = fields.One2many("account.move.line", "ps_ic_recharge_line_id")
    invoice_line_id = fields.Many2one("account.move.line", compute="_compute_move_lines")
    bill_line_id = fields.Many2one("account.move.line", compute="_compute_move_lines")
    cost_amount = fields.Monetary(
        string="Cost base",
        compute="_compute_cost",
        currency_field="provider_currency_id",
        help="Shown to users of the provider company only.",
    )
    provider_currency_id = fields.Many2one(
        related="provider_company_id.currency_id", string="Provider currency"
    )
    cost_visible = fields.Boolean(compute="_compute_cost")

    @api.depends("move_line_ids", "recharge_id.invoice_id")
    def _compute_move_lines(self):
        for line in self:
            recharge = line.recharge_id.sudo()
            move_lines = line.sudo().move_line_ids
            line.invoice_line_id = move_lines.filtered(
                lambda aml, r=recharge: aml.move_id == r.invoice_id
            )[:1]
            line.bill_line_id = move_lines.filtered(
                lambda aml, r=recharge: r.bill_id and aml.move_id == r.bill_id
            )[:1]

    @api.depends_context("allowed_company_ids")
    def _compute_cost(self):
        for line in self:
            visible = line.provider_company_id in self.env.companies
            line.cost_visible = visible
            line.cost_amount = (
                sum(
                    self.env["ps.ic.recharge.entry"]
                    .sudo()
                    .search([("recharge_line_id", "=", line.id)])
                    .mapped("cost_amount")
                )
                if visible
                else 0.0
            )

    def action_view_items(self):
        """What was recharged on this line: the provider sees its ledger entries (with the cost
        base); the receiver sees the timesheet lines (or expenses) of its own projects."""
        self.ensure_one()
        self.check_access("read")
        entries = (
            self.env["ps.ic.recharge.entry"].sudo().search([("recharge_line_id", "=", self.id)])
        )
        if self.provider_company_id in self.env.companies:
            return {
                "type": "ir.actions.act_window",
                "res_model": "ps.ic.recharge.entry",
                "name": self.name,
                "view_mode": "list",
                "domain": [("id", "in", entries.ids)],
            }
        if self.item_kind == pricing.EXPENSE:
            return {
                "type": "ir.actions.act_window",
                "res_model": "hr.expense",
                "name": self.name,
                "view_mode": "list,form",
                "domain": [("id", "in", entries.expense_id.ids)],
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.analytic.line",
            "name": self.name,
            "view_mode": "list,form",
            "domain": [("id", "in", entries.timesheet_id.ids)],
        }
