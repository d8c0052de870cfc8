from odoo import fields, models


class HrExpenseSheet(models.Model):
    """Expense reports the PSA import groups per backend, employee and month."""

    _inherit = "hr.expense.sheet"

    psa_backend_id = fields.Many2one(
        "connector.backend",
        string="PSA backend",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )
    psa_period_start = fields.Date(string="PSA period from", readonly=True)
    psa_period_end = fields.Date(string="PSA period to", readonly=True)
