from odoo import _, models
from odoo.exceptions import UserError


class ConnectorJob(models.Model):
    """From a PSA job that needs attention to the record a person fixes."""

    _inherit = "connector.job"

    def action_psa_open_person(self):
        self.ensure_one()
        key = self.record_key or ""
        remote = key.split(":", 1)[1] if key.startswith("user:") else None
        if remote is None:
            entry = (self._payload() or {}).get("entry") or {}
            remote = entry.get("user_id")
        person = self.env["connector.psa.person"].search(
            [("backend_id", "=", self.backend_id.id), ("remote_id", "=", remote)], limit=1
        )
        if not person:
            raise UserError(
                _("This PSA user is not listed yet: run the backend's people pull first.")
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": "connector.psa.person",
            "res_id": person.id,
            "view_mode": "form",
        }
