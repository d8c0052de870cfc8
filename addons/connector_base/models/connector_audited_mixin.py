from odoo import api, models

from ..const import CTX_NO_AUDIT


class ConnectorAuditedMixin(models.AbstractModel):
    """Every create, write and unlink of the inheriting model lands in the connector audit log.

    For configuration that decides what a connector does: backends, streams, and the mapping
    models of connector addons (companies, products, billing models, field ownership...).
    """

    _name = "connector.audited.mixin"
    _description = "Connector: audited configuration"
    # Tells the job-write audit (models/base.py) that these models audit themselves.
    _connector_audited = True

    def _connector_audit_active(self):
        return not self.env.context.get(CTX_NO_AUDIT)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records._connector_audit_active():
            self.env["connector.audit.log"]._log_create(records)
        return records

    def write(self, vals):
        if not self._connector_audit_active():
            return super().write(vals)
        Audit = self.env["connector.audit.log"]
        old_values = Audit._changes_before_write(self, vals)
        result = super().write(vals)
        Audit._log_write(self, vals, old_values)
        return result

    def unlink(self):
        if self._connector_audit_active():
            self.env["connector.audit.log"]._log_unlink(self)
        return super().unlink()
