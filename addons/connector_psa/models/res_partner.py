from odoo import models


class ResPartner(models.Model):
    """Customers created as PSA clients show their external IDs."""

    _name = "res.partner"
    _inherit = ["res.partner", "connector.binding.mixin"]
