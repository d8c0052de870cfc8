from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.connector_crm.adapters.crm import _USAGE_WRITTEN
from odoo.addons.connector_crm.engine.oauth import TOKENS

from .common import CrmCase, FakeSalesforce

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def token_calls(fake):
    return [r for r in fake.server.requests if r.path.endswith("/token")]


@tagged("post_install", "-at_install")
class TestTokenFlows(CrmCase):
    """Every token flow against the fakes over loopback HTTP, and what the backend shows."""

    def connection_test(self, backend):
        answer = backend.with_user(self.connector_manager).action_test_connection()
        return answer["params"]

    def test_salesforce_jwt_bearer_flow(self):
        private_pem, public_pem = FakeSalesforce.generate_key_pair()
        self.sf.trust_public_key(public_pem)
        backend = self.make_backend(
            "salesforce",
            name="Salesforce JWT (test)",
            auth_base_url=self.sf.url,
            crm_auth_flow="jwt",
            crm_client_id=self.sf.client_id,
            crm_username=self.sf.username,
            secrets={"private_key": private_pem.decode()},
        )
        params = self.connection_test(backend)
        self.assertEqual(params["type"], "success", params["message"])
        self.assertIn(self.sf.org_id, params["message"])
        self.assertIn(self.sf.username, params["message"])
        self.assertIn("API requests today", params["message"])
        self.assertEqual(backend.crm_instance_url, self.sf.url, "instance_url from the token")
        grant = parse_qs(token_calls(self.sf)[-1].body.decode())
        self.assertEqual(grant["grant_type"], [JWT_GRANT])
        self.assertEqual(backend.health, "ok")
        # A key Salesforce does not know: a clear failure, health down.
        other_private, _other_public = FakeSalesforce.generate_key_pair()
        backend.with_user(self.connector_manager)._set_secret("private_key", other_private.decode())
        params = self.connection_test(backend)
        self.assertEqual(params["type"], "danger")
        self.assertIn("invalid_grant", params["message"])
        self.assertEqual(backend.health, "down")

    def test_salesforce_client_credentials_and_one_reauth_on_invalid_session(self):
        self.sf.seed_demo()
        self.assertEqual(self.connection_test(self.sf_backend)["type"], "success")
        grant = parse_qs(token_calls(self.sf)[-1].body.decode())
        self.assertEqual(grant["grant_type"], ["client_credentials"])
        before = self.sf.token_requests
        # The session dies after the next call: the pull re-authenticates once and goes on.
        self.sf.expire_session_after(1)
        self.pull(self.sf_backend)
        self.assertEqual(self.sf.token_requests, before + 1, "exactly one new token")
        self.assertTrue(self.order_of(self.sf_backend, self.sf.records("Opportunity")[0]["Id"]))
        pulls = self.jobs(self.sf_backend, "stream.pull")
        self.assertEqual(pulls.mapped("state"), ["done"])
        self.assertEqual(len(pulls.attempt_ids), 1, "no retry needed")
        # A token that never works: one re-auth, then an auth error (no loop).
        self.sf.enabled_flows.discard("client_credentials")
        self.sf.expire_tokens()
        TOKENS.clear()
        params = self.connection_test(self.sf_backend)
        self.assertEqual(params["type"], "danger")
        self.assertEqual(self.sf_backend.health, "down")

    def test_salesforce_limits_are_surfaced_on_the_backend(self):
        self.sf.seed_demo()
        self.sf.api_usage, self.sf.api_limit = 95_000, 100_000
        self.connection_test(self.sf_backend)
        self.assertIn("100,000", self.sf_backend.crm_api_usage)
        self.sf_backend.health = "ok"
        _USAGE_WRITTEN.clear()  # the usage is written at most once a minute
        self.pull(self.sf_backend)
        self.assertEqual(self.sf_backend.health, "degraded", "Sforce-Limit-Info at 95%")
        self.assertIn("API usage", self.sf_backend.health_reason)
        # The daily limit is reached: REQUEST_LIMIT_EXCEEDED says so on the backend.
        self.sf_backend.health = "ok"
        self.sf.limit_exceeded_next(50)
        stream = self.sf_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream._schedule_pull(fields.Datetime.now(), source="user")
        self.Job._cron_process_queue(time_budget=60)
        pull = self.jobs(self.sf_backend, "stream.pull")[-1]
        self.assertEqual(pull.state, "pending", "retried later, not dropped")
        self.assertIn("REQUEST_LIMIT_EXCEEDED", pull.last_error)
        self.assertEqual(self.sf_backend.health, "degraded")
        self.assertIn("REQUEST_LIMIT_EXCEEDED", self.sf_backend.health_reason)

    def test_hubspot_private_app_and_oauth_refresh(self):
        params = self.connection_test(self.hs_backend)
        self.assertEqual(params["type"], "success", params["message"])
        self.assertIn(str(self.hs.portal_id), params["message"])
        self.assertEqual(token_calls(self.hs), [], "a private-app token needs no token call")
        bearer = next(r for r in self.hs.server.requests if "account-info" in r.path)
        self.assertEqual(bearer.headers["Authorization"], f"Bearer {self.hs.private_app_token}")
        # OAuth with a refresh token (as stored by Connect): access tokens come from refresh.
        refresh = self.hs.issue_refresh_token()
        self.hs_backend.crm_auth_flow = "oauth"
        self.hs_backend.with_user(self.connector_manager)._set_secret("refresh_token", refresh)
        params = self.connection_test(self.hs_backend)
        self.assertEqual(params["type"], "success", params["message"])
        grant = parse_qs(token_calls(self.hs)[-1].body.decode())
        self.assertEqual(grant["grant_type"], ["refresh_token"])
        # An expired access token: one refresh, the call succeeds.
        count = len(token_calls(self.hs))
        self.hs.expire_tokens()
        self.assertEqual(self.connection_test(self.hs_backend)["type"], "success")
        self.assertGreater(len(token_calls(self.hs)), count)


@tagged("post_install", "-at_install")
class TestConnectButton(CrmCase, HttpCase):
    """The OAuth web-server flow through a real browser-like round trip: Odoo → CRM login →
    callback with code and state → refresh token stored."""

    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")
        self.sf_backend.write({"crm_auth_flow": "web_server", "public_base_url": self.base_url()})

    def connect(self, backend):
        action = backend.action_crm_connect()
        login = self.url_open(action["url"], allow_redirects=False)
        self.assertEqual(login.status_code, 302, login.text)
        callback = login.headers["Location"]
        self.assertTrue(callback.startswith(self.base_url() + "/connector_crm/oauth/callback"))
        return callback

    def test_salesforce_connect_stores_the_refresh_token(self):
        callback = self.connect(self.sf_backend)
        answer = self.url_open(callback, allow_redirects=False)
        self.assertEqual(answer.status_code, 303, answer.text[:500])
        self.assertIn(f"action_connector_backend/{self.sf_backend.id}", answer.headers["Location"])
        self.assertTrue(self.sf_backend._get_secret("refresh_token"))
        self.assertEqual(self.sf_backend.crm_instance_url, self.sf.url)
        TOKENS.clear()
        params = self.sf_backend.action_test_connection()["params"]
        self.assertEqual(params["type"], "success", params["message"])
        grant = parse_qs(token_calls(self.sf)[-1].body.decode())
        self.assertEqual(grant["grant_type"], ["refresh_token"])
        # The same answer replayed: the state was single-use.
        replay = self.url_open(callback, allow_redirects=False)
        self.assertEqual(replay.status_code, 400)
        self.assertIn("click Connect again", replay.text)

    def test_a_wrong_or_expired_state_is_refused(self):
        callback = self.connect(self.sf_backend)
        query = parse_qs(urlsplit(callback).query)
        forged = (
            f"{self.base_url()}/connector_crm/oauth/callback?code={query['code'][0]}"
            f"&state={self.sf_backend.id}.forged"
        )
        answer = self.url_open(forged, allow_redirects=False)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("state mismatch", answer.text)
        self.assertFalse(self.sf_backend._get_secret("refresh_token"))
        # An expired request.
        callback = self.connect(self.sf_backend)
        self.sf_backend.sudo().crm_oauth_state_expiry = fields.Datetime.now() - timedelta(minutes=1)
        answer = self.url_open(callback, allow_redirects=False)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("expired", answer.text)
        # No state at all.
        answer = self.url_open(
            f"{self.base_url()}/connector_crm/oauth/callback?code=x", allow_redirects=False
        )
        self.assertEqual(answer.status_code, 400)

    def test_hubspot_connect(self):
        self.hs_backend.write({"crm_auth_flow": "oauth", "public_base_url": self.base_url()})
        callback = self.connect(self.hs_backend)
        answer = self.url_open(callback, allow_redirects=False)
        self.assertEqual(answer.status_code, 303, answer.text[:500])
        self.assertTrue(self.hs_backend._get_secret("refresh_token"))
        TOKENS.clear()
        params = self.hs_backend.action_test_connection()["params"]
        self.assertEqual(params["type"], "success", params["message"])
