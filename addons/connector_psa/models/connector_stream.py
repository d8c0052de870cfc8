from datetime import timedelta

from odoo import api, fields, models

from .connector_backend_psa import STREAM_INTERVAL_FIELDS


class ConnectorStream(models.Model):
    """PSA streams run on intervals of their own (time every 15 min, people once a day...)."""

    _inherit = "connector.stream"

    def _psa_interval(self):
        """Minutes between two pulls of a PSA stream, or None for other streams."""
        field = STREAM_INTERVAL_FIELDS.get(self.code)
        if not field or field not in self.backend_id._fields:
            return None
        return max(self.backend_id[field] or 0, 1)

    def _is_due(self, now):
        interval = self._psa_interval()
        if interval is None:
            return super()._is_due(now)
        return not self.last_run_at or now - self.last_run_at >= timedelta(minutes=interval)

    @api.depends("last_success_at", "backend_id.sync_interval")
    def _compute_is_stale(self):
        super()._compute_is_stale()
        factor = self.env["connector.job"]._queue_setting("alert_stale_stream_factor")
        now = fields.Datetime.now()
        for stream in self:
            interval = stream._psa_interval()
            if interval is None or not stream.is_stale:
                continue
            limit = timedelta(minutes=interval * factor)
            stream.is_stale = not stream.last_success_at or now - stream.last_success_at > limit
