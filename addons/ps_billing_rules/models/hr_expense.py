from odoo import models


class HrExpense(models.Model):
    """Re-invoiced expenses are billable items (billed at cost or sales price plus markup)."""

    _name = "hr.expense"
    _inherit = ["hr.expense", "ps.billable.mixin"]
