from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import MARCH, D, IntercompanyCase


@tagged("post_install", "-at_install")
class TestKpisElimination(IntercompanyCase):
    """ps_billing_rules' KPIs stay right across companies (utilization by the employee's
    company, cross-company cost in the project company's currency, margins before and after
    recharges), and the elimination report in the group currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        product = cls.env["product.product"].create(
            {
                "name": "T&M consulting (KPI test)",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "timesheet",
                "service_tracking": "project_only",
                "uom_id": cls.hour.id,
                "uom_po_id": cls.hour.id,
                "taxes_id": [Command.clear()],
            }
        )
        customer = cls.env["res.partner"].create({"name": "KPI client", "is_company": True})
        cls.order = (
            cls.env["sale.order"]
            .with_company(cls.us)
            .create(
                {
                    "partner_id": customer.id,
                    "company_id": cls.us.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": 100,
                                "price_unit": 200.0,
                                "ps_billing_model": "tm",
                            }
                        )
                    ],
                }
            )
        )
        cls.order.action_confirm()
        cls.project = cls.order.order_line.project_id

    def facts(self):
        Fact = self.env["ps.kpi.fact"]
        Fact._refresh(*MARCH, companies=self.eu | self.us)
        return Fact.search(
            [("company_id", "in", (self.eu | self.us).ids), ("period", "=", MARCH[0])]
        )

    def by_company(self, facts, field):
        return {
            company.name: round(
                sum(facts.filtered(lambda f, c=company: f.company_id == c).mapped(field)), 2
            )
            for company in (self.eu, self.us)
        }

    def test_utilization_and_margins_before_and_after_recharges(self):
        line = self.order.order_line
        self.log(self.eva, self.project, 10.0, D(2026, 3, 10), so_line=line.id)  # EU: 80 EUR/h
        self.log(self.sam, self.project, 5.0, D(2026, 3, 11), so_line=line.id)  # US: 100 USD/h
        facts = self.facts()
        eva_time = facts.filtered(lambda f: f.employee_id == self.eva and f.billable_hours)
        self.assertEqual(eva_time.company_id, self.us, "the time is on the US project")
        self.assertEqual(eva_time.employee_company_id, self.eu, "and counts for her own company")
        # 800 EUR of cost in USD at the US rate (0.9 EUR per USD): 888.89, not "800" USD
        self.assertAlmostEqual(eva_time.cost, 888.89, places=2)
        dashboard = self.env["ps.kpi.dashboard"].create(
            {
                "date_from": MARCH[0],
                "date_to": MARCH[1],
                "group_by": "employee_company_id",
                "refreshed": True,
            }
        )
        dashboard.action_compute()
        eu_line = dashboard.line_ids.filtered(lambda line: line.name == self.eu.name)
        self.assertEqual(
            eu_line.billable_hours, 10.0, "the EU consultant's utilization counts the US project"
        )
        self.assertGreater(eu_line.utilization, 0.0)
        self.assertEqual(
            self.by_company(facts, "margin"),
            {"IC Test EU": 0.0, "IC Test US": -1388.89},
            "before recharges",
        )
        self.assertEqual(
            self.by_company(facts, "margin_after_recharges"),
            {"IC Test EU": 0.0, "IC Test US": -1388.89},
        )

        run = self.run_recharge()
        run.action_post_invoices()
        facts = self.facts()
        self.assertEqual(
            self.by_company(facts, "recharge_revenue"), {"IC Test EU": 880.0, "IC Test US": 0.0}
        )
        self.assertEqual(
            self.by_company(facts, "recharge_cost"), {"IC Test EU": 0.0, "IC Test US": 950.4}
        )
        self.assertEqual(
            self.by_company(facts, "margin_after_recharges"),
            # EU: 880.00 EUR recharged - 800.00 EUR of Eva's cost; US: -500 (Sam) - 950.40 (recharge)
            {"IC Test EU": 80.0, "IC Test US": -1450.4},
        )
        self.assertEqual(
            self.by_company(facts, "margin"), {"IC Test EU": 0.0, "IC Test US": -1388.89}
        )
        dashboard = self.env["ps.kpi.dashboard"].create(
            {
                "date_from": MARCH[0],
                "date_to": MARCH[1],
                "group_by": "company_id",
                "refreshed": True,
            }
        )
        dashboard.action_compute()
        us_line = dashboard.line_ids.filtered(lambda line: line.name == self.us.name)
        self.assertAlmostEqual(us_line.margin_after_recharges, -1450.4, places=2)
        by_month = self.env["ps.kpi.dashboard"].create(
            {"date_from": MARCH[0], "date_to": MARCH[1], "group_by": "period", "refreshed": True}
        )
        by_month.action_compute()
        march = by_month.line_ids.filtered(lambda line: line.name == "2026-03")
        self.assertAlmostEqual(
            march.recharge_cost, 950.4, places=2, msg="the month's row carries the recharges too"
        )
        us_billing = new_test_user(
            self.env,
            login="kpi_us_billing",
            groups="base.group_user,ps_billing_rules.group_billing_user",
            company_id=self.us.id,
            company_ids=[Command.set(self.us.ids)],
        )
        by_person = (
            self.env["ps.kpi.dashboard"]
            .with_user(us_billing)
            .with_context(allowed_company_ids=self.us.ids)
            .create(
                {
                    "date_from": MARCH[0],
                    "date_to": MARCH[1],
                    "group_by": "employee_id",
                    "refreshed": True,
                }
            )
        )
        by_person.action_compute()
        self.assertIn(
            self.eva.name,
            by_person.line_ids.mapped("name"),
            "a US user's dashboard names the EU consultant who worked on the US project",
        )

    def test_elimination_report_in_the_group_currency(self):
        self.log(self.eva, self.us_project, 10.0, D(2026, 3, 10))
        self.run_recharge().action_post_invoices()
        rows = self.env["ps.ic.elimination.report"].search(
            [("company_id", "in", (self.eu | self.us).ids), ("period", "=", MARCH[0])]
        )
        totals = {}
        for row in rows:
            key = (row.company_id.name, row.kind)
            totals[key] = round(totals.get(key, 0.0) + row.amount_group, 2)
        self.assertEqual(
            totals,
            {
                # EU books 880.00 EUR; the group (US) rates make it 977.78 USD
                ("IC Test EU", "revenue"): -977.78,
                ("IC Test EU", "receivable"): 977.78,
                ("IC Test US", "cost"): 950.4,
                ("IC Test US", "payable"): -950.4,
            },
        )
        self.assertEqual(set(rows.mapped("pair")), {"IC Test EU ↔ IC Test US"})
        self.assertEqual(rows.group_currency_id, self.usd)
        groups = self.env["ps.ic.elimination.report"]._read_group(
            [("pair", "=", "IC Test EU ↔ IC Test US")], ["kind"], ["amount_group:sum"]
        )
        self.assertEqual(
            len(groups), 4, "pivot/graph: revenue, cost, receivable, payable to eliminate"
        )
