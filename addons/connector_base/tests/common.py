import json
import os
from contextlib import contextmanager
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.connector_base.engine.redaction import SECRETS

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


class ConnectorCase(TransactionCase):
    """A generic backend, active, with an integration user; helpers to queue and run jobs."""

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
        cls.backend = cls.env["connector.backend"].create(
            {
                "name": "Test backend",
                "backend_type": "generic",
                "api_base_url": "http://127.0.0.1:9/api",
                "user_id": cls.integration_user.id,
                "max_attempts": 4,
                "retry_base_seconds": 10,
                "retry_cap_seconds": 600,
            }
        )
        cls.backend.action_activate()
        cls.Job = cls.env["connector.job"]

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

    def enqueue(self, operation="noop", payload=None, backend=None, **options):
        return (backend or self.backend)._enqueue(operation, payload or {}, **options)

    def run_queue(self, now=None, budget=30):
        """One runner pass, as the cron would do it (no commit under tests)."""
        return self.Job._cron_process_queue(time_budget=budget, now=now or fields.Datetime.now())

    def attempts(self, job):
        return job.attempt_ids.sorted("number")

    @staticmethod
    def payload(job):
        return json.loads(job.payload)


class ConnectorHttpCase(HttpCase, ConnectorCase):
    """ConnectorCase over real HTTP. HttpCase sets web.base.url to the test server after the
    backend was activated: confirm the environment again, as an admin would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.action_activate()
