from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestSecurity(ConnectorCase):
    def test_connector_user_sees_jobs_but_not_configuration_changes(self):
        job = self.enqueue("test.behave", {"fail": "business"})
        self.run_queue()
        as_user = job.with_user(self.connector_user)
        self.assertEqual(as_user.state, "needs_attention", "a connector user reads jobs")
        as_user.action_retry()  # and may retry them
        with self.assertRaises(AccessError):
            self.backend.with_user(self.connector_user).write({"batch_size": 1})
        with self.assertRaises(UserError):
            as_user.action_edit_payload()
        with self.assertRaises(AccessError):
            self.env["connector.job.payload.wizard"].with_user(self.connector_user).create(
                {"job_id": job.id, "payload": "{}", "reason": "x"}
            )

    def test_connector_user_cannot_touch_credentials(self):
        with self.assertRaises(AccessError):
            self.env["connector.secret"].with_user(self.connector_user).search([])
        with self.assertRaises(AccessError):
            self.env["connector.secret"].with_user(self.connector_manager).search([])
        with self.assertRaises(UserError):
            self.backend.with_user(self.connector_user).sudo(False)._set_secret(
                "api_token", "y" * 10
            )

    def test_plain_employee_has_no_access(self):
        employee = new_test_user(self.env, login="employee_test", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["connector.job"].with_user(employee).search([])
        with self.assertRaises(AccessError):
            self.env["connector.audit.log"].with_user(employee).search([])

    def test_multi_company_rules(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        manager = new_test_user(
            self.env,
            login="multi_manager",
            groups="base.group_user,connector_base.group_connector_manager",
            company_ids=[(6, 0, [other_company.id])],
            company_id=other_company.id,
        )
        integration = new_test_user(
            self.env,
            login="other_integration",
            groups="base.group_user,connector_base.group_connector_user",
            company_ids=[(6, 0, [other_company.id])],
            company_id=other_company.id,
        )
        other_backend = self.env["connector.backend"].create(
            {"name": "Other", "company_id": other_company.id, "user_id": integration.id}
        )
        job = self.enqueue("noop", backend=other_backend)
        visible = self.env["connector.job"].with_user(self.connector_user).search([])
        self.assertNotIn(job, visible, "jobs of another company are invisible")
        self.assertIn(job, self.env["connector.job"].with_user(manager).search([]))
        self.assertNotIn(self.backend, self.env["connector.backend"].with_user(manager).search([]))

    def test_integration_user_must_be_a_connector_user_of_the_companies(self):
        employee = new_test_user(self.env, login="plain_integration", groups="base.group_user")
        with self.assertRaises(ValidationError) as caught:
            self.env["connector.backend"].create({"name": "Bad", "user_id": employee.id})
        self.assertIn("must be a Connector User", str(caught.exception))

    def test_a_backend_with_history_is_archived_not_deleted(self):
        self.backend.write({"batch_size": 20})  # an audited change
        with self.assertRaises(UserError) as caught:
            self.backend.unlink()
        self.assertIn("archive it instead", str(caught.exception))
        fresh = (
            self.env["connector.backend"]
            .with_context(connector_no_audit=True)
            .create({"name": "Never used", "user_id": self.integration_user.id})
        )
        fresh.unlink()  # nothing recorded yet: deletion is allowed
