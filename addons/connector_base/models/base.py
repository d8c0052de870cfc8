from odoo import api, models

from ..const import CTX_JOB_ID, CTX_NO_AUDIT

# Technical models whose rows are not business records: never audited as job writes.
NOT_AUDITED_PREFIXES = ("ir.", "mail.", "bus.", "res.users.log", "base.", "web_")


class Base(models.AbstractModel):
    """Audit every write a sync job makes to a business record.

    Job handlers run with the job id in their context (see connector.job); any create, write or
    unlink made in that context, by the handler or by what it triggers in Odoo, is recorded with
    the job and correlation id. Skipped: models that audit themselves (connector.audited.mixin),
    the queue's own technical models (``_connector_technical = True``) and Odoo's technical ones.
    """

    _inherit = "base"

    def _connector_job_audit_active(self):
        return (
            self.env.context.get(CTX_JOB_ID)
            and not self.env.context.get(CTX_NO_AUDIT)
            and not self._transient
            and not self._abstract
            and not self._name.startswith(NOT_AUDITED_PREFIXES)
            and not getattr(self, "_connector_audited", False)
            and not getattr(self, "_connector_technical", False)
        )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records._connector_job_audit_active():
            self.env["connector.audit.log"]._log_create(records, vals_list)
        return records

    def write(self, vals):
        if not self or not self._connector_job_audit_active():
            return super().write(vals)
        Audit = self.env["connector.audit.log"]
        old_values = Audit._changes_before_write(self, vals)
        result = super().write(vals)
        Audit._log_write(self, vals, old_values)
        return result

    def unlink(self):
        if self and self._connector_job_audit_active():
            self.env["connector.audit.log"]._log_unlink(self)
        return super().unlink()
