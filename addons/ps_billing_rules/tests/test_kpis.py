from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import BillingCase


@tagged("post_install", "-at_install")
class TestKpis(BillingCase):
    def test_kpis_from_stored_facts(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        line = order.order_line
        self.log(self.ben, 10, date(2026, 10, 5), line)  # 2000 standard, cost 600
        self.log(self.cleo, 5, date(2026, 10, 6), line)  # 600 standard, cost 175
        self.log(self.cleo, 3, date(2026, 10, 7), line, approved=False)  # not counted
        prebill = self.env["ps.prebill"]._for_contract(order, date(2026, 10, 31))
        item = prebill.line_ids.filtered(lambda line: line.employee_id == self.ben)
        item.write({"adjusted_amount": 1800.0, "reason": "overrun"})
        prebill.action_generate_invoice()
        prebill.invoice_id.action_post()
        self.log(self.ben, 4, date(2026, 10, 20), line)  # WIP: 800
        Fact = self.env["ps.kpi.fact"]
        # The invoice is dated today (the pre-bill review bills now): its revenue is in that month.
        invoice_month = prebill.invoice_id.date.replace(day=1)
        Fact._refresh(date(2026, 10, 1), max(invoice_month, date(2026, 10, 31)))
        facts = Fact.search([("order_id", "=", order.id)])
        total = {
            name: sum(facts.mapped(name))
            for name in (
                "billable_hours",
                "standard_value",
                "billed_value",
                "billed_standard",
                "cost",
                "revenue",
                "wip_value",
            )
        }
        self.assertEqual(total["billable_hours"], 19.0, "approved time only")
        self.assertEqual(total["standard_value"], 3400.0)
        self.assertEqual((total["billed_standard"], total["billed_value"]), (2600.0, 2400.0))
        self.assertEqual(total["cost"], 10 * 60 + 5 * 35 + 4 * 60)
        self.assertEqual(total["revenue"], 2400.0, "posted invoice revenue")
        self.assertEqual(
            sum(facts.filtered(lambda f: f.period == invoice_month).mapped("revenue")), 2400.0
        )
        self.assertEqual(total["wip_value"], 800.0)
        capacity = sum(
            Fact.search(
                [
                    ("period", "=", date(2026, 10, 1)),
                    ("employee_id", "=", self.ben.id),
                    ("capacity_hours", ">", 0),
                ]
            ).mapped("capacity_hours")
        )
        self.assertGreater(capacity, 150, "about 22 working days of 8 h in October 2026")
        dashboard = (
            self.env["ps.kpi.dashboard"]
            .with_user(self.billing_user)
            .create(
                {
                    "date_from": date(2026, 10, 1),
                    "date_to": date(2026, 10, 31),
                    "group_by": "employee_id",
                    "refreshed": True,
                }
            )
        )
        dashboard.action_compute()
        ben = dashboard.line_ids.filtered(lambda row: row.name == self.ben.name)
        self.assertAlmostEqual(ben.realization, 100 * 1800 / 2000, places=1)
        self.assertAlmostEqual(ben.utilization, 100 * 14 / capacity, places=1)
        self.assertAlmostEqual(
            ben.effective_rate, 180.0, places=2, msg="1800 billed for 10 billed hours"
        )
        by_customer = self.env["ps.kpi.dashboard"].create(
            {
                "date_from": date(2026, 10, 1),
                "date_to": max(invoice_month, date(2026, 10, 31)),
                "group_by": "partner_id",
                "refreshed": True,
            }
        )
        by_customer.action_compute()
        initech = by_customer.line_ids.filtered(lambda row: row.name == self.customer.name)
        self.assertAlmostEqual(initech.margin, 2400.0 - total["cost"], places=2)

    def test_refresh_is_repeatable(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 2, date(2026, 10, 5), order.order_line)
        first = self.env["ps.kpi.fact"]._refresh(date(2026, 10, 1), date(2026, 10, 31))
        second = self.env["ps.kpi.fact"]._refresh(date(2026, 10, 1), date(2026, 10, 31))
        self.assertEqual(first, second, "a refresh replaces the months it covers")

    def test_project_users_cannot_read_kpis(self):
        project_user = self.env["res.users"].create(
            {
                "name": "Pat",
                "login": "pat_kpi",
                "groups_id": [(6, 0, [self.env.ref("project.group_project_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["ps.kpi.fact"].with_user(project_user).search([])
