import json
import logging
import os
from unittest.mock import patch

from cryptography.fernet import Fernet, InvalidToken

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.connector_base.engine.errors import AuthError

from .common import TEST_KEY, ConnectorCase, harness_keys, vault_keys

SECRET = "sk-live-4f9c2e7a1b"


@tagged("post_install", "-at_install")
class TestVault(ConnectorCase):
    def _stored(self, name="api_token"):
        return (
            self.env["connector.secret"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("name", "=", name)])
        )

    def test_secret_is_a_fernet_token_that_needs_the_key(self):
        self.backend.with_user(self.connector_manager).api_token = SECRET
        stored = self._stored()
        self.assertTrue(stored.ciphertext.startswith("gAAAA"), "a Fernet token is stored")
        self.assertNotIn(SECRET, stored.ciphertext)
        self.assertEqual(
            Fernet(TEST_KEY.encode()).decrypt(stored.ciphertext.encode()).decode(), SECRET
        )
        with self.assertRaises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(stored.ciphertext.encode())
        self.assertEqual(self.backend._get_secret("api_token"), SECRET)
        self.assertFalse(self.backend.api_token, "the field is write-only: it reads back empty")
        self.env.cr.execute(
            "SELECT count(*) FROM connector_secret WHERE ciphertext LIKE %s", (f"%{SECRET}%",)
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no plaintext anywhere in the table")

    def test_missing_key_is_a_clear_error_never_plaintext(self):
        with (
            patch.dict(os.environ, {"ODOO_CONNECTOR_KEYS": ""}),
            vault_keys(""),
            self.assertRaises(UserError) as caught,
        ):
            self.backend.with_user(self.connector_manager).api_token = SECRET
        message = str(caught.exception)
        self.assertIn("connector_encryption_keys", message)
        self.assertIn("ODOO_CONNECTOR_KEYS", message)
        self.assertFalse(self._stored(), "nothing is stored without a key")

    def test_environment_variable_is_used_when_no_config_option(self):
        env_key = Fernet.generate_key().decode()
        with patch.dict(os.environ, {"ODOO_CONNECTOR_KEYS": env_key}), vault_keys(""):
            self.backend._set_secret("api_token", SECRET)
            token = self._stored().ciphertext
        self.assertEqual(Fernet(env_key.encode()).decrypt(token.encode()).decode(), SECRET)

    def test_rotation_first_key_encrypts_all_decrypt(self):
        self.backend._set_secret("api_token", SECRET)
        old_token = self._stored().ciphertext
        new_key = Fernet.generate_key().decode()
        with vault_keys(new_key, TEST_KEY, *harness_keys()):
            self.assertEqual(
                self.backend._get_secret("api_token"), SECRET, "old key still decrypts"
            )
            self.env["connector.backend"].with_user(
                self.connector_manager
            ).action_rotate_encryption()
            rotated = self._stored().ciphertext
            self.assertNotEqual(rotated, old_token)
            Fernet(new_key.encode()).decrypt(rotated.encode())  # the first key now decrypts it
        with vault_keys(new_key):
            self.assertEqual(
                self.backend._get_secret("api_token"),
                SECRET,
                "after rotation the old key can be removed",
            )
        audit = self.env["connector.audit.log"].search([("action", "=", "credential_rotated")])
        self.assertTrue(audit, "rotation is audited")

    def test_removed_key_gives_an_auth_error_that_says_what_to_do(self):
        self.backend._set_secret("api_token", SECRET)
        with vault_keys(Fernet.generate_key().decode()), self.assertRaises(AuthError) as caught:
            self.backend._get_secret("api_token")
        self.assertIn("Set it again", str(caught.exception))

    def test_secret_never_in_logs_payloads_or_audit(self):
        self.backend.with_user(self.connector_manager).api_token = SECRET
        job = self.enqueue("test.behave", {"fail": "secret", "api_key": SECRET})
        self.assertNotIn(SECRET, job.payload, "credential-like payload keys are redacted")
        logger = logging.getLogger("odoo.addons.connector_base")
        with self.assertLogs("odoo.addons.connector_base", logging.INFO) as logs:
            logger.info("calling remote with token %s", SECRET)
            self.run_queue()
        output = "\n".join(logs.output)
        self.assertIn("calling remote with token", output)
        self.assertNotIn(SECRET, output, "registered secrets are redacted from every log line")
        self.assertEqual(job.state, "needs_attention")
        self.assertNotIn(SECRET, job.last_error, "nor in the error stored on the job")
        self.assertNotIn(SECRET, self.attempts(job).error_message or "")
        self.env.cr.execute(
            "SELECT count(*) FROM connector_audit_log WHERE changes LIKE %s OR message LIKE %s",
            (f"%{SECRET}%", f"%{SECRET}%"),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "nor in the audit log")
        entry = self.env["connector.audit.log"].search(
            [("action", "=", "credential_set"), ("res_id", "=", self.backend.id)], limit=1
        )
        self.assertEqual(json.loads(entry.changes), {"api_token": ["***", "***"]})

    def test_connector_user_cannot_set_or_read_credentials(self):
        backend = self.backend.with_user(self.connector_user)
        with self.assertRaises(AccessError):
            backend.api_token = "x" * 12
        with self.assertRaises(AccessError):
            self.env["connector.secret"].with_user(self.connector_manager).search([]).read(
                ["ciphertext"]
            )
        self.assertNotIn("api_token", backend.fields_get(), "the field is not even visible")

    def test_manager_sees_that_a_secret_is_set_never_its_value(self):
        self.backend.with_user(self.connector_manager).api_token = SECRET
        summary = self.backend.with_user(self.connector_manager).secret_summary
        self.assertIn("API token: set on", summary)
        self.assertIn("Webhook signing secret: not set", summary)
        self.assertNotIn(SECRET, summary)
        values = self.backend.with_user(self.connector_manager).read(["api_token"])[0]
        self.assertFalse(values["api_token"])

    def test_missing_key_in_a_job_marks_the_backend_down_without_burning_attempts(self):
        self.backend._set_secret("api_token", SECRET)
        job = self.enqueue("test.behave", {"fail": "secret"})
        with patch.dict(os.environ, {"ODOO_CONNECTOR_KEYS": ""}), vault_keys(""):
            self.run_queue()
        self.assertEqual(self.backend.health, "down", "a server configuration problem")
        self.assertIn("connector_encryption_keys", self.backend.health_reason)
        self.assertEqual((job.state, job.attempts), ("pending", 0), "the job waits, attempt kept")
