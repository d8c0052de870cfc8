"""Browser tour: an admin tests the demo Salesforce backend against the fake org, fixes the
mapping of a deal that needs attention and retries it into an engagement."""

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import _super_send

from odoo.addons.connector_base.engine.redaction import SECRETS
from odoo.addons.connector_base.tests.common import TEST_KEY, harness_keys, vault_keys
from odoo.addons.connector_base.tests.screenshots import screenshots_of
from odoo.addons.connector_crm.engine.oauth import TOKENS
from odoo.addons.connector_crm.models.connector_crm_demo import LEGAL_ENTITIES, PRODUCT_TERMS

from .common import FakeSalesforce, declare_writeback_fields, drain


@tagged("post_install", "-at_install", "is_tour")
class TestConnectorCrmTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert FakeSalesforce is not None, "run the tests from the repository root"
        cls._keys = vault_keys(TEST_KEY, *harness_keys())
        cls._keys.__enter__()
        cls.addClassCleanup(cls._keys.__exit__, None, None, None)
        # The browser's login would rewrite web.base.url, which the staging guard would take for
        # a copied database and pause the backend.
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Loopback calls to the fake keep their (connect, read) timeouts (see CrmCase).
        if r.url.startswith("http://127.0.0.1"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        TOKENS.clear()
        self.addCleanup(SECRETS.clear)
        self.addCleanup(TOKENS.clear)
        self.sf = FakeSalesforce().start()
        self.addCleanup(self.sf.stop)
        declare_writeback_fields(self.sf)
        self.ids = self.sf.seed_demo()
        self.Job = self.env["connector.job"]
        self.admin = self.env.ref("base.user_admin")
        # The demo Salesforce backend, pointed at the fake org; every other backend paused.
        self.backend = self.env.ref("connector_crm.backend_demo_salesforce")
        self.env["connector.backend"].search([]).write({"state": "paused"})
        self.backend.write(
            {
                "auth_base_url": self.sf.url,
                "crm_auth_flow": "client_credentials",
                "crm_client_id": self.sf.client_id,
                "crm_instance_url": False,
                "crm_connected_as": False,
                "crm_start_date": "2026-01-01",
            }
        )
        manager = self.backend.with_user(self.admin)
        self.assertTrue(self.admin.has_group("connector_base.group_connector_manager"))
        manager._set_secret("client_secret", self.sf.client_secret)
        self._complete_demo_setup()
        manager.action_activate()

    def _complete_demo_setup(self):
        """Databases installed before the demo mapped the UK legal entity lack it: add what is
        missing so that every demo deal but the NEW-SKU one is ready."""
        known = set(
            self.backend.crm_value_map_ids.filtered(lambda m: m.kind == "legal_entity").mapped(
                "remote_value"
            )
        )
        self.env["connector.crm.value.map"].create(
            [
                {
                    "backend_id": self.backend.id,
                    "kind": "legal_entity",
                    "remote_value": name,
                    "target_company_id": self.env.company.id,
                }
                for name in LEGAL_ENTITIES
                if name not in known
            ]
        )
        # ... and, installed before product mappings had a term, the demo's periodic terms.
        for code, terms in PRODUCT_TERMS.items():
            self.backend.crm_product_map_ids.filtered(
                lambda m, code=code: m.remote_code == code and not m.term_source
            ).write(terms)

    def drain(self, now=None):
        return drain(self.Job, now)

    def order_of(self, deal_id):
        return self.env["sale.order"].search(
            [("crm_backend_id", "=", self.backend.id), ("crm_deal_id", "=", deal_id)]
        )

    def test_admin_fixes_a_product_mapping_and_retries_the_deal(self):
        deal = self.ids["initech_migration"]
        self.assertFalse(
            self.backend.crm_product_map_ids.filtered(lambda m: m.remote_code == "NEW-SKU"),
            "the demo mappings do not know the new product code",
        )
        # The scheduled pull, run server side before the admin looks.
        stream = self.backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream._schedule_pull(fields.Datetime.now(), source="user")
        self.drain()
        won = (
            "northwind_erp",
            "northwind_support",
            "globex_consulting",
            "globex_rollout",
            "initech_mixed",
            "umbrella_advisory",
        )
        for key in won:
            self.assertEqual(self.order_of(self.ids[key]).state, "sale", key)
        self.assertFalse(self.order_of(deal))
        job = self.Job.search(
            [
                ("backend_id", "=", self.backend.id),
                ("operation", "=", "crm.engagement.create"),
                ("state", "=", "needs_attention"),
            ]
        )
        self.assertEqual(len(job), 1, "only the deal with the unmapped product waits")
        self.assertEqual(job.record_key, f"deal:{deal}")
        self.assertIn("NEW-SKU", job.last_error)
        self.assertEqual(self.backend.crm_attention_count, 1)

        taken = {}  # the README's admin walkthrough shows these (make screenshots)
        with screenshots_of(taken):
            self.start_tour(
                f"/odoo/action-connector_base.action_connector_backend/{self.backend.id}",
                "connector_crm_fix_mapping_and_retry_tour",
                login=self.admin.login,
            )
        self.assertEqual(
            sorted(taken),
            [
                "admin-crm-backend-connected",
                "admin-crm-deal-needs-attention",
                "admin-crm-product-mapping",
            ],
        )

        self.env.invalidate_all()
        # Test connection reached the fake org and recorded what answered.
        self.assertEqual(self.backend.health, "ok")
        self.assertIn(self.sf.username, self.backend.crm_connected_as)
        self.assertIn(self.sf.org_id, self.backend.crm_connected_as)
        # The mapping the admin added in the form.
        mapping = self.backend.crm_product_map_ids.filtered(lambda m: m.remote_code == "NEW-SKU")
        implementation = self.env.ref("connector_crm.product_crm_implementation")
        self.assertEqual(mapping.product_id, implementation)
        self.assertEqual(mapping.create_uid, self.admin)
        # Retry queued the job again (by hand, audited); nothing ran yet.
        self.assertEqual(job.state, "pending")
        self.assertEqual(job.attempts, 0)
        self.assertEqual(job.write_uid, self.admin)
        self.assertFalse(self.order_of(deal))

        self.drain()
        self.env.invalidate_all()
        self.assertEqual(job.state, "done", job.last_error)
        order = self.order_of(deal)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale", "the engagement's contract is confirmed")
        self.assertEqual(job.result_model, "sale.order")
        self.assertEqual(job.result_id, order.id)
        self.assertEqual(order.partner_id.name, "Initech Ltd")
        self.assertEqual(order.client_order_ref, "INI-78020")
        line = order.order_line
        self.assertEqual(
            (line.product_id, line.product_uom_qty, line.price_unit),
            (implementation, 1.0, 8000.0),
        )
        self.assertEqual(line.ps_billing_model, "fixed_fee")
        self.assertEqual(order.amount_untaxed, 8000.0)
        self.assertFalse(
            self.Job.search_count(
                [("backend_id", "=", self.backend.id), ("state", "in", ("needs_attention", "dead"))]
            ),
            "nothing needs attention any more",
        )
        self.assertIn(
            order.crm_deal_id,
            {w[2] for w in self.sf.writes if w[1] == "Opportunity"},
            "the status was written back to the opportunity",
        )
