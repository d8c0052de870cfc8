from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestQueue(ConnectorCase):
    def test_enqueue_is_durable_and_deduplicated_by_key(self):
        first = self.enqueue("noop", {"n": 1}, idempotency_key="deal:42:v3")
        again = self.enqueue("noop", {"n": 2}, idempotency_key="deal:42:v3")
        self.assertEqual(first, again, "the same idempotency key must give back the same job")
        self.assertEqual(
            self.Job.search_count([("idempotency_key", "=", "deal:42:v3")]),
            1,
            "a duplicate delivery must not create a second job",
        )
        self.assertEqual(self.payload(first), {"n": 1}, "the first payload wins")
        self.assertEqual(first.state, "pending")
        other_backend = self.backend.copy({"name": "Other"})
        third = self.enqueue("noop", {}, backend=other_backend, idempotency_key="deal:42:v3")
        self.assertNotEqual(third, first, "keys are unique per backend, not globally")

    def test_enqueue_many_keeps_order_and_reports_existing(self):
        specs = [{"operation": "noop", "idempotency_key": f"k{i}"} for i in range(5)]
        jobs = self.Job._enqueue_many(self.backend, specs)
        self.assertEqual(len(jobs), 5)
        again = self.Job._enqueue_many(self.backend, list(reversed(specs)))
        self.assertEqual(again.ids, list(reversed(jobs.ids)), "ids follow the order of the specs")

    def test_enqueue_wakes_the_runner_crons(self):
        runners = self.Job._runner_crons()
        self.assertGreaterEqual(len(runners), 2, "two queue runners are installed by default")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "in", runners.ids)])
        self.enqueue("noop")
        after = self.env["ir.cron.trigger"].search_count([("cron_id", "in", runners.ids)])
        self.assertEqual(after - before, len(runners), "each runner gets a trigger")

    def test_credentials_never_stored_in_payload(self):
        job = self.enqueue(
            "noop",
            {"deal": {"id": 7, "access_token": "tok-123456", "Authorization": "Bearer abcdefg"}},
        )
        payload = self.payload(job)
        self.assertEqual(payload["deal"]["id"], 7)
        self.assertNotIn("tok-123456", job.payload)
        self.assertNotIn("abcdefg", job.payload)

    def test_runner_processes_a_job_and_records_the_attempt(self):
        job = self.enqueue("test.behave", {"record": "Acme", "value": 3})
        # The runner passes 90 s after the job was queued: that is the job's latency.
        done = self.run_queue(now=job.create_date + timedelta(seconds=90))
        self.assertGreaterEqual(done, 1)
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(job.attempts, 1)
        self.assertEqual(job.done_at, job.create_date + timedelta(seconds=90))
        self.assertAlmostEqual(job.latency_s, 90.0, delta=0.01, msg="from queued to done")
        attempt = self.attempts(job)
        self.assertEqual(len(attempt), 1)
        self.assertEqual(attempt.outcome, "done")
        self.assertTrue(attempt.worker, "the attempt names the runner that ran it")
        record = self.env["connector.test.record"].search([("name", "=", "Acme")])
        self.assertEqual(record.value, 3, "the handler's write is committed with the job")
        self.assertEqual(
            record.create_uid, self.integration_user, "jobs run as the integration user"
        )

    def test_result_record_is_linked(self):
        job = self.enqueue(
            "generic.event",
            {"id": "e1", "type": "record.upsert", "object_id": "R-1", "data": {"name": "Globex"}},
        )
        self.run_queue()
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(job.result_model, "connector.test.record")
        self.assertEqual(job.result_ref, "Globex")

    def test_per_record_order(self):
        """A job never runs before an earlier unfinished job about the same record."""
        first = self.enqueue("test.behave", {"fail": "business"}, record_key="deal:1")
        second = self.enqueue("test.behave", {"record": "second"}, record_key="deal:1")
        other = self.enqueue("test.behave", {"record": "other"}, record_key="deal:2")
        self.run_queue()
        self.assertEqual(first.state, "needs_attention")
        self.assertEqual(second.state, "pending", "it must wait behind the failed earlier job")
        self.assertEqual(second.blocked_by_id, first, "the screen says what it waits for")
        self.assertEqual(other.state, "done", "other records are not held up")
        first.action_cancel()
        self.run_queue()
        self.assertEqual(second.state, "done", "once the head is cancelled the next one runs")

    def test_per_record_order_same_batch(self):
        jobs = [
            self.enqueue("test.behave", {"record": f"v{i}"}, record_key="deal:9") for i in range(3)
        ]
        self.run_queue()
        self.assertEqual({job.state for job in jobs}, {"done"})
        started = [j.attempt_ids.id for j in jobs]
        self.assertEqual(started, sorted(started), "attempts happen in queue order")

    def test_eta_in_the_future_is_not_run(self):
        later = fields.Datetime.now() + timedelta(hours=1)
        job = self.enqueue("noop", eta=later)
        self.run_queue()
        self.assertEqual(job.state, "pending")
        self.run_queue(now=later + timedelta(seconds=1))
        self.assertEqual(job.state, "done")

    def test_paused_backend_keeps_its_jobs_waiting(self):
        job = self.enqueue("noop")
        self.backend.action_pause()
        self.run_queue()
        self.assertEqual(job.state, "pending", "nothing runs on a paused backend")
        self.backend.action_activate()
        self.run_queue()
        self.assertEqual(job.state, "done")

    def test_expired_lease_is_reclaimed_and_the_attempt_counts(self):
        job = self.enqueue("noop")
        now = fields.Datetime.now()
        _claim, rows = self.Job._claim_batch(self.backend, "dead-worker", 10, now)
        self.assertIn(job.id, [row["id"] for row in rows])
        job.invalidate_recordset()
        self.assertEqual((job.state, job.attempts), ("running", 1))
        # The worker dies: before the lease expires nobody else takes the job...
        self.run_queue(now=now + timedelta(seconds=10))
        self.assertEqual(job.state, "running")
        # ...after it, the job comes back and runs; the lost attempt is on record.
        lease = self.Job._queue_setting("lease_seconds")
        with freeze_time(now + timedelta(seconds=lease + 5)):
            self.run_queue(now=now + timedelta(seconds=lease + 5))
        self.assertEqual(job.state, "done")
        self.assertEqual(job.attempts, 2, "the attempt of the dead worker counts")
        self.assertEqual(self.attempts(job).mapped("outcome"), ["lease_expired", "done"])

    def test_expired_lease_without_attempts_left_is_dead(self):
        job = self.enqueue("noop", max_attempts=1)
        now = fields.Datetime.now()
        self.Job._claim_batch(self.backend, "dead-worker", 10, now)
        later = now + timedelta(seconds=self.Job._queue_setting("lease_seconds") + 1)
        self.Job._reclaim_expired_leases(later)
        job.invalidate_recordset()
        self.assertEqual(job.state, "dead")
        self.assertIn("lease expired", job.last_error)

    def test_a_finished_worker_cannot_overwrite_a_reclaimed_job(self):
        """Fencing: a worker whose lease was taken over must not record its result."""
        job = self.enqueue("noop")
        now = fields.Datetime.now()
        claim, rows = self.Job._claim_batch(self.backend, "slow-worker", 10, now)
        later = now + timedelta(seconds=self.Job._queue_setting("lease_seconds") + 1)
        self.Job._reclaim_expired_leases(later)
        claim2, _rows2 = self.Job._claim_batch(self.backend, "other-worker", 10, later)
        row = next(r for r in rows if r["id"] == job.id)
        backend = self.Job._handler_backend(self.backend)
        self.Job._run_claimed_job(backend, claim, row, now)  # the slow worker finishes late
        job.invalidate_recordset()
        self.assertEqual(job.state, "running", "the slow worker's result is discarded")
        self.assertEqual(job.claimed_by, claim2)

    def test_a_pass_whose_budget_is_spent_still_runs_one_job(self):
        """A loaded server can spend a pass's budget before its first claim: the pass still
        makes progress (one job), and releases the rest of its batch unstarted."""
        jobs = [self.enqueue("noop", idempotency_key=f"slow{i}") for i in range(3)]
        self.Job._cron_process_queue(time_budget=0, now=fields.Datetime.now())
        self.assertEqual(sorted(job.state for job in jobs), ["done", "pending", "pending"])
        self.assertEqual(sorted(job.attempts for job in jobs), [0, 0, 1])

    def test_time_budget_releases_unstarted_jobs_without_burning_attempts(self):
        jobs = [self.enqueue("test.behave", {"sleep": 0.05}) for _ in range(4)]
        self.Job._cron_process_queue(time_budget=0.08, now=fields.Datetime.now())
        states = [job.state for job in jobs]
        self.assertIn("done", states)
        self.assertIn("pending", states, "jobs beyond the budget go back to the queue")
        for job in jobs:
            if job.state == "pending":
                self.assertEqual(job.attempts, 0, "a job never started keeps its attempts")

    def test_runner_reports_progress_to_the_cron(self):
        cron = self.Job._runner_crons()[:1]
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        for i in range(3):
            self.enqueue("noop", idempotency_key=f"p{i}")
        job_model = self.Job.with_context(ir_cron_progress_id=progress.id)
        done = job_model._cron_process_queue(time_budget=30, now=fields.Datetime.now())
        self.assertGreaterEqual(done, 3)
        self.assertEqual(progress.done, done, "Odoo's cron sees how much was done")
        self.assertEqual(progress.remaining, 0)

    def test_runner_never_raises(self):
        """Odoo deactivates a cron that keeps failing: a broken runner pass must not raise."""
        self.enqueue("noop")
        original = type(self.Job)._claim_batch

        def broken(*args, **kwargs):
            raise RuntimeError("database went away")

        type(self.Job)._claim_batch = broken
        try:
            with self.assertLogs("odoo.addons.connector_base.models.connector_job_runner", "ERROR"):
                self.assertEqual(self.run_queue(), 0)
        finally:
            type(self.Job)._claim_batch = original

    def test_runner_count_setting(self):
        settings = self.env["res.config.settings"].create({"connector_runner_count": 4})
        settings.execute()
        self.assertEqual(len(self.Job._runner_crons()), 4)
        settings = self.env["res.config.settings"].create({"connector_runner_count": 1})
        settings.execute()
        self.assertEqual(len(self.Job._runner_crons()), 1)
        self.assertEqual(len(self.Job._runner_crons_all()), 4, "extra runners are archived")

    def test_purge_removes_old_finished_jobs_only(self):
        old_done = self.enqueue("noop")
        old_failed = self.enqueue("test.behave", {"fail": "business"})
        recent = self.enqueue("noop")
        pending = self.enqueue("noop", eta=fields.Datetime.now() + timedelta(days=400))
        self.run_queue()
        self.assertEqual(old_done.state, "done")
        long_ago = fields.Datetime.now() - timedelta(days=120)
        self.env.cr.execute(
            "UPDATE connector_job SET done_at = %s, write_date = %s, create_date = %s "
            "WHERE id IN %s",
            (long_ago, long_ago, long_ago, (old_done.id, old_failed.id)),
        )
        self.Job.invalidate_model()
        attempts = old_done.attempt_ids
        deleted = self.Job._cron_purge()
        self.assertGreaterEqual(deleted, 2)
        self.assertFalse(old_done.exists(), "done jobs leave after the retention")
        self.assertFalse(attempts.exists(), "their attempts go with them")
        self.assertFalse(old_failed.exists(), "failed jobs leave after their longer retention")
        self.assertTrue(recent.exists() and pending.exists())

    def test_stream_pull_schedule_and_cursor(self):
        stream = self.env["connector.stream"].create(
            {"backend_id": self.backend.id, "code": "records", "name": "Records"}
        )
        pulls = self.env["connector.stream"]._cron_schedule_pulls()
        self.assertIn(stream, pulls)
        again = self.env["connector.stream"]._cron_schedule_pulls()
        self.assertNotIn(stream, again, "not due again before the sync interval")
        job = self.Job.search(
            [("operation", "=", "stream.pull"), ("record_key", "=", f"stream:{stream.id}")]
        )
        self.assertEqual(len(job), 1)
        self.run_queue()
        self.assertEqual(job.state, "done", job.last_error)
        self.assertTrue(stream.last_success_at)

    def test_stream_without_puller_needs_attention_and_shows_the_error(self):
        stream = self.env["connector.stream"].create(
            {"backend_id": self.backend.id, "code": "unknown_things", "name": "Unknown"}
        )
        job = stream._schedule_pull(fields.Datetime.now(), source="user")
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.assertIn("no puller for stream 'unknown_things'", job.last_error)
        self.assertIn("TestAdapter", job.last_error, "the error names the adapter to extend")
        stream.invalidate_recordset()
        self.assertIn("'unknown_things'", stream.last_error, "the stream shows why it failed")

    def test_reset_cursor_wizard_moves_the_cursor_and_is_audited(self):
        stream = self.env["connector.stream"].create(
            {
                "backend_id": self.backend.id,
                "code": "records",
                "name": "Records",
                "cursor_value": "900",
            }
        )
        date_from = fields.Datetime.now() - timedelta(days=30)
        wizard = self.env["connector.stream.reset.wizard"].create(
            {"stream_ids": [(6, 0, stream.ids)], "date_from": date_from, "pull_now": True}
        )
        wizard.action_reset()
        self.assertEqual(stream.cursor_date, date_from)
        self.assertFalse(stream.cursor_value)
        entries = self.env["connector.audit.log"].search(
            [
                ("res_model", "=", "connector.stream"),
                ("res_id", "=", stream.id),
                ("action", "=", "write"),
            ]
        )
        self.assertTrue(
            any("cursor_value" in (e.changes or "") for e in entries),
            "the cursor change is audited",
        )
        self.assertTrue(
            self.Job.search([("operation", "=", "stream.pull"), ("source", "=", "user")]),
            "a pull is queued right away",
        )
