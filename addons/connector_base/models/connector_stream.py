from datetime import timedelta

from odoo import _, api, fields, models

from ..const import (
    BACKEND_ACTIVE,
    CTX_NO_AUDIT,
    DIRECTION_INBOUND,
    OP_STREAM_PULL,
    SOURCE_PULL,
    SOURCE_USER,
)


class ConnectorStream(models.Model):
    """A flow of records pulled from a backend (e.g. "deals", "time entries") with its own cursor.

    A scheduled pull queues one ``stream.pull`` job per due stream; the backend's adapter
    (``adapter.pull(stream, job)``, dispatching on the stream's code) reads from the cursor,
    queues or applies what it read, and records its progress with
    ``stream._record_pull_result(new cursor, count)``.
    """

    _name = "connector.stream"
    _description = "Connector Stream"
    _inherit = ["connector.audited.mixin"]
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    code = fields.Char(required=True, help="Technical name used by the handler, e.g. deals.")
    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    cursor_date = fields.Datetime(
        string="Cursor (date)",
        help="Records changed since this moment are read by the next pull.",
    )
    cursor_value = fields.Char(
        string="Cursor (token)", help="Opaque position given by the remote API (page token...)."
    )
    last_run_at = fields.Datetime(readonly=True)
    last_success_at = fields.Datetime(string="Last successful sync", readonly=True)
    last_error = fields.Text(readonly=True)
    last_count = fields.Integer(string="Records in last pull", readonly=True)
    is_stale = fields.Boolean(compute="_compute_is_stale")

    _sql_constraints = [
        ("backend_code_uniq", "unique(backend_id, code)", "A backend has each stream once."),
    ]

    @api.depends("last_success_at", "backend_id.sync_interval", "backend_id.active_since")
    def _compute_is_stale(self):
        """Stale: no successful pull for ``factor`` sync intervals, counted from the last success
        or, for a stream that never succeeded, from when it could first have been pulled (the
        stream's creation or the backend's activation, whichever is later)."""
        factor = self.env["connector.job"]._queue_setting("alert_stale_stream_factor")
        now = fields.Datetime.now()
        for stream in self:
            backend = stream.backend_id
            limit = timedelta(minutes=backend.sync_interval * factor)
            since = stream.last_success_at or stream._expected_since() or now
            stream.is_stale = bool(
                stream.active and backend.state == BACKEND_ACTIVE and now - since > limit
            )

    def _expected_since(self):
        """From when this stream could have been pulled: its creation or its backend's
        activation, whichever is later (None for a stream not saved yet)."""
        self.ensure_one()
        return max(filter(None, (self.create_date, self.backend_id.active_since)), default=None)

    def _is_due(self, now):
        self.ensure_one()
        interval = timedelta(minutes=self.backend_id.sync_interval)
        return not self.last_run_at or now - self.last_run_at >= interval

    def _schedule_pull(self, now, source=SOURCE_PULL):
        """Queue a pull job; the time slot in its key makes double scheduling harmless."""
        jobs = self.env["connector.job"]
        for stream in self:
            interval = max(stream.backend_id.sync_interval, 1) * 60
            slot = int(now.timestamp()) // interval
            jobs |= stream.backend_id._enqueue(
                OP_STREAM_PULL,
                {"stream_id": stream.id, "code": stream.code},
                idempotency_key=f"pull:{stream.id}:{slot}" if source == SOURCE_PULL else None,
                record_key=f"stream:{stream.id}",
                direction=DIRECTION_INBOUND,
                source=source,
            )
            # Bookkeeping, not configuration: not worth an audit entry per pull.
            stream.sudo().with_context(**{CTX_NO_AUDIT: True}).write({"last_run_at": now})
        return jobs

    def action_pull_now(self):
        self.env["connector.backend"]._check_manager()
        jobs = self._schedule_pull(fields.Datetime.now(), source=SOURCE_USER)
        return jobs._action_open()

    def action_reset_cursor(self):
        self.env["connector.backend"]._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Resync from a date"),
            "res_model": "connector.stream.reset.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_stream_ids": self.ids},
        }

    def _record_pull_result(self, new_cursor_date=None, new_cursor_value=None, count=0):
        values = {
            "last_success_at": fields.Datetime.now(),
            "last_error": False,
            "last_count": count,
        }
        if new_cursor_date is not None:
            values["cursor_date"] = new_cursor_date
        if new_cursor_value is not None:
            values["cursor_value"] = new_cursor_value or False
        # The cursor moves on every pull: bookkeeping, not an audited configuration change.
        self.sudo().with_context(**{CTX_NO_AUDIT: True}).write(values)

    def _run_pull(self, job):
        """Called by the stream.pull job: the backend's adapter reads this stream."""
        self.ensure_one()
        return job.backend_id.with_env(self.env)._adapter().pull(self, job)

    @api.model
    def _cron_schedule_pulls(self):
        """Queue a pull for every stream whose sync interval has elapsed (runnable backends)."""
        now = fields.Datetime.now()
        backends = self.env["connector.backend"]._runnable_backends()
        streams = self.sudo().search([("active", "=", True), ("backend_id", "in", backends.ids)])
        due = streams.filtered(lambda stream: stream._is_due(now))
        due._schedule_pull(now)
        return due
