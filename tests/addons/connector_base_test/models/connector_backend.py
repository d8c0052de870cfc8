import os
import time

from odoo import models

from odoo.addons.connector_base.engine.errors import (
    AuthError,
    BusinessError,
    TransientError,
)

REMOTE_TYPE = "TestObject"


class ConnectorBackend(models.Model):
    _inherit = "connector.backend"

    def _on_generic_event_record_upsert(self, event, job):
        """Create or update a test record from an event, through its binding (idempotent)."""
        data = event.get("data") or {}
        Binding = self.env["connector.binding"]
        record = Binding._find(self, REMOTE_TYPE, event["object_id"])
        values = {"name": data.get("name") or event["object_id"], "value": data.get("value", 0)}
        if "email" in data:
            values["email"] = data["email"]
        if record:
            binding = Binding._find_binding(self, record, REMOTE_TYPE)
            if binding._is_echo(data):
                return record
            record.write(values)
        else:
            record = self.env["connector.test.record"].create(values)
        Binding._bind(self, record, REMOTE_TYPE, event["object_id"], payload=data)
        return record

    def _job_test_behave(self, job):
        """Does what the payload says: fail with a given error class, sleep, or write a record.

        Used by tests and integration tests to drive every path of the queue.
        """
        payload = job._payload()
        if payload.get("sleep"):
            time.sleep(payload["sleep"])
        if payload.get("record"):
            self.env["connector.test.record"].create(
                {"name": payload["record"], "value": payload.get("value", 0)}
            )
        fail = payload.get("fail")
        if fail == "transient":
            raise TransientError(
                payload.get("message", "503 from the test server"),
                retry_after=payload.get("retry_after"),
                http_status=503,
            )
        if fail == "business":
            raise BusinessError(payload.get("message", "Test record has no mapping"))
        if fail == "auth":
            raise AuthError(payload.get("message", "401: token rejected"), http_status=401)
        if fail == "unexpected":
            raise KeyError("unexpected_key")
        if fail == "secret":
            # A handler that (wrongly) puts a credential in an error: it must be redacted.
            raise BusinessError(f"remote said no to token {self._get_secret('api_token')}")
        return None

    def _job_test_trace(self, job):
        """Record which process ran the job and when (multi-process integration tests)."""
        started = time.time()
        payload = job._payload()
        if payload.get("sleep"):
            time.sleep(payload["sleep"])
        self.env["connector.test.record"].create(
            {
                "name": f"job:{job.id}",
                "job_ref": job.id,
                "pid": os.getpid(),
                "t_start": started,
                "t_end": time.time(),
            }
        )

    def _pull_records(self, stream, job):
        """A stream puller: reads 'pages' from the payload's fixture and advances the cursor."""
        payload = job._payload()
        count = int(payload.get("count", 0))
        stream._record_pull_result(new_cursor_value=str(count), count=count)
        return stream
