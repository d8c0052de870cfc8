from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestLineAmounts(CrmCase):
    """A contract line's subtotal is the CRM line's own total, to the cent, whatever discount
    the CRM states: HubSpot's ``discount`` is an amount off per unit, ``hs_discount_percentage``
    a percentage of the line total (the discount rounded there, not the discounted total)."""

    def hubspot_deal(self, **line_items):
        ids = self.hs.seed_demo()
        deal_id = self.hs.add_deal(
            dealname="Globex - Discounted training",
            company_id=ids["company_globex"],
            contact_ids=[ids["contact_globex_hank"]],
            closedate="2026-11-02T00:00:00Z",
            legal_entity="Acme Consulting US",
            deal_currency_code="USD",
            billing_model="Fixed Fee",
            project_template="Standard Implementation",
            tax_treatment="Domestic",
            line_items=[
                {"product_id": ids["product_impl"], "quantity": "1", "price": "15000.00"},
                *(dict(values, product_id=ids["product_train"]) for values in line_items.values()),
            ],
        )
        return deal_id

    def test_hubspot_discounts_per_unit_and_percentage_give_the_hubspot_amount(self):
        deal_id = self.hubspot_deal(
            per_unit={"quantity": "3", "price": "1200.00", "discount": "100", "name": "Per unit"},
            percent={
                "quantity": "1",
                "price": "22.50",
                "hs_discount_percentage": "15",
                "name": "Percent",
            },
            percent_many={
                "quantity": "10",
                "price": "234.56",
                "hs_discount_percentage": "20",
                "name": "Percent of ten",
            },
        )
        amounts = {}
        for line_id in self.hs.associated_ids("deals", deal_id, "line_items"):
            properties = self.hs.get("line_items", line_id)["properties"]
            amounts[properties["name"]] = float(properties["amount"])
        self.assertEqual(
            {name: amounts[name] for name in ("Per unit", "Percent", "Percent of ten")},
            {"Per unit": 3300.0, "Percent": 19.12, "Percent of ten": 1876.48},
            "HubSpot's amounts (the fake computes them as HubSpot does)",
        )
        self.pull(self.hs_backend)
        order = self.order_of(self.hs_backend, deal_id)
        self.assertEqual(order.state, "sale", self.jobs(self.hs_backend).mapped("last_error"))
        by_name = {line.name: line for line in order.order_line}
        for name, amount in amounts.items():
            line = by_name[name]
            self.assertEqual(
                order.currency_id.compare_amounts(line.price_subtotal, amount),
                0,
                f"{name}: Odoo {line.price_subtotal} for HubSpot's {amount}",
            )
        per_unit = by_name["Per unit"]
        self.assertEqual(
            (per_unit.price_unit, per_unit.discount),
            (1100.0, 0.0),
            "100 off per unit is no two-decimal percentage: the net unit price",
        )
        self.assertEqual(by_name["Percent of ten"].discount, 20.0, "the stated percentage")
        self.assertEqual(
            order.currency_id.compare_amounts(order.amount_untaxed, sum(amounts.values())), 0
        )

    def test_a_hubspot_line_whose_amount_odoo_cannot_reach_is_not_imported(self):
        # 333.333333 off per unit (HubSpot keeps six decimals): 2,000.00 for three units of
        # 1,000.00, which no two-decimal unit price (666.67) or discount (33.33 %) gives.
        deal_id = self.hubspot_deal(
            odd={
                "quantity": "3",
                "price": "1000.00",
                "discount": "333.333333",
                "name": "Odd total",
            },
        )
        self.pull(self.hs_backend)
        self.assertFalse(self.order_of(self.hs_backend, deal_id), "no deal with a wrong amount")
        [job] = self.jobs(self.hs_backend, "crm.engagement.create", "needs_attention").filtered(
            lambda job: job.record_key == f"deal:{deal_id}"
        )
        self.assertIn("Line 'Odd total'", job.last_error)
        self.assertIn("its amount 2000.0", job.last_error)
        self.assertIn("Decimal Accuracy", job.last_error)

    def test_salesforce_lines_give_the_opportunity_line_total_price(self):
        ids = self.sf.seed_demo()
        account, product = ids["globex"], ids["TRAIN"]
        lines = [
            {"product_id": product, "quantity": 1, "unit_price": 22.5, "discount": 15.0},
            {"product_id": product, "quantity": 7, "unit_price": 33.33, "discount": 12.5},
        ]
        deal = self.sf.add_opportunity(
            account,
            name="Globex - Workshops",
            close_date="2026-11-02",
            lines=lines,
            Legal_Entity__c="Acme Consulting US",
            Billing_Model__c="Fixed Fee",
            Project_Template__c="Standard Implementation",
            Tax_Treatment__c="Domestic",
        )
        totals = sorted(
            line["TotalPrice"]
            for line in self.sf.records("OpportunityLineItem")
            if line["OpportunityId"] == deal
        )
        # With training alone no product creates the project: add the implementation.
        self.sf.add_line_item(deal, product_id=ids["IMPL"], quantity=1, unit_price=1000.0)
        self.pull(self.sf_backend)
        order = self.order_of(self.sf_backend, deal)
        self.assertEqual(order.state, "sale")
        subtotals = sorted(
            order.order_line.filtered(lambda line: line.price_unit < 1000).mapped("price_subtotal")
        )
        self.assertEqual(subtotals, totals, "Odoo subtotals = Salesforce TotalPrice")
