import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestAudit(ConnectorCase):
    def Audit(self):
        return self.env["connector.audit.log"]

    def test_every_write_of_a_sync_job_is_audited_with_job_and_correlation(self):
        job = self.enqueue(
            "generic.event",
            {
                "id": "a1",
                "type": "record.upsert",
                "object_id": "R-1",
                "data": {"name": "Umbrella", "value": 1},
            },
            correlation_id="corr-123",
        )
        self.run_queue()
        record = self.env["connector.test.record"].search([("name", "=", "Umbrella")])
        created = self.Audit().search(
            [("res_model", "=", "connector.test.record"), ("res_id", "=", record.id)]
        )
        self.assertEqual(created.action, "create")
        self.assertEqual(created.job_ref, job.id)
        self.assertEqual(created.correlation_id, "corr-123")
        self.assertEqual(created.backend_id, self.backend)
        self.assertEqual(created.user_id, self.integration_user, "who: the integration user")
        self.assertEqual(json.loads(created.changes)["name"], [None, "Umbrella"])
        update = self.enqueue(
            "generic.event",
            {
                "id": "a2",
                "type": "record.upsert",
                "object_id": "R-1",
                "data": {"name": "Umbrella", "value": 5},
            },
        )
        self.run_queue()
        written = self.Audit().search(
            [
                ("res_model", "=", "connector.test.record"),
                ("action", "=", "write"),
                ("job_ref", "=", update.id),
            ]
        )
        self.assertEqual(json.loads(written.changes), {"value": [1, 5]}, "old -> new values")

    def test_a_batch_create_logs_each_record_with_its_own_values_name_and_company(self):
        other = self.env["res.company"].create({"name": "Audit Batch Co"})
        vals_list = [
            {"name": "Batch A", "value": 3, "company_id": self.env.company.id},
            {"name": "Batch B", "value": 0, "company_id": other.id},
            {"name": "Batch C", "email": "c@example.com", "company_id": other.id},
        ]
        records = self.env["connector.test.record"].create(vals_list)
        # A name that is no stored field (given to a create by an override) is not logged.
        self.Audit()._log_create(records, [dict(vals, display_name="x") for vals in vals_list])
        entries = self.Audit().search(
            [("res_model", "=", "connector.test.record"), ("res_id", "in", records.ids)],
            order="res_id",
        )
        self.assertEqual(entries.mapped("res_name"), ["Batch A", "Batch B", "Batch C"])
        self.assertEqual(
            [entry.company_id for entry in entries],
            [self.env.company, other, other],
            "each row names its own record's company",
        )
        self.assertEqual(
            [json.loads(entry.changes) for entry in entries],
            [
                {
                    "name": [None, "Batch A"],
                    "value": [None, 3],
                    "company_id": [None, self.env.company.id],
                },
                {"name": [None, "Batch B"], "company_id": [None, other.id]},
                {
                    "name": [None, "Batch C"],
                    "email": [None, "c@example.com"],
                    "company_id": [None, other.id],
                },
            ],
            "the given stored values only (no computed name, no empty value)",
        )

    def test_audit_survives_the_purge_of_its_job(self):
        job = self.enqueue("test.behave", {"record": "Stark"})
        self.run_queue()
        entry = self.Audit().search([("job_ref", "=", job.id)])
        self.assertTrue(entry)
        self.env.cr.execute("DELETE FROM connector_job WHERE id = %s", (job.id,))
        self.assertTrue(entry.exists(), "job ids are values: purging jobs keeps the trail")

    def test_writes_outside_jobs_are_not_audited_as_job_writes(self):
        record = self.env["connector.test.record"].create({"name": "Manual"})
        self.assertFalse(
            self.Audit().search(
                [("res_model", "=", "connector.test.record"), ("res_id", "=", record.id)]
            )
        )

    def test_backend_changes_are_audited(self):
        self.backend.with_user(self.connector_manager).write({"batch_size": 17})
        entry = self.Audit().search(
            [
                ("res_model", "=", "connector.backend"),
                ("res_id", "=", self.backend.id),
                ("action", "=", "write"),
            ],
            limit=1,
        )
        self.assertEqual(json.loads(entry.changes)["batch_size"], [50, 17])
        self.assertEqual(entry.user_id, self.connector_manager)

    def test_audit_is_append_only_even_for_admins(self):
        self.Audit()._log("test_entry", message="kept as written")
        entry = self.Audit().search([("action", "=", "test_entry")])
        for env_user in (self.env, self.env(user=self.env.ref("base.user_admin"))):
            with self.assertRaises(AccessError):
                self.Audit().with_env(env_user).browse(entry.id).write({"message": "changed"})
            with self.assertRaises(AccessError):
                self.Audit().with_env(env_user).browse(entry.id).unlink()
        with self.assertRaises(AccessError):
            self.Audit().with_user(self.connector_user).browse(entry.id).write({"message": "x"})
        with self.assertRaises(AccessError):
            self.Audit().with_user(self.connector_user).browse(entry.id).unlink()

    def test_retention_purge(self):
        self.Audit()._log("old_entry", message="from long ago")
        self.env.cr.execute(
            "UPDATE connector_audit_log SET create_date = now() - interval '800 days' "
            "WHERE action = 'old_entry'"
        )
        self.Audit()._log("recent_entry", message="today")
        self.Job._cron_purge()
        self.assertFalse(self.Audit().search([("action", "=", "old_entry")]))
        self.assertTrue(self.Audit().search([("action", "=", "recent_entry")]))

    def test_erasure_anonymises_one_person_and_is_audited(self):
        partner = self.env["res.partner"].create(
            {"name": "Jane Roe", "email": "jane.roe@example.com"}
        )
        self.enqueue(
            "generic.event",
            {
                "id": "p1",
                "type": "record.upsert",
                "object_id": "R-2",
                "data": {"name": "Jane Roe", "email": "jane.roe@example.com"},
            },
        )
        self.enqueue(
            "generic.event",
            {"id": "p2", "type": "record.upsert", "object_id": "R-3", "data": {"name": "John Doe"}},
        )
        self.run_queue()
        wizard = (
            self.env["connector.audit.erasure.wizard"]
            .with_user(self.connector_manager)
            .create({"partner_id": partner.id})
        )
        wizard.action_erase()
        self.assertGreaterEqual(wizard.erased_count, 1)
        self.env.cr.execute(
            "SELECT count(*) FROM connector_audit_log WHERE changes ILIKE %s OR res_name ILIKE %s "
            "OR message ILIKE %s",
            ("%jane%", "%jane%", "%jane%"),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no trace of the person is left")
        self.assertTrue(
            self.Audit().search([("res_name", "=", "John Doe")]), "others are untouched"
        )
        erasure = self.Audit().search([("action", "=", "erasure")])
        self.assertTrue(erasure, "the erasure itself is audited")
        self.assertNotIn("jane", (erasure.message or "").lower())
