from odoo import Command
from odoo.tests import tagged

from .common import CrmCase, map_backend

ENTITIES = ("us", "eu", "uk")


@tagged("post_install", "-at_install")
class TestLegalEntities(CrmCase):
    """The group's three legal entities (ps_billing_rules' demo companies: US/USD, EU/EUR,
    UK/GBP, each with its chart, sales tax and cross-border B2B fiscal position): a deal is
    signed by its entity's company, in its currency, and a tax treatment resolves to that
    company's own fiscal position."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        if not ref("ps_billing_rules.demo_company_eu", raise_if_not_found=False):
            cls.env["ps.demo.companies"]._setup()  # a database without demo data
        cls.companies = {code: ref(f"ps_billing_rules.demo_company_{code}") for code in ENTITIES}
        cls.b2b = {
            code: ref(f"ps_billing_rules.demo_fiscal_position_b2b_{code}") for code in ENTITIES
        }
        cls.sale_tax = {code: ref(f"ps_billing_rules.demo_tax_sale_{code}") for code in ENTITIES}
        cls.zero_tax = {code: ref(f"ps_billing_rules.demo_tax_b2b_{code}") for code in ENTITIES}
        everywhere = [Command.link(company.id) for company in cls.companies.values()]
        cls.integration_user.company_ids = everywhere
        templates = cls.env["product.product"].union(*cls.products.values()).product_tmpl_id
        cls.env["ps.demo.companies"]._add_company_taxes(templates)

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        backend = self.sf_backend
        backend.crm_value_map_ids.unlink()
        backend.crm_product_map_ids.unlink()
        backend.company_ids = [Command.link(c.id) for c in self.companies.values()]
        map_backend(
            self.env,
            backend,
            companies={
                "Acme Consulting US": self.companies["us"],
                "Acme Consulting EU": self.companies["eu"],
                "Acme Consulting UK": self.companies["uk"],
            },
            templates={
                "Standard Implementation": self.template_impl,
                "Support": self.template_support,
            },
            products=self.products,
            tax_treatments={
                "Domestic": None,
                "EU reverse charge": self.env["account.fiscal.position"].union(*self.b2b.values()),
            },
        )

    def test_each_entity_signs_in_its_company_currency_and_fiscal_position(self):
        self.pull(self.sf_backend)
        # Globex GmbH (Germany), Acme Consulting EU, EU reverse charge.
        globex = self.order_of(self.sf_backend, self.ids["globex_consulting"])
        self.assertEqual(globex.state, "sale", self.jobs(self.sf_backend).mapped("last_error"))
        self.assertEqual(globex.company_id, self.companies["eu"])
        self.assertEqual(globex.currency_id.name, "EUR")
        self.assertEqual(globex.fiscal_position_id, self.b2b["eu"], "the EU company's own")
        self.assertEqual(globex.order_line.tax_id, self.zero_tax["eu"], "VAT replaced by 0 %")
        self.assertFalse(globex.crm_review_needed)
        # Initech Ltd (United Kingdom), Acme Consulting UK, Domestic: UK VAT.
        initech = self.order_of(self.sf_backend, self.ids["initech_mixed"])
        self.assertEqual(initech.company_id, self.companies["uk"])
        self.assertEqual(initech.currency_id.name, "GBP")
        self.assertFalse(initech.fiscal_position_id)
        self.assertEqual(set(initech.order_line.tax_id), {self.sale_tax["uk"]})
        # Northwind (United States), Acme Consulting US, Domestic.
        northwind = self.order_of(self.sf_backend, self.ids["northwind_erp"])
        self.assertEqual(northwind.company_id, self.companies["us"])
        self.assertEqual(set(northwind.order_line.tax_id), {self.sale_tax["us"]})
        # Each project belongs to its contract's company.
        self.assertEqual(globex.project_ids.company_id, self.companies["eu"])

    def test_a_tax_treatment_without_a_fiscal_position_of_the_entity_is_not_ready(self):
        treatment = self.sf_backend.crm_value_map_ids.filtered(
            lambda m: m.remote_value == "EU reverse charge"
        )
        treatment.fiscal_position_ids = [Command.unlink(self.b2b["eu"].id)]
        self.pull(self.sf_backend)
        self.assertFalse(self.order_of(self.sf_backend, self.ids["globex_consulting"]))
        job = self.jobs(self.sf_backend, "crm.engagement.create", "needs_attention").filtered(
            lambda job: job.record_key == f"deal:{self.ids['globex_consulting']}"
        )
        self.assertIn(
            "Tax treatment 'EU reverse charge' of Salesforce deal 'Globex - Process consulting'",
            job.last_error,
        )
        self.assertIn("has no fiscal position of Acme Consulting EU", job.last_error)

    def test_a_fiscal_position_that_changes_nothing_on_a_cross_border_sale_is_flagged(self):
        """The demo's old mistake: a "reverse charge" position mapping no tax, so reverse-charge
        customers were invoiced VAT. The contract is created and flagged for review."""
        empty = self.env["account.fiscal.position"].create(
            {"name": "Reverse charge (maps nothing)", "company_id": self.companies["eu"].id}
        )
        treatment = self.sf_backend.crm_value_map_ids.filtered(
            lambda m: m.remote_value == "EU reverse charge"
        )
        treatment.fiscal_position_ids = [
            Command.unlink(self.b2b["eu"].id),
            Command.link(empty.id),
        ]
        # Initech Ltd is in the United Kingdom, Acme Consulting EU in Germany: cross-border.
        deal = self.sf.add_opportunity(
            self.ids["initech"],
            name="Initech - EU rollout",
            close_date="2026-11-02",
            lines=[{"product_id": self.ids["IMPL"], "quantity": 1, "unit_price": 30000.0}],
            Legal_Entity__c="Acme Consulting EU",
            Billing_Model__c="Fixed Fee",
            Project_Template__c="Standard Implementation",
            Tax_Treatment__c="EU reverse charge",
        )
        self.pull(self.sf_backend)
        order = self.order_of(self.sf_backend, deal)
        self.assertEqual(order.state, "sale", "a warning does not stop the deal")
        self.assertEqual(order.fiscal_position_id, empty)
        self.assertEqual(order.order_line.tax_id, self.sale_tax["eu"], "VAT 19 % stays")
        self.assertTrue(order.crm_review_needed)
        reason = order.crm_review_reason
        self.assertIn("replaces none of the sales taxes", reason)
        self.assertIn("the customer is in United Kingdom", reason)
        self.assertIn("Acme Consulting EU in Germany", reason)
        self.assertIn("Fiscal Positions", reason)
        self.assertTrue(
            order.activity_ids.filtered(lambda a: a.summary == "Check taxes before invoicing")
        )
        # Domestic deals and same-country sales are not flagged.
        for key in ("northwind_erp", "globex_consulting"):
            self.assertFalse(self.order_of(self.sf_backend, self.ids[key]).crm_review_needed, key)
