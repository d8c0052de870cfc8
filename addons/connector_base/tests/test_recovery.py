"""Recovery after a runner dies: leases, their renewal by the heartbeat, reclaiming, wake-ups,
and claims that conflict with another runner's (the multi-process proof is in
tests/integration/test_queue_processes.py)."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.connector_base.models.connector_job_claim import ClaimConflict

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestRecovery(ConnectorCase):
    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now().replace(microsecond=0)
        self.lease = self.Job._queue_setting("lease_seconds")
        self.Lease = self.env["connector.job.lease"]
        self.runners = self.Job._runner_crons()
        # Only this test's backend has work (the database may hold demo backends and jobs).
        others = self.env["connector.backend"].search([("id", "!=", self.backend.id)])
        others.write({"state": "paused"})

    def clear_triggers(self):
        """Forget the triggers of the enqueue (this test is about the heartbeat's own)."""
        self.env["ir.cron.trigger"].search([("cron_id", "in", self.runners.ids)]).unlink()

    def due_triggers(self, at):
        return self.env["ir.cron.trigger"].search_count(
            [("cron_id", "in", self.runners.ids), ("call_at", "<=", at)]
        )

    def test_default_lease_lets_work_resume_within_a_minute(self):
        self.assertLessEqual(self.lease, 45, "a dead runner's jobs must be back within 60 s")
        self.assertGreaterEqual(
            self.lease,
            3 * self.Job._queue_setting("runner_time_budget"),
            "and the lease covers a runner call",
        )

    def test_a_claim_holds_a_lease_that_the_heartbeat_renews(self):
        job = self.enqueue("noop")
        claim, _rows = self.Job._claim_batch(self.backend, "live-worker", 10, self.now)
        lease = self.Lease.search([("name", "=", claim)])
        self.assertEqual(lease.lease_until, self.now + timedelta(seconds=self.lease))
        # Long after the first lease would have run out, the heartbeat of the live process
        # renews it: the job is not reclaimed.
        later = self.now + timedelta(seconds=self.lease * 3)
        for step in range(1, 7):
            self.Job._heartbeat_tick(renew={claim}, now=self.now + timedelta(seconds=step * 10))
        lease.invalidate_recordset()
        self.assertEqual(lease.lease_until, self.now + timedelta(seconds=60 + self.lease))
        self.assertEqual(self.Job._reclaim_expired_leases(later), 0)
        job.invalidate_recordset()
        self.assertEqual((job.state, job.claimed_by), ("running", claim))

    def test_a_dead_runners_jobs_are_reclaimed_and_the_runners_woken(self):
        job = self.enqueue("noop")
        claim, _rows = self.Job._claim_batch(self.backend, "dead-worker", 10, self.now)
        self.clear_triggers()
        before = self.now + timedelta(seconds=self.lease - 1)
        self.Job._heartbeat_tick(now=before)
        job.invalidate_recordset()
        self.assertEqual(job.state, "running", "not before its lease expires")
        self.assertEqual(self.due_triggers(fields.Datetime.now()), 0, "nothing to wake yet")
        after = self.now + timedelta(seconds=self.lease + 1)
        with patch.object(type(self.env["ir.cron"]), "_notifydb") as notify:
            self.Job._heartbeat_tick(now=after)
            self.env.cr.postcommit.run()
        job.invalidate_recordset()
        self.assertEqual((job.state, job.attempts), ("pending", 1), "back in the queue")
        self.assertEqual(self.attempts(job).outcome, "lease_expired", "the lost attempt counts")
        self.assertIn("dead-worker", job.last_error, "the error names the runner that stopped")
        self.assertEqual(
            self.due_triggers(fields.Datetime.now()),
            len(self.runners),
            "every runner is due now: Odoo's cron threads poll only due crons",
        )
        self.assertTrue(notify.called, "and the cron threads are woken (NOTIFY cron_trigger)")
        self.assertFalse(self.Lease.search([("name", "=", claim)]), "the dead lease is removed")
        self.run_queue(now=after)
        self.assertEqual(job.state, "done")

    def test_the_heartbeat_wakes_runners_for_work_nobody_took(self):
        self.enqueue("noop")
        self.clear_triggers()
        with patch.object(type(self.env["ir.cron"]), "_notifydb") as notify:
            self.Job._heartbeat_tick(now=self.now)
            self.env.cr.postcommit.run()
        self.assertFalse(notify.called, "a job queued this instant is the enqueue's trigger's")
        with patch.object(type(self.env["ir.cron"]), "_notifydb") as notify:
            self.Job._heartbeat_tick(now=self.now + timedelta(seconds=30))
            self.env.cr.postcommit.run()
        self.assertTrue(notify.called, "a job ready for a whole beat wakes the runners")
        self.assertEqual(self.due_triggers(fields.Datetime.now()), len(self.runners))

    def test_a_backed_off_retry_wakes_the_runners_when_due(self):
        job = self.enqueue("noop", eta=self.now + timedelta(minutes=5))
        with patch.object(type(self.env["ir.cron"]), "_notifydb") as notify:
            self.Job._heartbeat_tick(now=self.now + timedelta(minutes=4))
            self.env.cr.postcommit.run()
            self.assertFalse(notify.called, "not before its eta")
            self.Job._heartbeat_tick(now=self.now + timedelta(minutes=5, seconds=10))
            self.env.cr.postcommit.run()
            self.assertTrue(notify.called, "woken once it is due, not at the next cron minute")
        self.assertEqual(job.state, "pending")

    def test_released_claims_drop_their_lease(self):
        self.enqueue("noop")
        claim, _rows = self.Job._claim_batch(self.backend, "worker", 10, self.now)
        self.Job._heartbeat_tick(release={claim}, now=self.now)
        self.assertFalse(self.Lease.search([("name", "=", claim)]))

    def test_a_runner_drops_its_leases_when_no_heartbeat_runs(self):
        self.enqueue("noop")
        self.run_queue(now=self.now)
        self.assertFalse(self.Lease.search([]), "no lease outlives its batch")

    def test_a_job_of_a_lost_claim_is_not_started(self):
        """Fencing before the handler runs: a runner whose lease was taken over skips the job
        instead of running it a second time."""
        job = self.enqueue("test.behave", {"record": "once"})
        claim, rows = self.Job._claim_batch(self.backend, "slow-worker", 10, self.now)
        later = self.now + timedelta(seconds=self.lease + 1)
        self.Job._reclaim_expired_leases(later)
        self.run_queue(now=later)
        self.assertEqual(job.state, "done")
        row = next(r for r in rows if r["id"] == job.id)
        backend = self.Job._handler_backend(self.backend)
        self.Job._run_claimed_job(backend, claim, row, later)
        self.assertEqual(
            self.env["connector.test.record"].search_count([("name", "=", "once")]),
            1,
            "the slow runner did not run the handler again",
        )

    def test_a_claim_conflict_is_reported_as_remaining_work(self):
        """Two runners claiming at the same moment: the loser's serialization failure must not
        read as "nothing left", or Odoo parks that runner while jobs wait."""
        for i in range(3):
            self.enqueue("noop", idempotency_key=f"c{i}")
        self.clear_triggers()
        cron = self.runners[:1]
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        Job = self.Job.with_context(ir_cron_progress_id=progress.id)

        def conflict(*args, **kwargs):
            raise ClaimConflict("could not serialize access due to concurrent update")

        with patch.object(type(self.Job), "_claim_batch", conflict):
            done = Job._cron_process_queue(time_budget=5, now=self.now)
        self.assertEqual(done, 0)
        self.assertGreaterEqual(progress.remaining, 1, "the cron is told work remains")
        self.assertEqual(self.due_triggers(fields.Datetime.now()), len(self.runners))
        Job._cron_process_queue(time_budget=5, now=self.now)
        self.assertEqual(progress.remaining, 0, "and the next call does it")

    def test_a_runner_level_failure_reports_remaining_work(self):
        self.enqueue("noop")
        cron = self.runners[:1]
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        Job = self.Job.with_context(ir_cron_progress_id=progress.id)
        with (
            patch.object(
                type(self.env["connector.backend"]),
                "_runnable_backends",
                side_effect=RuntimeError("db gone"),
            ),
            self.assertLogs("odoo.addons.connector_base.models.connector_job_runner", "ERROR"),
        ):
            Job._cron_process_queue(time_budget=5, now=self.now)
        self.assertGreaterEqual(progress.remaining, 1, "Odoo calls it again instead of parking it")
