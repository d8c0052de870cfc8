"""What the CRM adapters and the engagements ask of a CRM backend while syncing: which deals it
wants, which records are bound already, and the write-back push job (with its daily refresh)."""

from odoo import api, fields, models

from ..const import CRM_TYPES, OP_PUSH


class ConnectorBackendSync(models.Model):
    _inherit = "connector.backend"

    def _crm_start_date(self):
        return self.crm_start_date or fields.Date.context_today(self)

    def _crm_wanted(self, deal, bound_ids):
        """Deals a pull queues: already converted ones (amendments) and won ones since the start
        date; everything else (open deals, old wins) is history this backend ignores."""
        if deal["id"] in bound_ids:
            return True
        if not deal.get("is_won") or deal.get("deleted"):
            return False
        return bool(deal.get("close_date")) and deal["close_date"] >= fields.Date.to_string(
            self._crm_start_date()
        )

    def _crm_bound_ids(self, remote_type, remote_ids):
        """The ids among ``remote_ids`` that are bound to an Odoo record on this backend."""
        if not remote_ids:
            return set()
        self.env.cr.execute(
            """SELECT remote_id FROM connector_binding
               WHERE backend_id = %s AND remote_type = %s AND remote_id = ANY(%s)""",
            (self.id, remote_type, list(remote_ids)),
        )
        return {row[0] for row in self.env.cr.fetchall()}

    # Write-back of deal status and Odoo-owned partner fields ---------------------------------

    def _crm_request_push(self):
        """Make sure one push job is pending for these backends (changes are flagged on the
        bindings; the job pushes all flagged records in batches)."""
        Job = self.env["connector.job"].sudo()
        for backend in self.filtered(lambda b: b.backend_type in CRM_TYPES):
            pending = Job.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("operation", "=", OP_PUSH),
                    ("state", "=", "pending"),
                ],
                limit=1,
            )
            if not pending:
                backend.sudo()._enqueue(OP_PUSH, {}, direction="outbound", source="system")

    @api.model
    def _cron_crm_refresh_writeback(self):
        """Daily: every converted deal's status is recomputed (overdue amounts move with the
        calendar); only what changed is pushed."""
        backends = self._runnable_backends().filtered(lambda b: b.backend_type in CRM_TYPES)
        for backend in backends:
            bindings = (
                self.env["connector.binding"]
                .sudo()
                .search([("backend_id", "=", backend.id), ("remote_type", "=", "deal")])
            )
            bindings.write({"crm_push_pending": True})
            if bindings:
                backend._crm_request_push()
        return True
