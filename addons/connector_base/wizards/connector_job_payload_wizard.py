import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..const import EDITABLE_STATES


class ConnectorJobPayloadWizard(models.TransientModel):
    """A Connector Manager fixes the payload of a failed job and replays it (audited)."""

    _name = "connector.job.payload.wizard"
    _description = "Edit a job payload and replay it"

    job_id = fields.Many2one("connector.job", required=True, readonly=True)
    last_error = fields.Text(related="job_id.last_error")
    payload = fields.Text(required=True, help="JSON. Credentials are removed when saved.")
    reason = fields.Char(required=True, help="Why the payload is changed: kept in the audit log.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        job = self.env["connector.job"].browse(values.get("job_id"))
        if job and "payload" in fields_list:
            values["payload"] = job.payload_display
        return values

    def action_save_and_retry(self):
        self.ensure_one()
        self.env["connector.job"]._check_payload_editor()
        job = self.job_id
        if job.state not in EDITABLE_STATES:
            raise UserError(
                _("Job %s is no longer dead or waiting for attention: reload it.", job.id)
            )
        try:
            json.loads(self.payload)
        except ValueError as exc:
            raise UserError(
                _("The payload is not valid JSON (%s): correct it and save again.", exc)
            ) from None
        job._replace_payload(self.payload, self.reason)
        return job.action_retry()
