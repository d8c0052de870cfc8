from pathlib import Path

from odoo.tests import tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestStaging(ConnectorCase):
    def test_copied_database_pauses_backends_until_confirmed(self):
        job = self.enqueue("noop")
        self.env["ir.config_parameter"].set_param("database.uuid", "another-database-uuid")
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            self.run_queue()
        self.assertEqual(job.state, "pending", "a copy never talks to the remote")
        self.assertEqual(self.backend.state, "paused")
        self.assertIn("database UUID changed", self.backend.pause_reason)
        self.backend.with_user(self.connector_manager).action_confirm_environment()
        self.run_queue()
        self.assertEqual(job.state, "done")

    def test_changed_base_url_pauses_backends(self):
        self.env["ir.config_parameter"].set_param("web.base.url", "https://staging.example.com")
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            self.env["connector.backend"]._runnable_backends()
        self.assertEqual(self.backend.state, "paused")
        self.assertIn("web.base.url changed", self.backend.pause_reason)

    def test_neutralize_pauses_every_backend_and_removes_credentials(self):
        self.backend._set_secret("api_token", "prod-token-123")
        sql = Path(__file__).parents[1].joinpath("data", "neutralize.sql").read_text()
        self.env.cr.execute(sql)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.state, "paused")
        self.assertIsNone(self.backend._get_secret("api_token"))
        self.assertIn("Neutralized", self.backend.pause_reason)
