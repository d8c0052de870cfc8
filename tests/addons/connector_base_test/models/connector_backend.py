from odoo import fields, models

from ..adapters import TestAdapter


class ConnectorBackend(models.Model):
    _inherit = "connector.backend"

    backend_type = fields.Selection(
        selection_add=[("test", "Test (connector_base_test)")], ondelete={"test": "set default"}
    )

    def _adapter_class(self):
        if self.backend_type == "test":
            return TestAdapter
        return super()._adapter_class()
