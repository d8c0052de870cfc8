"""What people do with jobs: retry, cancel, edit a failed job's payload (all audited)."""

import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import (
    CANCELLABLE_STATES,
    EDITABLE_STATES,
    GROUP_MANAGER,
    JOB_CANCELLED,
    JOB_PENDING,
    RETRYABLE_STATES,
)
from ..engine.redaction import redact_mapping


class ConnectorJobActions(models.Model):
    _inherit = "connector.job"

    def action_retry(self):
        """Run again now, with a fresh set of attempts (dead, needs attention or cancelled).

        Connector Users may retry: the job runs exactly as it was queued (its operation and
        backend cannot change, its payload only through a Connector Manager's audited edit).
        """
        self.check_access("read")
        jobs = self.filtered(lambda j: j.state in RETRYABLE_STATES)
        if not jobs:
            raise UserError(
                _("Only jobs that are dead, need attention or were cancelled can be retried.")
            )
        now = fields.Datetime.now()
        self.env.cr.execute(
            """UPDATE connector_job
               SET state = %s, eta = %s, attempts = 0, lease_until = NULL,
                   claimed_by = NULL, write_uid = %s, write_date = %s
               WHERE id = ANY(%s) AND state IN %s""",
            (JOB_PENDING, now, self.env.uid, now, jobs.ids, RETRYABLE_STATES),
        )
        jobs.invalidate_recordset()
        self.env["connector.audit.log"]._log_many(
            [
                {
                    "action": "replay",
                    "record": job,
                    "backend": job.backend_id,
                    "message": _("Retried by hand"),
                }
                for job in jobs
            ]
        )
        self._trigger_runners()
        return self._notify(_("%s job(s) queued again.", len(jobs)))

    def action_cancel(self):
        self.check_access("read")
        jobs = self.filtered(lambda j: j.state in CANCELLABLE_STATES)
        if not jobs:
            raise UserError(
                _(
                    "Only pending, dead or needs-attention jobs can be cancelled (running jobs end by "
                    "themselves)."
                )
            )
        now = fields.Datetime.now()
        self.env.cr.execute(
            """UPDATE connector_job SET state = %s, done_at = %s, write_uid = %s, write_date = %s
               WHERE id = ANY(%s) AND state IN %s""",
            (JOB_CANCELLED, now, self.env.uid, now, jobs.ids, CANCELLABLE_STATES),
        )
        jobs.invalidate_recordset()
        self.env["connector.audit.log"]._log_many(
            [{"action": "cancel", "record": job, "backend": job.backend_id} for job in jobs]
        )
        return self._notify(_("%s job(s) cancelled.", len(jobs)))

    def action_edit_payload(self):
        self.ensure_one()
        self._check_payload_editor()
        if self.state not in EDITABLE_STATES:
            raise UserError(_("Only the payload of a dead or needs-attention job can be edited."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Edit payload and replay"),
            "res_model": "connector.job.payload.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_job_id": self.id},
        }

    def _check_payload_editor(self):
        if not self.env.su and not self.env.user.has_group(GROUP_MANAGER):
            raise AccessError(_("Only a Connector Manager can edit the payload of a job."))

    def _replace_payload(self, new_payload, reason):
        """Store an edited payload (valid JSON, redacted) and audit old -> new.

        The one way a payload changes after queuing: Connector Managers only, failed jobs only
        (a pending or running job would run with data nobody reviewed), always audited.
        """
        self.ensure_one()
        self._check_payload_editor()
        if self.state not in EDITABLE_STATES:
            raise UserError(
                _(
                    "Only the payload of a dead or needs-attention job can be edited (job %s).",
                    self.id,
                )
            )
        try:
            data = json.loads(new_payload)
        except (TypeError, ValueError) as exc:
            raise UserError(
                _("The payload is not valid JSON (%s): correct it and save again.", exc)
            ) from None
        text = json.dumps(redact_mapping(data), default=str)
        old = self.payload
        self.env.cr.execute(
            "UPDATE connector_job SET payload = %s, write_uid = %s, write_date = %s WHERE id = %s",
            (text, self.env.uid, fields.Datetime.now(), self.id),
        )
        self.invalidate_recordset()
        self.env["connector.audit.log"]._log(
            "payload_edit",
            record=self,
            backend=self.backend_id,
            changes={"payload": [old, text]},
            message=reason,
        )

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "sticky": False,
                # Reload the list or form so the new state shows (and close a dialog).
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _action_open(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_base.action_connector_job"
        )
        if len(self) == 1:
            action.update({"res_id": self.id, "view_mode": "form", "views": [(False, "form")]})
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action

    def action_open_result(self):
        self.ensure_one()
        if not (self.result_model and self.result_id):
            raise UserError(_("This job did not produce a record."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.result_model,
            "res_id": self.result_id,
            "view_mode": "form",
        }

    @api.model
    def _count_by_state(self, backend_ids=None):
        domain = [("backend_id", "in", backend_ids)] if backend_ids else []
        return dict(self._read_group(domain, ["state"], ["__count"]))
