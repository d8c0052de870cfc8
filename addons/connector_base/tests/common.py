import json
import os
import time
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.connector_base.engine.redaction import SECRETS
from odoo.addons.connector_base.engine.signatures import sign_generic

# One key for the whole test run unless the harness provides one (ODOO_CONNECTOR_KEYS).
TEST_KEY = Fernet.generate_key().decode()


@contextmanager
def vault_keys(*keys):
    """Configure the vault keys (the config option wins over the environment variable)."""
    with patch.dict(config.options, {"connector_encryption_keys": ",".join(k for k in keys if k)}):
        yield


def harness_keys():
    """Keys the database's own (demo) credentials were encrypted with at install."""
    return [
        k for k in (os.environ.get("ODOO_CONNECTOR_KEYS") or "").replace(" ", ",").split(",") if k
    ]


def drain_queue(Job, now=None, rounds=200, budget=60, domain=()):
    """Run the queue until nothing is runnable, jumping the clock to the next retry's eta when
    nothing can run now (what waiting for backoff looks like in a test; the suite's one
    ``drain``). What waits behind a job that needs a person stays pending. ``domain`` narrows
    the jobs waited for (by default those of active backends). Returns the clock it stopped at."""
    now = now or fields.Datetime.now()
    waiting = [("state", "=", "pending"), ("backend_id.state", "=", "active"), *domain]
    for _round in range(rounds):
        if Job._cron_process_queue(time_budget=budget, now=now):
            continue
        # Nothing ran: the next job due later (a due job may wait behind one backed off).
        later = Job.search([*waiting, ("eta", ">", now)], order="eta", limit=1)
        if not later:
            return now
        now = later.eta + timedelta(seconds=1)
    raise AssertionError("the queue did not drain")


class ConnectorEnvCase(TransactionCase):
    """Layer 1: encryption keys, a fixed web.base.url, the three kinds of users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._keys = vault_keys(TEST_KEY, *harness_keys())
        cls._keys.__enter__()
        cls.addClassCleanup(cls._keys.__exit__, None, None, None)
        # HttpCase logins rewrite web.base.url, which the staging guard would take for a copied
        # database: keep it fixed, as an admin does in production (see CONFIGURE.md).
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
        cls.integration_user = new_test_user(
            cls.env,
            login="integration_test",
            groups="base.group_user,connector_base.group_connector_user",
        )
        cls.connector_user = new_test_user(
            cls.env,
            login="connector_user_test",
            groups="base.group_user,connector_base.group_connector_user",
        )
        cls.connector_manager = new_test_user(
            cls.env,
            login="connector_manager_test",
            groups="base.group_user,connector_base.group_connector_manager",
        )

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's test hook on requests compares `timeout < 10` and breaks on the (connect, read)
        # tuple that requests accepts and connectors always pass; the hook only needs a number.
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(t for t in kw["timeout"] if t)
        return super()._request_handler(s, r, **kw)

    def tearDown(self):
        SECRETS.clear()
        super().tearDown()


class ConnectorCase(ConnectorEnvCase):
    """Layer 2: an active backend of the test type (connector_base_test's TestAdapter: generic
    HMAC webhooks plus handlers that fail on demand) and the queue helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["connector.backend"].create(
            {
                "name": "Test backend",
                "backend_type": "test",
                "api_base_url": "http://127.0.0.1:9/api",
                "user_id": cls.integration_user.id,
                "max_attempts": 4,
                "retry_base_seconds": 10,
                "retry_cap_seconds": 600,
            }
        )
        cls.backend.action_activate()
        cls.Job = cls.env["connector.job"]
        # Only this backend runs jobs in these tests (demo backends keep theirs waiting).
        cls.env["connector.backend"].search([("id", "!=", cls.backend.id)]).write(
            {"state": "paused"}
        )

    def enqueue(self, operation="noop", payload=None, backend=None, **options):
        return (backend or self.backend)._enqueue(operation, payload or {}, **options)

    def run_queue(self, now=None, budget=30):
        """One runner pass, as the cron would do it (no commit under tests)."""
        return self.Job._cron_process_queue(time_budget=budget, now=now or fields.Datetime.now())

    def drain(self, now=None, rounds=200):
        return drain_queue(self.Job, now, rounds)

    def attempts(self, job):
        return job.attempt_ids.sorted("number")

    @staticmethod
    def payload(job):
        return json.loads(job.payload)


class ConnectorHttpCase(HttpCase, ConnectorCase):
    """Layer 3: ConnectorCase over real HTTP. HttpCase sets web.base.url to the test server
    after the backend was activated: confirm the environment again, as an admin would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.action_activate()


WEBHOOK_SECRET = "whsec-test-0123456789"


class ConnectorWebhookCase(ConnectorHttpCase):
    """Layer 4: signed generic webhooks posted to the backend's URL over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend._set_secret("webhook_secret", WEBHOOK_SECRET)
        cls.path = f"/connector/webhook/{cls.env.cr.dbname}/{cls.backend.webhook_key}"

    def setUp(self):
        super().setUp()
        # As a proxy would: the sender signs the public URL, which is what the backend knows.
        self.backend.public_base_url = self.base_url()
        self.url = self.base_url() + self.path

    def post(self, body, *, timestamp=None, secret=WEBHOOK_SECRET, url=None, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed_url = url or self.url
        all_headers = {
            "Content-Type": "application/json",
            "X-Connector-Timestamp": str(timestamp),
            "X-Connector-Signature": sign_generic(secret, timestamp, "POST", signed_url, raw),
        }
        all_headers.update(headers or {})
        return self.url_open(self.url, data=raw, headers=all_headers)

    def jobs(self):
        return self.Job.search([("backend_id", "=", self.backend.id)])
