from odoo.tests import new_test_user, tagged

from .common import ConnectorHttpCase


@tagged("post_install", "-at_install", "is_tour")
class TestMonitoringTour(ConnectorHttpCase):
    # A laptop screen: the job list is crowded enough that a too narrow column gets cut.
    browser_size = "1024x768"

    def test_manager_replays_a_failed_job_from_the_dashboard(self):
        manager = new_test_user(
            self.env,
            login="tour_manager",
            password="tour_manager_pw",
            groups="base.group_user,connector_base.group_connector_manager",
        )
        self.backend.name = "Tour backend"
        job = self.enqueue(
            "test.behave",
            {"fail": "business", "message": "Deal 4711 has no billing model"},
        )
        # Run it as the queue would: it fails with a business error and needs attention.
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        self.start_tour(
            "/odoo/action-connector_base.action_connector_monitoring",
            "connector_monitoring_tour",
            login=manager.login,
        )
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending", "the manager's retry queued the job again")
        replay = self.env["connector.audit.log"].search(
            [("action", "=", "replay"), ("res_id", "=", job.id)]
        )
        self.assertEqual(replay.user_id, manager, "the replay is audited with who did it")
