import json
import time

from odoo.tests import tagged

from .common import ConnectorWebhookCase


@tagged("post_install", "-at_install")
class TestWebhook(ConnectorWebhookCase):
    def event(self, event_id="evt-1", object_id="R-7", name="Initech"):
        return {
            "id": event_id,
            "type": "record.upsert",
            "object_id": object_id,
            "data": {"name": name},
        }

    def test_valid_event_is_queued_then_processed(self):
        response = self.post(self.event())
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        self.assertEqual(data["status"], "queued")
        job = self.Job.browse(data["jobs"])
        self.assertEqual(job.operation, "generic.event")
        self.assertEqual(job.source, "webhook")
        self.assertEqual(job.record_key, "object:R-7")
        self.run_queue()
        self.assertEqual(job.state, "done", job.last_error)
        record = self.env["connector.test.record"].search([("name", "=", "Initech")])
        self.assertEqual(record.connector_binding_ids.remote_id, "R-7")

    def test_same_event_delivered_five_times_is_one_job(self):
        ids = {tuple(self.post(self.event()).json()["jobs"]) for _ in range(5)}
        self.assertEqual(len(ids), 1, "the event id deduplicates deliveries")
        self.assertEqual(len(self.jobs()), 1)
        self.run_queue()
        self.assertEqual(
            self.env["connector.test.record"].search_count([("name", "=", "Initech")]), 1
        )

    def test_bad_signature_is_refused_and_nothing_stored(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING") as logs:
            response = self.post(self.event(), secret="not-the-secret-at-all")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["reason"], "mismatch")
        self.assertFalse(self.jobs(), "nothing is stored for an unsigned request")
        self.assertIn("bad signature", "\n".join(logs.output))

    def test_stale_timestamp_is_refused(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.post(self.event(), timestamp=int(time.time()) - 3600)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["reason"], "stale")
        self.assertFalse(self.jobs())

    def test_missing_signature_is_refused(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.url_open(
                self.url, data=b"{}", headers={"Content-Type": "application/json"}
            )
        self.assertEqual(response.status_code, 401)

    def test_signature_uses_the_public_url_behind_a_proxy(self):
        self.backend.public_base_url = "https://odoo.example.com"
        public = "https://odoo.example.com" + self.path
        response = self.post(self.event(), url=public)
        self.assertEqual(response.status_code, 200, "signed over the public URL: accepted")
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.post(self.event("evt-2"), url=self.url)
        self.assertEqual(response.status_code, 401, "signed over the internal URL: refused")
        self.assertIn("https://odoo.example.com/connector/webhook/", self.backend.webhook_url)

    def test_unparseable_body_is_kept_for_review_and_can_be_replayed(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.post(b'{"id": "evt-9", "type": "record.upsert", "object_id": "R-9",')
        self.assertEqual(response.status_code, 200, "the sender must not retry forever")
        self.assertEqual(response.json()["status"], "stored for review")
        job = self.jobs()
        self.assertEqual(job.state, "needs_attention")
        self.assertEqual(job.operation, "webhook.unparseable")
        self.assertIn('"object_id": "R-9",', self.payload(job)["raw_body"], "the raw body is kept")
        self.assertIn("edit raw_body", job.last_error)
        fixed = json.dumps({"raw_body": json.dumps(self.event("evt-9", "R-9", "Hooli"))})
        wizard = self.env["connector.job.payload.wizard"].create(
            {"job_id": job.id, "payload": fixed, "reason": "closing brace lost by the sender"}
        )
        wizard.action_save_and_retry()
        self.run_queue()
        self.assertEqual(job.state, "done", job.last_error)
        self.run_queue()
        self.assertTrue(self.env["connector.test.record"].search([("name", "=", "Hooli")]))
        edit = self.env["connector.audit.log"].search(
            [("action", "=", "payload_edit"), ("res_id", "=", job.id)]
        )
        self.assertEqual(edit.message, "closing brace lost by the sender", "the edit is audited")

    def test_oversized_body_is_refused_with_413(self):
        self.backend.webhook_max_bytes = 200
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.post({"id": "big", "type": "record.upsert", "data": "x" * 500})
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.jobs())

    def test_unknown_key_and_database_are_404(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            response = self.url_open(
                f"/connector/webhook/{self.env.cr.dbname}/no-such-key", data=b"{}"
            )
        self.assertEqual(response.status_code, 404)
        response = self.url_open(
            f"/connector/webhook/other_database/{self.backend.webhook_key}", data=b"{}"
        )
        self.assertEqual(response.status_code, 404)

    def test_paused_backend_still_receives(self):
        self.backend.action_pause()
        response = self.post(self.event())
        self.assertEqual(response.status_code, 200, "webhooks are not lost while paused")
        self.assertEqual(self.jobs().state, "pending")

    def test_replayed_unparseable_body_keeps_the_event_id(self):
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            self.post(b"{not json", headers={"X-Connector-Event-Id": "evt-hdr-1"})
        stored = self.jobs()
        self.assertEqual(self.payload(stored)["event_id"], "evt-hdr-1")
        event = {"type": "record.upsert", "object_id": "R-5", "data": {"name": "Vandelay"}}
        stored._replace_payload(
            json.dumps({"raw_body": json.dumps(event), "event_id": "evt-hdr-1"}), "fixed"
        )
        stored.action_retry()
        self.run_queue()
        queued = self.Job.search([("idempotency_key", "=", "event:evt-hdr-1")])
        self.assertEqual(len(queued), 1, "the replayed event keeps the sender's event id")
        again = self.post(event, headers={"X-Connector-Event-Id": "evt-hdr-1"})
        self.assertEqual(again.json()["jobs"], queued.ids, "a later delivery is deduplicated")
