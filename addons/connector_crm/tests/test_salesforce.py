import json

from odoo.tests import tagged

from odoo.addons.connector_base.engine.hashing import payload_hash
from odoo.addons.connector_crm.engine import deals as shapes

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestSalesforceEngagements(CrmCase):
    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()

    def test_won_deals_become_engagements_end_to_end(self):
        self.pull(self.sf_backend)
        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertEqual(
            sorted(orders.mapped("crm_deal_id")),
            sorted(
                self.ids[key]
                for key in (
                    "northwind_erp",
                    "northwind_support",
                    "globex_consulting",
                    "globex_rollout",
                    "initech_mixed",
                    "umbrella_advisory",
                )
            ),
            "every won deal since the start date, and only those, became an engagement",
        )
        order = self.order_of(self.sf_backend, self.ids["globex_consulting"])
        self.assertEqual(order.state, "sale", "the contract is confirmed")
        self.assertEqual(order.partner_id.name, "Globex GmbH")
        self.assertTrue(order.partner_id.is_company)
        self.assertEqual(order.partner_id.country_id.code, "DE")
        self.assertEqual(
            sorted(order.partner_id.child_ids.mapped("name")), ["Greta Keller", "Jonas Weber"]
        )
        self.assertEqual(order.client_order_ref, "4500012345")
        self.assertEqual(order.fiscal_position_id, self.reverse_charge)
        self.assertEqual(order.ps_cap_amount, 30000.0)
        line = order.order_line
        self.assertEqual(
            (line.product_id, line.product_uom_qty, line.price_unit, line.discount),
            (self.products["CONS-H"], 200.0, 150.0, 5.0),
        )
        self.assertEqual(line.ps_billing_model, "tm")
        projects = order.project_ids
        self.assertEqual(len(projects), 1, "one project, created by Odoo on confirmation")
        self.assertEqual(projects.name, f"Globex - Process consulting ({order.name})")
        # The template has no stages: the project gets the default ones, every task one.
        self.assertEqual(
            projects.type_ids.sorted("sequence").mapped("name"),
            ["To Do", "In Progress", "Done", "Cancelled"],
        )
        self.assertTrue(all(task.stage_id in projects.type_ids for task in projects.task_ids))
        self.assertEqual(set(projects.task_ids.stage_id.mapped("name")), {"To Do"})
        names = set(projects.task_ids.mapped("name"))
        self.assertLessEqual({"Kick-off", "Design", "Build", "Go-live"}, names, "template tasks")
        self.assertEqual(line.task_id.project_id, projects, "the T&M line's own task is in it")
        self.assertTrue(projects.account_id, "the project has its analytic account")
        self.assertEqual(order.crm_version_ids.mapped("sequence"), [1])
        # Mixed billing models on one contract.
        mixed = self.order_of(self.sf_backend, self.ids["initech_mixed"])
        self.assertEqual(
            sorted(mixed.order_line.mapped("ps_billing_model")),
            ["fixed_fee", "fixed_fee", "tm"],
        )
        impl = mixed.order_line.filtered(lambda sol: sol.product_id == self.products["IMPL"])
        self.assertEqual(len(impl.ps_installment_ids), 2)
        self.assertEqual(sum(impl.ps_installment_ids.mapped("percentage")), 100.0)
        # Retainer terms from the billing-model mapping.
        support = self.order_of(self.sf_backend, self.ids["northwind_support"]).order_line
        self.assertEqual(
            (support.ps_billing_model, support.ps_retainer_included, support.ps_rollover_rule),
            ("retainer", 20.0, "capped"),
        )
        # Milestones of the template are billed by the milestone line.
        rollout = self.order_of(self.sf_backend, self.ids["globex_rollout"])
        milestone_line = rollout.order_line.filtered(
            lambda sol: sol.ps_billing_model == "milestone"
        )
        milestones = self.env["project.milestone"].search(
            [("sale_line_id", "=", milestone_line.id)]
        )
        self.assertEqual(sorted(milestones.mapped("name")), ["Design signed off", "Go-live"])
        # The deal with an unmapped product created nothing and needs a person.
        self.assertFalse(self.order_of(self.sf_backend, self.ids["initech_migration"]))
        attention = self.jobs(self.sf_backend, "crm.engagement.create", "needs_attention")
        self.assertEqual(len(attention), 1)
        self.assertIn("NEW-SKU", attention.last_error)
        self.assertIn("Initech - Data migration", attention.last_error)
        # Status written back to the opportunities.
        written = {w[2] for w in self.sf.writes if w[1] == "Opportunity"}
        self.assertEqual(written, set(orders.mapped("crm_deal_id")))
        self.assertEqual(
            self.sf.get("Opportunity", order.crm_deal_id)["Odoo_Invoiced_Total__c"], 0.0
        )

    def test_readiness_failure_then_fix_then_retry(self):
        self.pull(self.sf_backend)
        job = self.jobs(self.sf_backend, "crm.engagement.create", "needs_attention")
        self.assertIn("has no product mapping", job.last_error)
        job.action_retry()
        self.drain()
        self.assertEqual(job.state, "needs_attention", "still not mapped: still waiting")
        self.env["connector.crm.product.map"].create(
            {
                "backend_id": self.sf_backend.id,
                "remote_code": "NEW-SKU",
                "product_id": self.products["IMPL"].id,
            }
        )
        job.action_retry()
        self.drain()
        self.assertEqual(job.state, "done")
        order = self.order_of(self.sf_backend, self.ids["initech_migration"])
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_untaxed, 8000.0)

    def test_first_pull_only_takes_deals_won_since_the_start_date(self):
        self.sf_backend.crm_start_date = "2026-06-01"
        self.pull(self.sf_backend)
        deals = set(
            self.env["sale.order"]
            .search([("crm_backend_id", "=", self.sf_backend.id)])
            .mapped("crm_deal_id")
        )
        self.assertEqual(
            deals,
            {self.ids[k] for k in ("globex_rollout", "initech_mixed", "umbrella_advisory")},
        )

    def test_the_same_event_delivered_five_times_gives_one_engagement(self):
        self.sf_backend.crm_start_date = "2026-09-01"
        deal = self.ids["umbrella_advisory"]
        receive = self.env["connector.backend"]._webhook_receive
        for _attempt in range(5):
            status, answer = receive(
                self.sf_backend.webhook_key,
                method="POST",
                path="/x",
                request_url="http://odoo.test/x",
                headers={"X-Connector-Flow-Secret": "flow-secret"},
                body=json.dumps(
                    {"sobject": "Opportunity", "id": deal, "event": "updated", "modstamp": "v1"}
                ).encode(),
                content_type="application/json",
                now=0,
            )
            self.assertEqual(status, 200, answer)
        self.assertEqual(len(self.jobs(self.sf_backend, "crm.deal.sync")), 1, "one job per event")
        # A different delivery of the same change (another modstamp) and a pull on top.
        receive(
            self.sf_backend.webhook_key,
            method="POST",
            path="/x",
            request_url="http://odoo.test/x",
            headers={"X-Connector-Flow-Secret": "flow-secret"},
            body=json.dumps({"sobject": "Opportunity", "id": deal, "modstamp": "v2"}).encode(),
            content_type="application/json",
            now=0,
        )
        self.drain()
        self.pull(self.sf_backend)
        self.assertEqual(len(self.order_of(self.sf_backend, deal)), 1)
        creations = self.jobs(self.sf_backend, "crm.engagement.create").filtered(
            lambda job: job.idempotency_key == f"engagement:{deal}"
        )
        self.assertEqual(len(creations), 1, "creation is keyed by deal")
        status, _answer = receive(
            self.sf_backend.webhook_key,
            method="POST",
            path="/x",
            request_url="http://odoo.test/x",
            headers={"X-Connector-Flow-Secret": "wrong"},
            body=b"{}",
            content_type="application/json",
            now=0,
        )
        self.assertEqual(status, 401, "a wrong shared secret is refused")

    def test_multi_currency_org_deals_keep_their_currency(self):
        self.sf.add_field("Opportunity", "CurrencyIsoCode", "string")
        self.sf.update("Opportunity", self.ids["globex_consulting"], CurrencyIsoCode="EUR")
        self.sf_backend.crm_sf_multicurrency = True
        self.pull(self.sf_backend)
        globex = self.order_of(self.sf_backend, self.ids["globex_consulting"])
        self.assertEqual(globex.currency_id, self.eur)
        self.assertEqual(globex.pricelist_id.currency_id, self.eur)
        northwind = self.order_of(self.sf_backend, self.ids["northwind_erp"])
        self.assertEqual(northwind.currency_id, self.company.currency_id, "no code: company's")

    def test_binding_hash_is_the_suite_payload_hash_of_what_odoo_compares(self):
        """One hash for bindings and echo detection: connector_base's payload_hash of the part
        of the deal Odoo compares (not the modification stamp, not the written-back fields)."""
        self.pull(self.sf_backend)
        deal_id = self.ids["northwind_erp"]
        binding = self.env["connector.binding"].search(
            [("backend_id", "=", self.sf_backend.id), ("remote_id", "=", deal_id)]
        )
        deal = self.sf_backend._adapter().fetch_deal(deal_id)
        self.assertEqual(binding.payload_hash, payload_hash(shapes.fingerprint_payload(deal)))
        self.assertTrue(binding._is_echo(shapes.fingerprint_payload(deal)))
        deal["writeback"] = {"Odoo_Invoiced_Total__c": 1.0}
        deal["modified"] = "2030-01-01T00:00:00"
        self.assertTrue(binding._is_echo(shapes.fingerprint_payload(deal)), "our write back")

    def test_projects_keep_the_stages_of_a_template_that_has_some(self):
        stages = self.env["project.task.type"].create(
            [{"name": "Backlog", "sequence": 1}, {"name": "Doing", "sequence": 2}]
        )
        self.template_support.type_ids = stages
        self.template_support.task_ids.stage_id = stages[1]
        self.pull(self.sf_backend)
        order = self.order_of(self.sf_backend, self.ids["northwind_support"])
        project = order.project_ids
        self.assertEqual(project.name, f"Northwind - Support 2026 ({order.name})")
        self.assertEqual(project.type_ids, stages)
        self.assertEqual(project.task_ids.stage_id, stages[1], "tasks keep their stage")
