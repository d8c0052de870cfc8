from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AccountingCase, BillingCase


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
        Fact = self.env["ps.kpi.fact"]
        domain = [("order_id", "=", order.id)]
        first = Fact._refresh(date(2026, 10, 1), date(2026, 10, 31))
        ours = Fact.search(domain)
        self.assertEqual(
            (sum(ours.mapped("billable_hours")), sum(ours.mapped("standard_value"))),
            (2.0, 400.0),
            "the refresh wrote the contract's facts",
        )
        self.log(self.ben, 3, date(2026, 10, 6), order.order_line)
        second = Fact._refresh(date(2026, 10, 1), date(2026, 10, 31))
        ours = Fact.search(domain)
        self.assertEqual(
            (sum(ours.mapped("billable_hours")), sum(ours.mapped("standard_value"))),
            (5.0, 1000.0),
            "a refresh replaces the months it covers (new time counted once, nothing doubled)",
        )
        self.assertEqual(second, first + 1, "one more fact row: the new day's time")
        third = Fact._refresh(date(2026, 10, 1), date(2026, 10, 31))
        self.assertEqual(third, second, "refreshing again changes nothing")
        self.assertEqual(sum(Fact.search(domain).mapped("billable_hours")), 5.0)

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


@tagged("post_install", "-at_install")
class TestKpisBetweenCloses(AccountingCase):
    """Issue 8, case 12: KPIs that mean what they say right after a billing run."""

    def dashboard(self, date_from, date_to, group_by, **values):
        dashboard = (
            self.env["ps.kpi.dashboard"]
            .with_user(self.billing_user)
            .create({"date_from": date_from, "date_to": date_to, "group_by": group_by, **values})
        )
        dashboard.action_compute()
        return dashboard

    def row(self, dashboard, name):
        rows = dashboard.line_ids.filtered(lambda line: line.name == name)
        self.assertEqual(len(rows), 1, f"one row for {name}")
        return rows

    def test_margin_right_after_a_billing_run_before_any_close(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 10, date(2026, 10, 5), order.order_line)  # 2,000, cost 600
        self.bill(order, date(2026, 10, 31))  # a draft invoice; no period closed
        by_customer = self.dashboard(date(2026, 10, 1), date(2026, 10, 31), "partner_id")
        initech = self.row(by_customer, self.customer.name)
        self.assertEqual(initech.margin, 1400.0, "2,000 billed - 600 cost: not -600")
        self.assertEqual(initech.revenue, 2000.0, "drafts count as revenue between closes")
        self.assertEqual(initech.delivered_value, 2000.0, "the billed value of the work")

    def test_fixed_fee_margin_counts_what_was_earned_before_the_close(self):
        order = self.fixed_fee(
            9200.0,
            [("Upfront", date(2026, 10, 1), 100)],
            start=date(2026, 10, 1),
            end=date(2026, 12, 31),
        )
        self.bill(order, date(2026, 10, 31)).invoice_ids.action_post()
        self.log(self.ben, 10, date(2026, 10, 5), order.order_line)  # cost 600
        by_customer = self.dashboard(date(2026, 10, 1), date(2026, 10, 31), "partner_id")
        initech = self.row(by_customer, self.customer.name)
        self.assertEqual(initech.earned_value, 3100.0, "31 of 92 days of 9,200, not yet closed")
        self.assertEqual(initech.margin, 2500.0)
        october, _messages = self.close(order, date(2026, 10, 31))
        self.assertEqual(october.amount, initech.earned_value, "the close posts what was shown")

    def test_realization_is_billed_over_the_standard_shown(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 10, date(2026, 10, 5), order.order_line)  # 2,000
        prebill = self.env["ps.prebill"]._for_contract(order, date(2026, 10, 31))
        prebill.line_ids.write({"adjusted_amount": 1500.0, "reason": "overrun"})
        prebill.action_generate_invoice()
        self.log(self.ben, 10, date(2026, 10, 20), order.order_line)  # unbilled: 2,000
        by_employee = self.dashboard(date(2026, 10, 1), date(2026, 10, 31), "employee_id")
        ben = self.row(by_employee, self.ben.name)
        self.assertEqual((ben.billed_standard, ben.billed_value), (2000.0, 1500.0))
        self.assertEqual(ben.realization, 75.0, "billed / standard of the billed time shown")
        self.assertEqual(ben.wip_value, 2000.0, "the unbilled time is WIP, not in realization")

    def test_ranges_are_exact_and_people_without_time_are_hidden(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 8, date(2026, 11, 3), order.order_line)
        self.log(self.ben, 8, date(2026, 11, 20), order.order_line)
        half = self.dashboard(date(2026, 11, 1), date(2026, 11, 15), "employee_id")
        whole = self.dashboard(date(2026, 11, 1), date(2026, 11, 30), "employee_id")
        ben_half, ben_whole = self.row(half, self.ben.name), self.row(whole, self.ben.name)
        self.assertEqual(ben_half.capacity_hours, 80.0, "2-6 and 9-13 November: 10 days of 8 h")
        self.assertEqual(ben_whole.capacity_hours, 168.0, "21 working days in November 2026")
        self.assertEqual((ben_half.billable_hours, ben_whole.billable_hours), (8.0, 16.0))
        self.assertEqual(ben_half.utilization, 10.0)
        self.assertNotIn(self.cleo.name, half.line_ids.mapped("name"), "no time: hidden")
        shown = self.dashboard(
            date(2026, 11, 1), date(2026, 11, 15), "employee_id", show_empty=True
        )
        self.assertEqual(self.row(shown, self.cleo.name).capacity_hours, 80.0)

    def test_the_dashboard_opens_computed_with_a_name(self):
        action = self.env["ps.kpi.dashboard"].with_user(self.billing_user).action_open()
        dashboard = self.env["ps.kpi.dashboard"].browse(action["res_id"])
        self.assertTrue(dashboard.refreshed, "computed when it opens (no empty New record)")
        self.assertTrue(action["name"].startswith("KPIs "), "the breadcrumb reads its name")
        self.assertNotIn("ps.kpi.dashboard", dashboard.display_name)
        menu = self.env.ref("ps_billing_rules.menu_ps_kpi_dashboard")
        self.assertEqual(menu.action, self.env.ref("ps_billing_rules.action_ps_kpi_dashboard_open"))
