from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import ConnectorCase, ConnectorHttpCase


def patch_probe(backend):
    """Keep the monitoring's Test connection of a down backend from calling out."""
    from unittest.mock import patch

    from odoo.addons.connector_base.engine.errors import AuthError

    return patch.object(
        type(backend._adapter()), "test_connection", side_effect=AuthError("still rejected")
    )


@tagged("post_install", "-at_install")
class TestMonitoring(ConnectorCase):
    def test_dashboard_figures(self):
        for i in range(4):
            self.enqueue("noop", idempotency_key=f"ok{i}")
        self.enqueue("test.behave", {"fail": "business"})
        self.enqueue("test.behave", {"fail": "transient"}, max_attempts=1)
        self.run_queue()
        self.enqueue("noop", eta=fields.Datetime.now() + timedelta(hours=2))
        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(backend.job_attention_count, 1)
        self.assertEqual(backend.job_dead_count, 1)
        self.assertEqual(backend.job_failed_count, 2)
        self.assertEqual(backend.job_pending_count, 1)
        self.assertEqual(backend.done_1h, 4)
        self.assertEqual(backend.failure_rate_1h, round(100 * 2 / 6, 1))
        # Latency percentiles of the last hour's done jobs (PostgreSQL's percentile_cont):
        # with 1, 2, 3 and 10 s, the median is 2.5 s and the 95th percentile 8.95 s (9.0 shown).
        done = self.Job.search(
            [("backend_id", "=", backend.id), ("state", "=", "done")], order="id"
        )
        for job, latency in zip(done, (1.0, 2.0, 3.0, 10.0), strict=True):
            self.env.cr.execute(
                "UPDATE connector_job SET latency_s = %s WHERE id = %s", (latency, job.id)
            )
        backend.invalidate_recordset()
        self.assertAlmostEqual(backend.latency_p50, 2.5, places=2)
        self.assertAlmostEqual(backend.latency_p95, 8.95, delta=0.06, msg="shown to 0.1 s")
        failed = self.env["connector.job"].search(
            backend.action_open_failed_jobs()["domain"]
            + [("state", "in", ("dead", "needs_attention"))]
        )
        self.assertEqual(len(failed), 2)
        self.assertEqual(
            backend.action_open_failed_jobs()["context"].get("search_default_failed"), 1
        )

    def test_alerts_raise_one_activity_per_manager_and_problem(self):
        self.enqueue("test.behave", {"fail": "transient"}, max_attempts=1)
        self.run_queue()
        problems = self.env["connector.backend"]._cron_check_alerts()
        titles = [title for title, _detail in problems[self.backend]]
        self.assertIn("Dead jobs", titles)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "connector.backend"), ("res_id", "=", self.backend.id)]
        )
        self.assertIn(self.connector_manager, activities.user_id, "connector managers are alerted")
        self.assertNotIn(self.connector_user, activities.user_id)
        count = len(activities)
        self.env["connector.backend"]._cron_check_alerts()
        again = self.env["mail.activity"].search_count(
            [("res_model", "=", "connector.backend"), ("res_id", "=", self.backend.id)]
        )
        self.assertEqual(again, count, "an open alert is not raised twice")

    def test_alert_on_stale_stream_and_backlog(self):
        stream = self.env["connector.stream"].create(
            {
                "backend_id": self.backend.id,
                "code": "records",
                "name": "Records",
                "last_success_at": fields.Datetime.now() - timedelta(hours=3),
            }
        )
        job = self.enqueue("noop")
        self.env.cr.execute(
            "UPDATE connector_job SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=2), job.id),
        )
        problems = dict(self.env["connector.backend"]._cron_check_alerts()[self.backend])
        self.assertIn(f"Stale stream {stream.name}", problems)
        self.assertIn("Backlog", problems)

    def alerts(self, title=None):
        domain = [
            ("res_model", "=", "connector.backend"),
            ("res_id", "=", self.backend.id),
            (
                "activity_type_id",
                "=",
                self.env.ref("connector_base.mail_activity_type_connector_alert").id,
            ),
        ]
        if title:
            domain.append(("summary", "=", f"Connector alert: {title}"))
        return self.env["mail.activity"].search(domain)

    def test_no_stale_stream_alert_before_its_first_pull_had_time_to_happen(self):
        stream = self.env["connector.stream"].create(
            {"backend_id": self.backend.id, "code": "records", "name": "Records"}
        )
        title = f"Stale stream {stream.name}"
        problems = dict(self.env["connector.backend"]._cron_check_alerts()[self.backend])
        self.assertNotIn(title, problems, "a stream that was never due cannot be stale")
        self.assertFalse(self.alerts(title))
        interval = timedelta(minutes=self.backend.sync_interval)
        factor = self.Job._queue_setting("alert_stale_stream_factor")
        with freeze_time(fields.Datetime.now() + interval * factor - timedelta(minutes=1)):
            stream.invalidate_recordset(["is_stale"])
            problems = dict(self.env["connector.backend"]._cron_check_alerts()[self.backend])
            self.assertNotIn(title, problems, "not while its first pulls may still come")
        with freeze_time(fields.Datetime.now() + interval * factor + timedelta(minutes=2)):
            stream.invalidate_recordset(["is_stale"])
            problems = dict(self.env["connector.backend"]._cron_check_alerts()[self.backend])
        self.assertIn(title, problems, "never pulled for 3 intervals: stale")
        self.assertIn("never since", problems[title])
        self.assertTrue(self.alerts(title))

    def test_alerts_close_when_their_cause_clears(self):
        # The runners are alive (their own alerts are another test's).
        self.Job._runner_crons_all().write({"lastcall": fields.Datetime.now()})
        dead = self.enqueue("test.behave", {"fail": "transient"}, max_attempts=1)
        old = self.enqueue("noop", eta=fields.Datetime.now() + timedelta(days=1))
        self.env.cr.execute(
            "UPDATE connector_job SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=2), old.id),
        )
        self.run_queue()
        self.backend._set_health("down", "401: token rejected")
        Backend = self.env["connector.backend"]
        with patch_probe(self.backend):
            Backend._cron_check_alerts()
        for title in ("Dead jobs", "Backlog", "Backend down"):
            self.assertTrue(self.alerts(title), f"alert {title} raised")
        # The causes go away: the dead job is retried and done, the backlog drained, the
        # credentials fixed.
        # The remote came back: the same job, retried as it was queued, now succeeds.
        self.env.cr.execute("UPDATE connector_job SET payload = '{}' WHERE id = %s", (dead.id,))
        dead.with_user(self.connector_user).action_retry()
        self.backend.action_reset_health()
        self.run_queue(now=fields.Datetime.now() + timedelta(days=1, minutes=1))
        dead.invalidate_recordset()
        old.invalidate_recordset()
        self.assertEqual((dead.state, old.state), ("done", "done"))
        with patch_probe(self.backend):
            Backend._cron_check_alerts()
        self.assertFalse(self.alerts(), "every alert closed itself once its cause cleared")
        cleared = self.backend.message_ids.filtered(lambda m: "Cleared" in (m.body or ""))
        self.assertGreaterEqual(len(cleared), 3, "the chatter keeps when each alert closed")

    def test_alerts_of_a_paused_backend_close(self):
        self.enqueue("test.behave", {"fail": "transient"}, max_attempts=1)
        self.run_queue()
        self.env["connector.backend"]._cron_check_alerts()
        self.assertTrue(self.alerts("Dead jobs"))
        self.backend.action_pause()
        self.env["connector.backend"]._cron_check_alerts()
        self.assertFalse(self.alerts(), "a paused backend is not monitored: its alerts close")

    def test_alert_when_a_runner_cron_is_inactive(self):
        runner = self.env["connector.job"]._runner_crons()[:1]
        runner.active = False
        problems = dict(self.env["connector.backend"]._cron_check_alerts()[self.backend])
        self.assertIn(f"Queue runner {runner.name} inactive", problems)

    def test_degraded_when_many_attempts_fail(self):
        for i in range(12):
            self.enqueue("test.behave", {"fail": "transient"}, idempotency_key=f"f{i}")
        self.run_queue()
        self.env["connector.backend"]._refresh_degraded_health(fields.Datetime.now())
        self.assertEqual(self.backend.health, "degraded")


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(ConnectorHttpCase):
    def test_prometheus_metrics_need_the_token(self):
        self.env["res.config.settings"].create(
            {"connector_metrics_token": "scrape-me-please"}
        ).execute()
        self.enqueue("test.behave", {"fail": "business"})
        self.run_queue()
        url = f"/connector/metrics/{self.env.cr.dbname}"
        self.assertEqual(self.url_open(url).status_code, 401)
        wrong = self.url_open(url, headers={"Authorization": "Bearer nope"})
        self.assertEqual(wrong.status_code, 401)
        response = self.url_open(url, headers={"Authorization": "Bearer scrape-me-please"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/plain", response.headers["Content-Type"])
        text = response.text
        self.assertIn("# TYPE connector_jobs gauge", text)
        self.assertIn(
            f'connector_jobs{{backend="{self.backend.name}",backend_id="{self.backend.id}",'
            f'type="test",state="needs_attention"}} 1',
            text,
        )
        self.assertIn("connector_runner_last_run_timestamp_seconds", text)

    def test_metrics_token_is_never_stored_in_clear(self):
        self.env["res.config.settings"].create(
            {"connector_metrics_token": "plain-token-xyz"}
        ).execute()
        field = self.env["res.config.settings"]._fields["connector_metrics_token"]
        self.assertFalse(field.store, "the token field is never stored in the settings table")
        self.env.cr.execute("SELECT to_jsonb(s)::text FROM res_config_settings s")
        self.assertNotIn("plain-token-xyz", str(self.env.cr.fetchall()))
        self.assertTrue(
            self.env["res.config.settings"]._connector_check_metrics_token("plain-token-xyz")
        )
        self.assertFalse(self.env["res.config.settings"]._connector_check_metrics_token("other"))
