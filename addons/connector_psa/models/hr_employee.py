from odoo import models


class HrEmployee(models.Model):
    """Employees linked to PSA users show their external IDs."""

    _name = "hr.employee"
    _inherit = ["hr.employee", "connector.binding.mixin"]
