"""Issue 9, item 7: retainer and periodic lines from the CRM, over loopback HTTP with the fakes.

A contract made from a periodic CRM line sells what the deal sold (its total equals the deal's
amount, fee per period x number of periods, the last fee taking the remainder) and billing stops
at the end of the term; a periodic line whose term cannot be determined makes the deal need
attention instead of becoming a contract that bills forever."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ps_billing_rules.engine.periods import add_months, month_end

from .common import CrmCase

CLOSE = "2026-01-05"


@tagged("post_install", "-at_install")
class TestPeriodicLines(CrmCase):
    def setUp(self):
        super().setUp()
        self.hs_company = self.hs.add_company(name="Initech GmbH", domain="initech.example")
        self.hs_product = self.hs.add_product("Support retainer", sku="SUP-RET", price="2000.00")
        self.support_map = self.hs_backend.crm_product_map_ids.filtered(
            lambda m: m.remote_code == "SUP-RET"
        )

    def hubspot_retainer(self, **line):
        return self.hs.add_deal(
            dealname="Initech - Support 2026",
            company_id=self.hs_company,
            closedate=f"{CLOSE}T00:00:00Z",
            legal_entity="Acme Consulting US",
            billing_model="Retainer",
            project_template="Support",
            tax_treatment="Domestic",
            line_items=[dict({"product_id": self.hs_product, "quantity": "1"}, **line)],
        )

    def bill(self, order, period_end):
        """A billing run over the contract, as the engine's cron makes it."""
        run = self.env["ps.billing.run"].create(
            {
                "name": "Retainer run",
                "period_end": period_end,
                "invoice_date": period_end,
                "order_ids": [Command.set(order.ids)],
            }
        )
        run.action_run_now()
        return run

    def bill_everything(self, order, first_end):
        """The first run (its catch-up goes to the pre-bill review, billed from there), then
        monthly runs for two years: every invoice the contract will ever get."""
        first = self.bill(order, first_end)
        self.assertFalse(first.invoice_ids, "no catch-up billed without the review")
        prebill = self.env["ps.prebill"]._for_contract(order, first_end)
        prebill.action_generate_invoice()
        prebill.invoice_id.action_post()
        for month in range(1, 25):
            self.bill(order, month_end(add_months(first_end, month))).invoice_ids.action_post()
        return order.invoice_ids.filtered(lambda move: move.state == "posted")

    def test_hubspot_one_times_two_thousand_is_two_thousand_not_twenty_four(self):
        """The issue's deal: one retainer line 1 x 2,000, deal amount 2,000, closed in January;
        the product is sold over a 12-month term: twelve fees that add up to 2,000."""
        self.support_map.write({"term_source": "months", "term_months": 12})
        deal_id = self.hubspot_retainer()
        self.assertEqual(self.hs.get("deals", deal_id)["properties"]["amount"], "2000.00")
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual(order.state, "sale", self.jobs(self.hs_backend).mapped("last_error"))
        line = order.order_line
        self.assertEqual(
            (line.ps_billing_model, line.ps_period_count, line.ps_retainer_period),
            ("retainer", 12, "monthly"),
        )
        self.assertEqual((line.ps_period_fee, line.ps_period_last_fee), (166.67, 166.63))
        self.assertEqual(order.currency_id.compare_amounts(order.amount_untaxed, 2000.0), 0)
        self.assertEqual(line.ps_retainer_start, date(2026, 1, 5))
        self.assertTrue(line.ps_retainer_end, "billing stops at the end of the term")
        self.assertLessEqual(line.ps_retainer_end, date(2027, 1, 31))
        invoices = self.bill_everything(order, date(2026, 11, 30))
        billed = sum(invoices.mapped("amount_untaxed"))
        self.assertEqual(
            order.currency_id.compare_amounts(billed, 2000.0),
            0,
            f"the contract bills the deal's 2,000 in all, never 24,000 (billed {billed})",
        )
        self.assertAlmostEqual(line.qty_invoiced, line.product_uom_qty, places=6)

    def test_hubspot_recurring_line_item_sells_its_whole_term(self):
        """1 x 2,000 billed monthly for P12M: HubSpot's total contract value (and deal
        amount) 24,000, twelve fees of 2,000 from the billing start date, then nothing."""
        deal_id = self.hubspot_retainer(
            recurringbillingfrequency="monthly",
            hs_recurring_billing_period="P12M",
            hs_recurring_billing_start_date="2026-02-01",
        )
        self.assertEqual(self.hs.get("deals", deal_id)["properties"]["amount"], "24000.00")
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual(order.state, "sale", self.jobs(self.hs_backend).mapped("last_error"))
        line = order.order_line
        self.assertEqual((line.product_uom_qty, line.price_unit), (12.0, 2000.0))
        self.assertEqual((line.ps_period_count, line.ps_period_fee), (12, 2000.0))
        self.assertEqual(order.amount_untaxed, 24000.0, "the deal's amount")
        self.assertEqual(line.ps_retainer_start, date(2026, 2, 1))
        self.assertEqual(line.ps_retainer_end, date(2027, 1, 31))
        invoices = self.bill_everything(order, date(2026, 11, 30))
        self.assertEqual(sum(invoices.mapped("amount_untaxed")), 24000.0)

    def test_a_deal_amount_per_month_is_flagged_for_review(self):
        """A portal whose deal amount is the monthly value (HubSpot's default deal amount can be
        MRR): the contract sells the line's term, and the difference is shown for review."""
        deal_id = self.hubspot_retainer(
            recurringbillingfrequency="monthly", hs_recurring_billing_period="P12M"
        )
        self.hs.update("deals", deal_id, amount="2000.00")
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual(order.amount_untaxed, 24000.0)
        self.assertTrue(order.crm_review_needed)
        self.assertIn("but its lines sell 24000.00 over their terms", order.crm_review_reason)
        self.assertIn(
            "Check the periodic terms before invoicing", order.activity_ids.mapped("summary")
        )

    def test_salesforce_twelve_times_two_thousand_five_hundred(self):
        account = self.sf.add_account(Name="Northwind Traders")
        product = self.sf.add_product("Support retainer", "SUP-RET", list_price=2500.0)
        opportunity = self.sf.add_opportunity(
            account,
            name="Northwind - Support 2026",
            close_date="2026-04-01",
            lines=[{"product_id": product, "quantity": 12, "unit_price": 2500.0}],
            Legal_Entity__c="Acme Consulting US",
            Billing_Model__c="Retainer",
            Project_Template__c="Support",
            Tax_Treatment__c="Domestic",
        )
        self.pull(self.sf_backend)
        order = self.order_of(self.sf_backend, opportunity)
        self.assertEqual(order.state, "sale", self.jobs(self.sf_backend).mapped("last_error"))
        line = order.order_line
        self.assertEqual((line.ps_period_count, line.ps_period_fee), (12, 2500.0))
        self.assertEqual(order.amount_untaxed, 30000.0, "the opportunity's amount")
        self.assertEqual(line.ps_retainer_end, date(2027, 3, 31))
        invoices = self.bill_everything(order, date(2026, 11, 30))
        self.assertEqual(sum(invoices.mapped("amount_untaxed")), 30000.0)

    def test_a_retainer_without_a_term_needs_attention(self):
        self.support_map.write({"term_source": False})
        deal_id = self.hubspot_retainer()
        self.pull(self.hs_backend)
        self.assertFalse(self.order_of(self.hs_backend, deal_id), "no contract that bills forever")
        job = self.jobs(self.hs_backend, "crm.engagement.create", "needs_attention")
        self.assertEqual(len(job), 1)
        self.assertIn("is a retainer, billed per period, but its term", job.last_error)
        self.assertIn("hs_recurring_billing_period", job.last_error)
        self.assertIn("give the product mapping of 'SUP-RET' a default term", job.last_error)
        # The admin gives the product a term: a retry creates the contract.
        self.support_map.write({"term_source": "quantity"})
        job.action_retry()
        self.drain()
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual((order.order_line.ps_period_count, order.amount_untaxed), (1, 2000.0))

    def test_recurring_fixed_fee_is_one_installment_per_period(self):
        deal_id = self.hubspot_retainer(
            billing_model="Fixed Fee",
            price="1000.00",
            recurringbillingfrequency="quarterly",
            hs_recurring_billing_number_of_payments="3",
        )
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual(order.state, "sale", self.jobs(self.hs_backend).mapped("last_error"))
        installments = order.order_line.ps_installment_ids
        self.assertEqual(order.amount_untaxed, 3000.0)
        self.assertEqual(
            [(i.date, i.amount) for i in installments],
            [(date(2026, 1, 5), 1000.0), (date(2026, 4, 5), 1000.0), (date(2026, 7, 5), 1000.0)],
        )

    def test_extending_the_term_in_hubspot_is_an_amendment_of_the_periods(self):
        deal_id = self.hubspot_retainer(
            recurringbillingfrequency="monthly", hs_recurring_billing_period="P6M"
        )
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        line = order.order_line
        self.assertEqual((line.ps_period_count, order.amount_untaxed), (6, 12000.0))
        (item,) = self.hs.associated_ids("deals", deal_id, "line_items")
        self.hs.update("line_items", item, hs_recurring_billing_period="P12M")
        self.hs.update("deals", deal_id, description="Extended to a year")  # what a pull reads
        self.pull(self.hs_backend)
        version = order.crm_version_ids.filtered(lambda v: v.state == "pending")
        self.assertEqual(len(version), 1, "a change of term waits for a Billing Manager")
        self.assertIn("Term", version.summary or "")
        version.with_user(self.billing_manager).action_approve()
        self.drain()
        self.assertEqual(
            (line.product_uom_qty, line.ps_period_count, line.ps_period_fee),
            (12.0, 12, 2000.0),
        )
        self.assertEqual(order.amount_untaxed, 24000.0)
