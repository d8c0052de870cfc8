"""Retention of connector.job: old finished jobs leave in batches (payloads hold personal data)."""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models

from ..const import FAILED_STATES, FINISHED_STATES, PURGE_BATCH_SIZE

_logger = logging.getLogger(__name__)


class ConnectorJobPurge(models.Model):
    _inherit = "connector.job"

    @api.model
    def _cron_purge(self, now=None, time_budget=60):
        """Delete old finished jobs (their payloads hold personal data) and old audit entries,
        in batches, committing between batches; reports what remains so the cron comes back."""
        now = now or fields.Datetime.now()
        deadline = time.monotonic() + time_budget
        finished_limit = now - timedelta(days=self._queue_setting("job_retention_days"))
        failed_limit = now - timedelta(days=self._queue_setting("failed_job_retention_days"))
        audit_days = self._queue_setting("audit_retention_days")
        steps = [
            (
                "finished jobs",
                """DELETE FROM connector_job WHERE id IN (
                       SELECT id FROM connector_job
                       WHERE state IN %s AND done_at < %s LIMIT %s)""",
                FINISHED_STATES,
                finished_limit,
            ),
            (
                "failed jobs",
                """DELETE FROM connector_job WHERE id IN (
                       SELECT id FROM connector_job
                       WHERE state IN %s
                         AND COALESCE(done_at, write_date, create_date) < %s LIMIT %s)""",
                FAILED_STATES,
                failed_limit,
            ),
        ]
        deleted = 0
        unfinished = False
        for label, query, states, limit_date in steps:
            while True:
                if time.monotonic() >= deadline:
                    unfinished = True
                    break
                self.env.cr.execute(query, (states, limit_date, PURGE_BATCH_SIZE))
                count = self.env.cr.rowcount
                deleted += count
                self.env["ir.cron"]._commit_progress()
                if count:
                    _logger.info("connector purge: %s %s deleted", count, label)
                if count < PURGE_BATCH_SIZE:
                    break
        Audit = self.env["connector.audit.log"]
        while not unfinished:
            if time.monotonic() >= deadline:
                unfinished = True
                break
            count = Audit._purge_expired(audit_days, now)
            deleted += count
            self.env["ir.cron"]._commit_progress()
            if count < PURGE_BATCH_SIZE:
                break
        self.env["ir.cron"]._commit_progress(done=deleted, remaining=1 if unfinished else 0)
        return deleted
