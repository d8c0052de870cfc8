from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestQueueErrors(ConnectorCase):
    def _delays(self, job):
        return [
            (attempt.next_eta - attempt.ended_at).total_seconds()
            for attempt in self.attempts(job)
            if attempt.next_eta
        ]

    def test_transient_backoff_grows_then_dead_then_replay(self):
        """Retries wait longer and longer (full jitter under a growing bound), then the job is dead;
        a replay after the cause is fixed succeeds."""
        job = self.enqueue("test.behave", {"fail": "transient"})
        start = fields.Datetime.now().replace(microsecond=0)
        bounds = []
        # Draw the jitter at its maximum so that the growth of the bound is observable.
        with patch("random.uniform", side_effect=lambda low, high: high):
            now = start
            for attempt in range(1, 5):
                with freeze_time(now):
                    self.run_queue(now=now)
                job.invalidate_recordset()
                self.assertEqual(job.attempts, attempt)
                if attempt < 4:
                    self.assertEqual(job.state, "pending", "a transient error is retried")
                    bounds.append((job.eta - now).total_seconds())
                    now = job.eta
        self.assertEqual(bounds, [10, 20, 40], "delay = base x 2^(attempt-1) at the top of jitter")
        self.assertEqual(job.state, "dead", "attempts exhausted: a dead letter")
        self.assertIn("gave up after 4 attempts", job.last_error)
        self.assertEqual(self.attempts(job).mapped("outcome"), ["transient"] * 4)
        # The remote is fixed: a person replays the job with an edited payload.
        wizard = self.env["connector.job.payload.wizard"].create(
            {"job_id": job.id, "payload": '{"record": "fixed"}', "reason": "remote fixed"}
        )
        wizard.action_save_and_retry()
        self.assertEqual((job.state, job.attempts), ("pending", 0), "a replay gets fresh attempts")
        self.run_queue()
        self.assertEqual(job.state, "done", job.last_error)

    def test_full_jitter_stays_under_the_bound(self):
        job = self.enqueue("test.behave", {"fail": "transient"}, max_attempts=10)
        now = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(now):
            self.run_queue(now=now)
        job.invalidate_recordset()
        delay = (job.eta - now).total_seconds()
        self.assertGreaterEqual(delay, 0)
        self.assertLessEqual(delay, 10, "first retry: uniform between 0 and the base delay")

    def test_retry_after_is_honoured(self):
        job = self.enqueue("test.behave", {"fail": "transient", "retry_after": 900})
        now = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(now):
            self.run_queue(now=now)
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending")
        self.assertGreaterEqual(
            (job.eta - now).total_seconds(), 900, "never before the server's Retry-After"
        )
        self.assertEqual(self.attempts(job).retry_after, 900)
        with freeze_time(now + timedelta(seconds=899)):
            self.run_queue(now=now + timedelta(seconds=899))
        self.assertEqual(job.attempts, 1, "not retried before Retry-After elapsed")

    def test_business_error_needs_attention_without_automatic_retry(self):
        job = self.enqueue(
            "test.behave", {"fail": "business", "message": "Deal 7 has no billing model"}
        )
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.assertEqual(job.error_class, "business")
        self.assertIn("Deal 7 has no billing model", job.last_error)
        later = fields.Datetime.now() + timedelta(days=2)
        with freeze_time(later):
            self.run_queue(now=later)
        self.assertEqual(job.attempts, 1, "no automatic retry of a business error")
        job.action_retry()
        self.assertEqual(job.state, "pending")
        audit = self.env["connector.audit.log"].search(
            [
                ("action", "=", "replay"),
                ("res_model", "=", "connector.job"),
                ("res_id", "=", job.id),
            ]
        )
        self.assertEqual(len(audit), 1, "a replay is audited")

    def test_odoo_validation_error_is_a_business_error(self):
        job = self.enqueue(
            "generic.event",
            {"id": "e2", "type": "record.upsert", "object_id": "X", "data": {"name": False}},
        )
        # name is required on the test record: the ORM refuses -> needs attention, not a crash
        with patch.object(
            type(self.env["connector.test.record"]),
            "create",
            side_effect=ValidationError("Name is required"),
        ):
            self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.assertIn("Name is required", job.last_error)

    def test_unexpected_error_needs_attention_with_traceback(self):
        job = self.enqueue("test.behave", {"fail": "unexpected"})
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.assertEqual(job.error_class, "unexpected")
        self.assertIn("KeyError", job.last_error)
        self.assertIn("Traceback", self.attempts(job).traceback)

    def test_failed_job_rolls_back_its_own_writes_only(self):
        ok = self.enqueue("test.behave", {"record": "kept"})
        bad = self.enqueue("test.behave", {"record": "rolled back", "fail": "business"})
        self.run_queue()
        self.assertEqual((ok.state, bad.state), ("done", "needs_attention"))
        names = self.env["connector.test.record"].search([]).mapped("name")
        self.assertIn("kept", names)
        self.assertNotIn("rolled back", names, "a failed job leaves nothing behind")

    def test_auth_error_marks_backend_down_and_jobs_wait_without_burning_attempts(self):
        failing = self.enqueue("test.behave", {"fail": "auth"})
        waiting = [self.enqueue("noop") for _ in range(3)]
        self.run_queue()
        self.assertEqual(self.backend.health, "down")
        self.assertIn("token rejected", self.backend.health_reason)
        self.assertEqual(failing.state, "pending")
        self.assertEqual(failing.attempts, 0, "an auth error does not use an attempt")
        self.assertEqual(failing.error_class, "auth")
        for job in waiting:
            self.assertEqual((job.state, job.attempts), ("pending", 0), "jobs wait for the backend")
        for _ in range(3):
            self.run_queue()
        self.assertEqual(
            failing.attempts, 0, "waiting jobs are not retried while the backend is down"
        )
        # A manager sets a new token: the backend is OK again and the jobs run.
        self.backend.with_user(self.connector_manager).api_token = "new-token-value"
        self.assertEqual(self.backend.health, "ok")
        self.env.cr.execute("UPDATE connector_job SET payload = '{}' WHERE id = %s", (failing.id,))
        self.run_queue()
        for job in [failing, *waiting]:
            job.invalidate_recordset()
            self.assertEqual(job.state, "done", job.last_error)

    def test_missing_handler_is_a_business_error_that_names_the_fix(self):
        job = self.enqueue("hubspot.deal.import", {})
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.assertIn("install or upgrade the connector addon", job.last_error)

    def test_bulk_retry_and_cancel(self):
        jobs = self.Job.browse()
        for i in range(3):
            jobs |= self.enqueue("test.behave", {"fail": "business"}, idempotency_key=f"b{i}")
        self.run_queue()
        self.assertEqual(set(jobs.mapped("state")), {"needs_attention"})
        jobs.with_user(self.connector_user).action_retry()
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        jobs.with_user(self.connector_user).action_cancel()
        self.assertEqual(set(jobs.mapped("state")), {"cancelled"})
