import base64
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestMappingFile(CrmCase):
    """Mappings move from a sandbox backend to a production one as a file."""

    def export(self, backend):
        action = backend.with_user(self.connector_manager).action_crm_export_mappings()
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        return self.env["ir.attachment"].browse(attachment_id).raw

    def load(self, backend, raw):
        wizard = (
            self.env["connector.crm.mapping.import"]
            .with_user(self.connector_manager)
            .create({"backend_id": backend.id, "file": base64.b64encode(raw)})
        )
        return wizard.action_import()

    def test_export_then_import_into_an_empty_backend_reproduces_the_mappings(self):
        self.sf_backend.crm_field_rule_ids.filtered(
            lambda r: r.object == "account" and r.field_key == "phone"
        ).mode = "odoo"
        self.sf_backend.crm_wb_paid_total = "Paid_In_Odoo__c"
        raw = self.export(self.sf_backend)
        data = json.loads(raw)
        self.assertEqual(data["format"], "connector_crm.mappings/1")
        production = self.env["connector.backend"].create(
            {
                "name": "Salesforce production (test)",
                "backend_type": "salesforce",
                "user_id": self.integration_user.id,
            }
        )
        self.assertFalse(production.crm_value_map_ids)
        self.load(production, raw)

        def values(backend):
            return sorted(
                (
                    m.kind,
                    m.remote_value,
                    m.target_company_id.id,
                    tuple(m.fiscal_position_ids.ids),
                    m.template_project_id.id,
                    m.billing_model or "",
                    m.service_months,
                    m.installment_count,
                    m.retainer_included,
                )
                for m in backend.crm_value_map_ids
            )

        self.assertEqual(values(production), values(self.sf_backend))

        def products(backend):
            return sorted(
                (p.remote_code, p.product_id.id, p.period_frequency, p.term_source, p.term_months)
                for p in backend.crm_product_map_ids
            )

        self.assertEqual(products(production), products(self.sf_backend))
        self.assertIn(
            "quantity",
            {p.term_source for p in production.crm_product_map_ids},
            "the retainer product's term came across (else its deals would need attention)",
        )
        rules = {(r.object, r.field_key): r.mode for r in production.crm_field_rule_ids}
        self.assertEqual(rules[("account", "phone")], "odoo")
        self.assertEqual(production.crm_wb_paid_total, "Paid_In_Odoo__c")
        # Importing again updates in place: no duplicates.
        self.load(production, raw)
        self.assertEqual(len(production.crm_value_map_ids), len(self.sf_backend.crm_value_map_ids))

    def test_a_file_naming_what_does_not_exist_here_imports_nothing(self):
        data = json.loads(self.export(self.sf_backend))
        data["products"][0]["product_code"] = "NOPE"
        data["products"][0]["product"] = "No such product"
        data["values"][0]["company"] = "Unknown Company Ltd"
        before = len(self.hs_backend.crm_value_map_ids)
        data["backend_type"] = "hubspot"
        with self.assertRaises(UserError) as caught:
            self.load(self.hs_backend, json.dumps(data).encode())
        self.assertIn("No such product", str(caught.exception))
        self.assertIn("Unknown Company Ltd", str(caught.exception))
        self.assertEqual(len(self.hs_backend.crm_value_map_ids), before)
        data["backend_type"] = "salesforce"
        with self.assertRaises(UserError) as caught:
            self.load(self.hs_backend, json.dumps(data).encode())
        self.assertIn("salesforce backend", str(caught.exception))
        with self.assertRaises(UserError):
            self.load(self.hs_backend, b"not json")


@tagged("post_install", "-at_install")
class TestAccess(CrmCase):
    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        self.pull(self.sf_backend)
        self.salesman = new_test_user(
            self.env,
            login="crm_salesman_test",
            groups="base.group_user,sales_team.group_sale_salesman",
        )

    def test_secrets_and_connect_are_for_connector_managers(self):
        backend = self.sf_backend.with_user(self.integration_user)
        with self.assertRaises(UserError):
            backend.action_crm_connect()
        with self.assertRaises(UserError):
            backend._set_secret("client_secret", "stolen")
        self.assertFalse(
            self.sf_backend.with_user(self.connector_manager).read(["crm_client_secret"])[0][
                "crm_client_secret"
            ],
            "secrets are write-only",
        )

    def test_only_billing_managers_decide_value_amendments(self):
        order = self.order_of(self.sf_backend, self.ids["umbrella_advisory"])
        line = self.sf.records("OpportunityLineItem")
        line = next(item for item in line if item["OpportunityId"] == self.ids["umbrella_advisory"])
        self.sf.update("OpportunityLineItem", line["Id"], Quantity=150)
        self.pull(self.sf_backend)
        version = order.crm_version_ids.filtered(lambda v: v.state == "pending")
        self.assertTrue(version)
        with self.assertRaises(AccessError):
            version.with_user(self.integration_user).action_approve()
        self.assertTrue(version.with_user(self.salesman).summary, "sales sees the history")
        with self.assertRaises(AccessError):
            version.with_user(self.salesman).action_approve()
        version.with_user(self.billing_manager).action_approve()
        self.assertIn(version.state, ("approved", "applied"))
        self.assertEqual(version.decided_by, self.billing_manager)

    def test_a_billing_manager_without_connector_rights_decides_amendments(self):
        order = self.order_of(self.sf_backend, self.ids["umbrella_advisory"])
        line = next(
            item
            for item in self.sf.records("OpportunityLineItem")
            if item["OpportunityId"] == self.ids["umbrella_advisory"]
        )
        self.sf.update("OpportunityLineItem", line["Id"], Quantity=150)
        self.pull(self.sf_backend)
        version = order.crm_version_ids.filtered(lambda v: v.state == "pending")
        approver = new_test_user(
            self.env,
            login="crm_billing_only_test",
            groups="base.group_user,sales_team.group_sale_salesman,"
            "ps_billing_rules.group_billing_manager",
        )
        version.with_user(approver).action_approve()
        self.assertIn(version.state, ("approved", "applied"), "the amendment is applied")
        self.assertEqual(version.decided_by, approver)

    def test_buttons_check_the_rights_on_the_server(self):
        """A button hidden in a form can still be called by RPC: the server refuses a user
        without the rights with an AccessError (not a data error), and changes nothing."""
        order = self.order_of(self.sf_backend, self.ids["umbrella_advisory"])
        order.sudo().crm_review_needed = True
        with self.assertRaises(AccessError, msg="a salesman does not close billing reviews"):
            order.with_user(self.salesman).action_crm_mark_reviewed()
        self.assertTrue(order.crm_review_needed)
        order.with_user(self.billing_manager).action_crm_mark_reviewed()
        self.assertFalse(order.crm_review_needed)
        for method in (
            "action_crm_open_conflicts",
            "action_crm_open_attention",
            "action_crm_open_engagements",
        ):
            with self.assertRaises(AccessError, msg=f"{method} for a user who cannot read it"):
                getattr(self.sf_backend.with_user(self.salesman), method)()
        action = self.sf_backend.with_user(self.connector_manager).action_crm_open_attention()
        self.assertEqual(action["res_model"], "connector.job")
        self.assertIn(("backend_id", "=", self.sf_backend.id), action["domain"])

    def test_conflicts_and_mappings_are_not_for_plain_users(self):
        with self.assertRaises(AccessError):
            self.env["connector.crm.conflict"].with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.env["connector.crm.product.map"].with_user(self.salesman).create(
                {
                    "backend_id": self.sf_backend.id,
                    "remote_code": "X",
                    "product_id": self.products["IMPL"].id,
                }
            )

    def test_an_operator_is_told_who_can_fix_what_they_cannot(self):
        """A connector operator (Connector User) reads the item needing attention: it names the
        Connector Managers who may change the mapping, or the backend's mappings contact."""
        operator = new_test_user(
            self.env,
            login="crm_operator_test",
            name="Olga Operator",
            groups="base.group_user,connector_base.group_connector_user",
        )
        self.connector_manager.name = "Maria Manager"
        job = self.jobs(self.sf_backend, "crm.engagement.create", "needs_attention")
        job.with_user(operator).action_retry()  # the operator may retry: the deal is read again
        self.drain()
        message = job.with_user(operator).last_error
        self.assertIn("NEW-SKU", message)
        self.assertIn("Connector Managers can: ", message)
        self.assertIn("Maria Manager", message)
        with self.assertRaises(AccessError):
            self.env["connector.crm.product.map"].with_user(operator).create(
                {
                    "backend_id": self.sf_backend.id,
                    "remote_code": "NEW-SKU",
                    "product_id": self.products["IMPL"].id,
                }
            )
        # A named contact replaces the list.
        self.sf_backend.crm_mapping_contact_id = self.connector_manager
        job.with_user(operator).action_retry()
        self.drain()
        self.assertIn("ask Maria Manager (Connector Manager)", job.last_error)
        self.assertNotIn("Connector Managers can", job.last_error)
