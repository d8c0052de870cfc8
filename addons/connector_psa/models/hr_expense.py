from odoo import fields, models

from odoo.addons.connector_base.const import CTX_JOB_ID


class HrExpense(models.Model):
    """Expenses imported from a PSA: the entry they come from and what the PSA said."""

    _inherit = "hr.expense"

    psa_backend_id = fields.Many2one(
        "connector.backend",
        string="PSA backend",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )
    psa_remote_id = fields.Char(string="PSA expense ID", readonly=True, copy=False, index=True)
    psa_user_ref = fields.Char(string="PSA user ID", readonly=True, copy=False)
    psa_category = fields.Char(string="PSA category", readonly=True, copy=False)
    psa_amount = fields.Float(string="PSA amount", readonly=True, copy=False)
    psa_billable = fields.Boolean(string="Billable in the PSA", readonly=True, copy=False)
    psa_fingerprint = fields.Char(readonly=True, copy=False)
    psa_updated_at = fields.Datetime(string="PSA updated at", readonly=True, copy=False)
    psa_deleted = fields.Boolean(string="Deleted in the PSA", readonly=True, copy=False)

    def _psa_is_locked(self):
        """Posted, approved or billed: the sync no longer changes it (a correction does)."""
        self.ensure_one()
        return self.ps_billing_state == "billed" or self.state in ("approved", "done")

    def _psa_is_billed(self):
        return self._psa_is_locked()

    def _psa_remove_deleted(self, tool, reason="deleted"):
        if not self.env.context.get(CTX_JOB_ID):
            self.env["connector.audit.log"]._log_unlink(self)
        sheets = self.sheet_id
        self.unlink()
        sheets.filtered(lambda s: not s.expense_line_ids and s.state == "draft").unlink()
