"""The adapter of the test backend type: the generic HMAC adapter plus handlers that tests and
integration tests drive (and the smallest example of an adapter, see docs/adding-a-connector.md).
"""

import os
import time

from odoo.addons.connector_base.adapters import GenericAdapter
from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError

REMOTE_TYPE = "TestObject"


class TestAdapter(GenericAdapter):
    def job_handlers(self):
        return {"test.behave": self.behave, "test.trace": self.trace}

    def event_handlers(self):
        return {"record.upsert": self.upsert_record}

    def pull(self, stream, job):
        if stream.code == "records":
            return self.pull_records(stream, job)
        return super().pull(stream, job)

    # Handlers --------------------------------------------------------------------------------

    def upsert_record(self, event, job):
        """Create or update a test record from an event, through its binding (idempotent)."""
        data = event.get("data") or {}
        Binding = self.env["connector.binding"]
        record = Binding._find(self.backend, REMOTE_TYPE, event["object_id"])
        values = {"name": data.get("name") or event["object_id"], "value": data.get("value", 0)}
        if "email" in data:
            values["email"] = data["email"]
        if record:
            binding = Binding._find_binding(self.backend, record, REMOTE_TYPE)
            if binding._is_echo(data):
                return record
            record.write(values)
        else:
            record = self.env["connector.test.record"].create(values)
        Binding._bind(self.backend, record, REMOTE_TYPE, event["object_id"], payload=data)
        return record

    def behave(self, job):
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
            raise BusinessError(f"remote said no to token {self.backend._get_secret('api_token')}")
        return None

    def trace(self, job):
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

    def pull_records(self, stream, job):
        """A stream puller: reads 'pages' from the payload's fixture and advances the cursor."""
        payload = job._payload()
        count = int(payload.get("count", 0))
        stream._record_pull_result(new_cursor_value=str(count), count=count)
        return stream
