from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PsCostRate(models.Model):
    """An employee's cost per hour from a date on (history kept for margins)."""

    _name = "ps.cost.rate"
    _description = "Employee Cost Rate"
    _order = "employee_id, date_from desc"

    employee_id = fields.Many2one("hr.employee", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_from = fields.Date(string="From", required=True)
    cost = fields.Monetary(string="Cost per hour", required=True, currency_field="currency_id")

    _sql_constraints = [
        (
            "employee_date_uniq",
            "unique(employee_id, date_from)",
            "One cost rate per employee and date.",
        ),
    ]

    @api.constrains("cost")
    def _check_cost(self):
        for rate in self:
            if rate.cost < 0:
                raise ValidationError(_("A cost rate cannot be negative."))

    @api.model
    def _cost_lookup(self, employee_ids):
        """{employee id: [(date_from, cost), ...] newest first} in one query."""
        history = {}
        for rate in self.sudo().search([("employee_id", "in", list(employee_ids))]):
            history.setdefault(rate.employee_id.id, []).append((rate.date_from, rate.cost))
        return history

    @staticmethod
    def _cost_on(history, day, fallback):
        for date_from, cost in history or ():
            if date_from <= day:
                return cost
        return fallback
