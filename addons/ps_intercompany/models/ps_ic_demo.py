from odoo import api, models


class PsIcDemo(models.AbstractModel):
    _name = "ps.ic.demo"
    _description = "Intercompany demo data"

    @api.model
    def _setup(self):
        return True
