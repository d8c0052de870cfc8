"""Least privilege on jobs: a Connector User retries and cancels, but cannot make the integration
user run other work; only a Connector Manager edits a failed job's payload (audited); nobody
changes a job's operation or backend; through the ORM, JSON-RPC and imports alike."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import JsonRpcException, new_test_user, tagged

from .common import ConnectorCase, ConnectorHttpCase


class JobAccessMixin:
    def failed_job(self):
        job = self.enqueue("test.behave", {"fail": "business"})
        self.run_queue()
        self.assertEqual(job.state, "needs_attention")
        return job

    def payload_edits(self, job):
        return self.env["connector.audit.log"].search(
            [
                ("action", "=", "payload_edit"),
                ("res_model", "=", "connector.job"),
                ("res_id", "=", job.id),
            ]
        )


@tagged("post_install", "-at_install")
class TestJobAccessOrm(JobAccessMixin, ConnectorCase):
    def test_connector_user_cannot_rewrite_a_job_then_retry_it(self):
        """The reported attack: change a failed job's operation and payload, press Retry, and
        the runner creates a record of the user's choosing as the integration user."""
        job = self.failed_job()
        as_user = job.with_user(self.connector_user)
        for values in (
            {"operation": "generic.event"},
            {"payload": json.dumps({"record": "planted by the user"})},
            {"backend_id": self.backend.copy({"name": "Other"}).id},
            {"state": "pending"},
        ):
            with self.assertRaises(AccessError, msg=f"a Connector User wrote {values}"):
                as_user.write(values)
        as_user.action_retry()  # retrying is theirs: the job runs exactly as it was queued
        self.run_queue()
        job.invalidate_recordset()
        self.assertEqual(job.operation, "test.behave")
        self.assertFalse(
            self.env["connector.test.record"].search([("name", "=", "planted by the user")]),
            "nothing of the user's choosing was created",
        )
        self.assertFalse(self.payload_edits(job))

    def test_nobody_changes_a_jobs_operation_or_backend(self):
        job = self.failed_job()
        for env in (self.env(user=self.connector_manager), self.env(su=True)):
            for values in (
                {"operation": "noop"},
                {"backend_id": self.backend.id},
                {"idempotency_key": "x"},
            ):
                with self.assertRaises(AccessError, msg=f"{env.user.login} wrote {values}"):
                    job.with_env(env).write(values)

    def test_connector_user_cannot_import_or_create_jobs(self):
        job = self.failed_job()
        Job = self.Job.with_user(self.connector_user)
        xmlid = job.export_data(["id"])["datas"][0][0]
        result = Job.load(["id", "operation"], [[xmlid, "noop"]])
        self.assertTrue(result["messages"], "an import updating a job is refused")
        self.assertFalse(result["ids"])
        job.invalidate_recordset()
        self.assertEqual(job.operation, "test.behave")
        result = Job.load(["id", "payload"], [[xmlid, '{"record": "imported"}']])
        self.assertTrue(result["messages"], "an import of a payload is refused")
        self.assertEqual(self.payload(job), {"fail": "business"})
        result = Job.load(
            ["backend_id/.id", "operation", "idempotency_key"],
            [[str(self.backend.id), "noop", "imported"]],
        )
        self.assertTrue(result["messages"], "an import creating a job is refused")
        self.assertIn("not allowed", result["messages"][0]["message"])
        with self.assertRaises(AccessError):
            Job.create(
                {
                    "backend_id": self.backend.id,
                    "company_id": self.env.company.id,
                    "operation": "noop",
                    "idempotency_key": "mine",
                }
            )
        with self.assertRaises(AccessError):
            job.with_user(self.connector_user).unlink()

    def test_a_manager_edits_a_failed_payload_audited_by_any_route(self):
        job = self.failed_job()
        job.with_user(self.connector_manager).write({"payload": json.dumps({"record": "fixed"})})
        self.assertEqual(self.payload(job), {"record": "fixed"})
        edit = self.payload_edits(job)
        self.assertEqual(len(edit), 1, "the edit is audited whatever route it took")
        self.assertEqual(edit.user_id, self.connector_manager)
        self.assertIn("fixed", edit.changes)

    def test_a_pending_jobs_payload_is_not_edited(self):
        job = self.enqueue("noop", {"a": 1})
        with self.assertRaises(UserError) as caught:
            job.with_user(self.connector_manager).write({"payload": "{}"})
        self.assertIn("dead or needs-attention", str(caught.exception))
        self.assertEqual(self.payload(job), {"a": 1}, "a job about to run runs what was queued")

    def test_payload_wizard_is_for_managers(self):
        job = self.failed_job()
        with self.assertRaises(AccessError):
            job.with_user(self.connector_user).action_edit_payload()
        with self.assertRaises(AccessError):
            job.with_user(self.connector_user).sudo(False)._replace_payload("{}", "mine")


@tagged("post_install", "-at_install")
class TestJobAccessJsonRpc(JobAccessMixin, ConnectorHttpCase):
    def call(self, login, model, method, args, kwargs=None):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def test_json_rpc_edits_of_a_job_are_refused_to_a_connector_user(self):
        user = new_test_user(
            self.env,
            login="rpc_operator",
            password="rpc_operator",
            groups="base.group_user,connector_base.group_connector_user",
        )
        job = self.failed_job()
        for values in (
            {"operation": "noop"},
            {"payload": json.dumps({"record": "via rpc"})},
            {"backend_id": self.backend.id},
        ):
            with self.assertRaises(JsonRpcException, msg=f"JSON-RPC write of {values}"):
                self.call(user.login, "connector.job", "write", [[job.id], values])
            with self.assertRaises(JsonRpcException, msg=f"JSON-RPC web_save of {values}"):
                self.call(
                    user.login,
                    "connector.job",
                    "web_save",
                    [[job.id], values],
                    {"specification": {}},
                )
        with self.assertRaises(JsonRpcException, msg="private methods are not callable"):
            self.call(user.login, "connector.job", "_replace_payload", [[job.id], "{}", "x"])
        job.invalidate_recordset()
        self.assertEqual((job.operation, self.payload(job)), ("test.behave", {"fail": "business"}))
        self.call(user.login, "connector.job", "action_retry", [[job.id]])
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending", "while Retry works over JSON-RPC")
