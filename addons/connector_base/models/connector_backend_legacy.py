"""TRANSITION: the hooks connector addons overrode before adapters existed.

Remove this file and adapters/legacy.py once connector_crm maps its types to adapter classes
(``_adapter_class``): nothing in connector_base calls these hooks except LegacyHooksAdapter,
which backends of such types get, and the runner's look-up of ``_job_<operation>`` methods.
"""

from odoo import _, models

from ..engine import signatures
from ..engine.errors import ConnectorError


class ConnectorBackendLegacy(models.Model):
    _inherit = "connector.backend"

    def _connector_test_connection(self):
        raise ConnectorError(
            _("Test connection is not implemented for backend type %s.", self.backend_type)
        )

    def _webhook_verify(self, method, url, headers, body, now):
        raise signatures.SignatureError(
            f"backend type {self.backend_type} does not accept webhooks", reason="missing"
        )

    def _webhook_events(self, payload, headers):
        raise ValueError(f"backend type {self.backend_type} does not read webhook events")

    def _connector_after_failure(self, job_row, state, message):
        return None

    def _legacy_job_handler(self, operation):
        """The method ``_job_<operation>`` (dots and dashes as underscores), if any."""
        method_name = "_job_" + operation.replace(".", "_").replace("-", "_")
        return getattr(self, method_name, None)
