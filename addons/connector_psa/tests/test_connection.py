"""Connecting: Test connection reports the account, the user and the permissions the sync needs
(both tools); Connect (OAuth 2.0 authorization code) against the fakes with configurable URLs,
and tokens renewed when they expire."""

from urllib.parse import parse_qs, urlsplit

import requests

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class ConnectionTests:
    def test_report_names_account_user_and_permissions(self):
        result = self.backend.with_user(self.connector_manager).action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])
        report = self.backend.psa_connection_report
        self.assertIn("Api Owner", report)
        self.assertIn("administrator", report)
        self.assertIn("read everyone's time: yes", report)
        self.assertEqual(self.backend.health, "ok")

    def test_a_member_token_is_reported_with_what_to_do(self):
        self.use_member_token("ann")
        result = self.backend.with_user(self.connector_manager).action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        report = self.backend.psa_connection_report
        self.assertIn("Ann Lead", report)
        self.assertIn("read everyone's time: NO", report)
        self.assertIn("Problem:", report)
        self.assertEqual(self.backend.health, "degraded")

    def connect(self, authorize, token):
        manager = self.backend.with_user(self.connector_manager)
        manager.write(
            {
                "psa_auth": "oauth",
                "psa_client_id": self.world.fake.client_id,
                "psa_authorize_url": self.world.fake.url + authorize,
                "psa_token_url": self.world.fake.url + token,
            }
        )
        manager._set_secret("client_secret", self.world.fake.client_secret)
        manager.action_clear_secrets()
        manager._set_secret("client_secret", self.world.fake.client_secret)
        url = manager.action_psa_connect()["url"]
        answer = requests.get(url, allow_redirects=False, timeout=5)
        self.assertEqual(answer.status_code, 302)
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        self.assertEqual(query["state"][0].split(".")[0], str(self.backend.id))
        manager._psa_oauth_callback(query["code"][0], query["state"][0])
        with self.assertRaises(UserError, msg="a state is used once"):
            manager._psa_oauth_callback(query["code"][0], query["state"][0])
        return manager


@tagged("post_install", "-at_install")
class TestHarvestConnection(ConnectionTests, PsaCase):
    WORLD = HarvestWorld

    def use_member_token(self, key):
        token = self.world.fake.add_token("member-pat", self.world.users[key])
        self.backend.with_user(self.connector_manager)._set_secret("api_token", token)

    def test_connect_then_renew_the_expired_token(self):
        self.backend.psa_account_id = False
        manager = self.connect("/oauth2/authorize", "/api/v2/oauth2/token")
        self.assertEqual(
            self.backend.psa_account_id,
            str(self.world.fake.account_id),
            "the only Harvest account of the token is chosen",
        )
        first = self.backend.sudo()._get_secret("api_token")
        self.assertTrue(self.backend.sudo()._get_secret("refresh_token"))
        self.assertEqual(manager.action_test_connection()["params"]["type"], "success")
        self.world.fake.expire_tokens()
        self.sync_people()
        self.assertFalse(self.jobs(state="dead"))
        self.assertNotEqual(
            self.backend.sudo()._get_secret("api_token"),
            first,
            "renewed with the refresh token and stored",
        )
        self.assertEqual(self.backend.health, "ok")


@tagged("post_install", "-at_install")
class TestKantataConnection(ConnectionTests, PsaCase):
    WORLD = KantataWorld

    def use_member_token(self, key):
        token = self.world.fake.add_token("member-token", self.world.users[key])
        self.backend.with_user(self.connector_manager)._set_secret("api_token", token)

    def test_connect(self):
        manager = self.connect("/oauth/authorize", "/oauth/token")
        self.assertEqual(manager.action_test_connection()["params"]["type"], "success")
        self.world.fake.revoke_tokens()
        self.sync_people()
        self.assertEqual(self.backend.health, "down", "a revoked app: reconnect")
        self.assertIn("Connect", self.backend.health_reason)
