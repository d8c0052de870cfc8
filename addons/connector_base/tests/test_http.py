from odoo.tests import tagged

from .common import ConnectorCase

try:  # the project's fake servers (tests/fakes), importable when run from the repository
    from tests.fakes.http_fake import FakeHttpServer
except ImportError:  # pragma: no cover - an addon installed outside the repository
    FakeHttpServer = None


@tagged("post_install", "-at_install")
class TestConnection(ConnectorCase):
    def setUp(self):
        super().setUp()
        self.assertIsNotNone(FakeHttpServer, "run the tests from the repository root")
        self.server = FakeHttpServer().__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.server.route("GET", "/api", lambda request: (200, {}, {"status": "ok"}))
        self.backend.api_base_url = self.server.url + "/api"
        self.backend.with_user(self.connector_manager).api_token = "tok-test-connection-1"
        self.manager_backend = self.backend.with_user(self.connector_manager)

    def test_test_connection_really_calls_the_api(self):
        action = self.manager_backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("answered HTTP 200", action["params"]["message"])
        request = self.server.requests[-1]
        self.assertEqual(request.headers["Authorization"], "Bearer tok-test-connection-1")
        self.assertEqual(self.backend.health, "ok")

    def test_rejected_credentials_mark_the_backend_down(self):
        self.server.fail_next(2, status=401, body={"message": "token expired"})
        action = self.manager_backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("failed", action["params"]["message"])
        self.assertEqual(self.backend.health, "down", "the measured health is kept")
        self.assertEqual(len(self.server.requests), 1, "a static token is not retried")

    def test_server_error_marks_the_backend_degraded(self):
        self.server.fail_next(1, status=503)
        action = self.manager_backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(self.backend.health, "degraded")
        self.manager_backend.action_test_connection()
        self.assertEqual(self.backend.health, "ok", "a later successful test clears it")
