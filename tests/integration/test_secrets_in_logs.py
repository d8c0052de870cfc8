"""No secret in any log, at any level: a real server logging everything (Odoo at debug, SQL
queries, every library's debug output) goes through the credential flows as an admin does in
the web client, and its log is searched for each secret."""

import json
import time
import uuid
from urllib.parse import quote, quote_plus

import pytest
import requests

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.hubspot_fake import FakeHubSpot
from tests.fakes.salesforce_fake import FakeSalesforce

from .conftest import OdooServer, fresh_database, wait_until
from .test_webhook_fuzz import SIGN, _up


@pytest.fixture(scope="module")
def crm_db():
    with fresh_database("suite_secrets") as dbname:
        yield dbname


class Client:
    """The web client's JSON-RPC calls, logged in as admin."""

    def __init__(self, base, db):
        self.base = base
        self.session = requests.Session()
        result = self.rpc(
            "/web/session/authenticate", {"db": db, "login": "admin", "password": "admin"}
        )
        assert result.get("uid"), f"admin login failed: {result}"

    def rpc(self, route, params):
        response = self.session.post(
            self.base + route,
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            timeout=120,
        )
        data = response.json()
        assert "error" not in data, json.dumps(data["error"], indent=1)[:3000]
        return data["result"]

    def save(self, model, values, record_id=None):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/web_save",
            {
                "model": model,
                "method": "web_save",
                "args": [[record_id] if record_id else [], values],
                "kwargs": {"specification": {"id": {}}},
            },
        )[0]["id"]

    def button(self, model, method, record_id):
        return self.rpc(
            "/web/dataset/call_button",
            {"model": model, "method": method, "args": [[record_id]], "kwargs": {}},
        )


def test_no_secret_reaches_a_debug_log(crm_db, logs_dir):
    db = crm_db
    secrets = {
        name: f"{name}-{uuid.uuid4().hex}"
        for name in (
            "api_token",
            "api_token_rotated",
            "webhook_secret",
            "metrics_token",
            "sf_client_secret",
            "hs_client_secret",
            "hs_private_app_token",
        )
    }
    api = FakeHttpServer().__enter__()
    api.route("GET", "/api", lambda request: (200, {}, {"status": "ok"}))
    salesforce = FakeSalesforce(client_id="sf-id", client_secret=secrets["sf_client_secret"])
    hubspot = FakeHubSpot(
        client_id="hs-id",
        client_secret=secrets["hs_client_secret"],
        private_app_token=secrets["hs_private_app_token"],
    )
    salesforce.server.__enter__()
    hubspot.server.__enter__()
    log_path = logs_dir / "debug.log"
    server = OdooServer(
        db,
        log_path,
        cron_threads=1,
        # Everything: Odoo at debug, every SQL query, every library (requests, urllib3...).
        extra_args=["--log-level=debug", "--log-handler=:DEBUG", "--log-handler=odoo.sql_db:DEBUG"],
    )
    server.start()
    base = server.url
    try:
        wait_until(lambda: _up(base), timeout=120, message="the Odoo server")
        client = Client(base, db)
        admin = 2
        # A generic backend: credentials typed into the form, saved, then rotated.
        generic = client.save(
            "connector.backend",
            {
                "name": "Generic",
                "backend_type": "test",
                "user_id": admin,
                "api_base_url": f"{api.url}/api",
                "api_token": secrets["api_token"],
                "webhook_secret": secrets["webhook_secret"],
            },
        )
        client.save("connector.backend", {"api_token": secrets["api_token_rotated"]}, generic)
        tested = client.button("connector.backend", "action_test_connection", generic)
        assert tested["params"]["type"] == "success", tested
        assert api.requests[-1].headers["Authorization"] == f"Bearer {secrets['api_token_rotated']}"
        client.button("connector.backend", "action_activate", generic)
        # The metrics token, set in Settings, then used by a scraper.
        settings = client.save(
            "res.config.settings", {"connector_metrics_token": secrets["metrics_token"]}
        )
        client.button("res.config.settings", "execute", settings)
        scraped = requests.get(
            f"{base}/connector/metrics/{db}",
            headers={"Authorization": f"Bearer {secrets['metrics_token']}"},
            timeout=60,
        )
        assert scraped.status_code == 200, scraped.text
        # A signed webhook, verified with the stored secret.
        key = client.rpc(
            "/web/dataset/call_kw/connector.backend/read",
            {
                "model": "connector.backend",
                "method": "read",
                "args": [[generic], ["webhook_key"]],
                "kwargs": {},
            },
        )[0]["webhook_key"]
        url = f"{base}/connector/webhook/{db}/{key}"
        body = json.dumps(
            {"id": "evt-secret-1", "type": "contact.updated", "object_id": "C-1"}
        ).encode()
        timestamp = int(time.time())
        hook = requests.post(
            url,
            data=body,
            timeout=60,
            headers={
                "Content-Type": "application/json",
                "X-Connector-Timestamp": str(timestamp),
                "X-Connector-Signature": SIGN(
                    secrets["webhook_secret"], timestamp, "POST", url, body
                ),
            },
        )
        assert hook.status_code == 200 and hook.json()["status"] == "queued", hook.text
        # Salesforce (client credentials) and HubSpot (private app, client secret).
        sf = client.save(
            "connector.backend",
            {
                "name": "Salesforce",
                "backend_type": "salesforce",
                "user_id": admin,
                "auth_base_url": salesforce.server.url,
                "crm_auth_flow": "client_credentials",
                "crm_client_id": "sf-id",
                "crm_client_secret": secrets["sf_client_secret"],
            },
        )
        tested = client.button("connector.backend", "action_test_connection", sf)
        assert tested["params"]["type"] == "success", tested
        assert salesforce.token_requests >= 1, "the client secret was used for a token"
        hs = client.save(
            "connector.backend",
            {
                "name": "HubSpot",
                "backend_type": "hubspot",
                "user_id": admin,
                "api_base_url": hubspot.server.url,
                "auth_base_url": hubspot.server.url,
                "crm_auth_flow": "private_app",
                "crm_client_id": "hs-id",
                "api_token": secrets["hs_private_app_token"],
                "crm_client_secret": secrets["hs_client_secret"],
            },
        )
        tested = client.button("connector.backend", "action_test_connection", hs)
        assert tested["params"]["type"] == "success", tested
        time.sleep(3)  # let the cron thread pick up the webhook's job and log it
    finally:
        server.stop()
        api.__exit__(None, None, None)
        salesforce.server.__exit__(None, None, None)
        hubspot.server.__exit__(None, None, None)
    log = log_path.read_text(errors="replace")
    assert "web_save" in log and "odoo.sql_db" in log and "DEBUG" in log, (
        "the server must have logged RPC calls and SQL at debug level, or this proves nothing"
    )
    leaks = []
    for name, value in secrets.items():
        for variant in {value, quote(value, safe=""), quote_plus(value)}:
            if variant in log:
                line = next(line for line in log.splitlines() if variant in line)
                leaks.append(f"{name}: {line[:300]}")
    print(
        f"\n[integration] {len(log.splitlines())} log lines at debug (Odoo, SQL, libraries) "
        f"through {len(secrets)} credential flows; redaction markers: {log.count('***')}; "
        f"secrets found: {len(leaks)}"
    )
    assert not leaks, "secrets in the log:\n" + "\n".join(leaks)
