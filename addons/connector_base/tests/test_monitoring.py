from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import ConnectorCase, ConnectorHttpCase


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
        self.assertGreaterEqual(backend.latency_p95, backend.latency_p50)
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
