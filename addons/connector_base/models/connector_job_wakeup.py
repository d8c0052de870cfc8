"""Waking the queue runners: their crons, triggers, and the heartbeat's wake-ups.

Odoo 18 runs a cron when its ``nextcall`` or one of its ``ir.cron.trigger`` rows is due; its cron
threads poll every 60 s and wake early only on a NOTIFY, which ``_trigger()`` sends for triggers
due now (not for future ones). So the queue wakes its runners at the moment work appears: when
jobs are queued or retried (``_trigger_runners``), when a runner stops with work left, and from
the heartbeat (heartbeat.py) when a dead runner's jobs were reclaimed or jobs wait unattended.
"""

from datetime import timedelta

from odoo import _, api, fields, models

from .. import heartbeat
from ..const import JOB_PENDING, JOB_RUNNING


class ConnectorJobWakeup(models.Model):
    _inherit = "connector.job"

    def _register_hook(self):
        super()._register_hook()
        # A server with cron threads: reclaim and wake as soon as it starts (its cron threads
        # would otherwise first poll after 60 s), and keep doing so while it runs.
        if heartbeat.serves_crons():
            heartbeat.HEARTBEAT.ensure_started()

    @api.model
    def _trigger_runners(self):
        """Wake every queue-runner cron (several runners drain the queue in parallel): one
        trigger due now each, and a NOTIFY at commit."""
        for cron in self._runner_crons():
            cron._trigger()

    @api.model
    def _runner_crons(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .search([*self._runner_cron_domain(), ("active", "=", True)], order="id")
        )

    @api.model
    def _sync_runner_crons(self, count):
        """Keep exactly ``count`` active queue-runner crons (copies of the first one)."""
        crons = self._runner_crons_all()
        if not crons:
            return
        template = crons[0]
        while len(crons) < count:
            crons |= template.copy(
                {"name": _("Connector: queue runner #%s", len(crons) + 1), "active": True}
            )
        to_activate = crons[:count].filtered(lambda cron: not cron.active)
        to_deactivate = crons[count:].filtered("active")
        if to_activate:
            to_activate.write({"active": True})
        if to_deactivate:
            to_deactivate.write({"active": False})

    @api.model
    def _runner_crons_all(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .with_context(active_test=False)
            .search(self._runner_cron_domain(), order="id")
        )

    @api.model
    def _runner_cron_domain(self):
        return [
            ("ir_actions_server_id.model_id.model", "=", "connector.job"),
            ("ir_actions_server_id.code", "=", "model._cron_process_queue()"),
        ]

    @api.model
    def _wake_runners(self):
        """Make every active queue runner due now (unless it already is) and wake the cron
        threads of every server of this database at commit, even when the triggers exist: a
        thread that was busy when they were created sleeps until it is notified again."""
        crons = self._runner_crons()
        if not crons:
            return
        now = fields.Datetime.now()
        self.env.cr.execute(
            """SELECT DISTINCT cron_id FROM ir_cron_trigger
               WHERE cron_id = ANY(%s) AND call_at <= %s""",
            (crons.ids, now),
        )
        due = {row[0] for row in self.env.cr.fetchall()}
        for cron in crons.filtered(lambda cron: cron.id not in due):
            cron._trigger()
        self.env.cr.postcommit.add(crons[:1]._notifydb)

    @api.model
    def _schedule_next_wakeup(self, now):
        """A fallback where no heartbeat runs: a future trigger at the next lease expiry or
        retry, which Odoo's cron threads run at their next poll (within a minute)."""
        self.env.cr.execute(
            """SELECT LEAST(
                   (SELECT min(COALESCE(l.lease_until, j.lease_until))
                      FROM connector_job j
                      LEFT JOIN connector_job_lease l ON l.name = j.claimed_by
                     WHERE j.state = %s),
                   (SELECT min(eta) FROM connector_job WHERE state = %s AND eta > %s))""",
            (JOB_RUNNING, JOB_PENDING, now),
        )
        wake_at = self.env.cr.fetchone()[0]
        if not wake_at:
            return
        wake_at = max(wake_at, now) + timedelta(seconds=1)
        for cron in self._runner_crons():
            has_trigger = (
                self.env["ir.cron.trigger"]
                .sudo()
                .search_count(
                    [("cron_id", "=", cron.id), ("call_at", ">", now), ("call_at", "<=", wake_at)],
                    limit=1,
                )
            )
            if not has_trigger:
                cron._trigger(at=wake_at)

    @api.model
    def _heartbeat_tick(self, renew=(), release=(), now=None):
        """One beat of a process's heartbeat in this database (see heartbeat.py).

        Renews the leases of the claims ``renew``, deletes those of ``release``, reclaims the
        jobs of expired leases, and wakes the runners when it reclaimed some or when a job has
        been ready for a whole beat without a runner taking it. Commits between the steps (its
        own transaction). Returns the seconds until the next beat: a quarter of the lease
        (between 1 and 5 s), so a lease is renewed several times before it could expire.
        """
        now = now or fields.Datetime.now()
        lease = self._queue_setting("lease_seconds")
        interval = min(max(lease / 4, 1.0), heartbeat.MAX_TICK_SECONDS)
        IrCron = self.env["ir.cron"]
        if release:
            self._drop_leases(release)
        if renew:
            self._renew_leases(renew, now)
        IrCron._commit_progress()
        reclaimed = self._reclaim_expired_leases(now)
        IrCron._commit_progress()
        if reclaimed or self._ready_unattended(now, now - timedelta(seconds=interval)):
            self._wake_runners()
            IrCron._commit_progress()
        return interval
