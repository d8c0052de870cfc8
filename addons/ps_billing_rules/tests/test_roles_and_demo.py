"""Issue 12 (ps_billing_rules): who closes a period (a Billing Manager; anyone else is told who
can), and a demo a newcomer finds their way in."""

from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import AccountingCase


@tagged("post_install", "-at_install")
class TestPeriodCloseOwner(AccountingCase):
    def test_a_billing_user_is_not_offered_the_close_and_is_told_who_can(self):
        Menu = self.env["ir.ui.menu"]
        close_menu = self.env.ref("ps_billing_rules.menu_ps_period_close")
        self.assertNotIn(close_menu.id, Menu.with_user(self.billing_user)._visible_menu_ids())
        self.assertIn(close_menu.id, Menu.with_user(self.billing_manager)._visible_menu_ids())
        action = self.env.ref("ps_billing_rules.action_ps_period_close_wizard")
        self.assertEqual(action.groups_id, self.env.ref("ps_billing_rules.group_billing_manager"))
        Wizard = self.env["ps.period.close.wizard"].with_user(self.billing_user)
        with self.assertRaises(AccessError) as caught:
            Wizard.default_get(["period_end"])
        message = str(caught.exception)
        self.assertIn("only a Billing Manager can do it", message)
        self.assertIn(self.billing_manager.name, message, "it names who can")
        with self.assertRaises(AccessError):
            Wizard.create({"period_end": date(2026, 10, 31)})

    def test_a_billing_manager_closes_the_period(self):
        wizard = (
            self.env["ps.period.close.wizard"]
            .with_user(self.billing_manager)
            .create({"period_end": date(2026, 10, 31)})
        )
        wizard.action_close()
        self.assertIn("recognition entr(ies) posted", wizard.result)


@tagged("post_install", "-at_install")
class TestDemo(AccountingCase):
    def test_demo_records_are_named_so_a_newcomer_finds_them(self):
        for xmlid in ("partner_demo_globex", "partner_demo_initrode", "partner_demo_umbrella"):
            partner = self.env.ref(f"ps_billing_rules.{xmlid}")
            self.assertTrue(partner.name.startswith("Demo: "), partner.name)
            contracts = self.env["sale.order"].search([("partner_id", "=", partner.id)])
            self.assertTrue(contracts, f"{partner.name} has its demo contract")
            for contract in contracts:
                self.assertTrue(contract.name.startswith("Demo: "), contract.name)
        found = self.env["sale.order"].search(
            [("name", "ilike", "Demo:"), ("ps_governed", "=", True)]
        )
        self.assertEqual(len(found), 3, "searching 'Demo:' finds the three demo contracts")

    def test_the_demo_has_a_billing_user_and_a_billing_manager(self):
        users = self.env["res.users"].search([("login", "in", ("billing", "billing.manager"))])
        by_login = {user.login: user for user in users}
        self.assertEqual(set(by_login), {"billing", "billing.manager"})
        self.assertTrue(by_login["billing"].has_group("ps_billing_rules.group_billing_user"))
        self.assertFalse(by_login["billing"].has_group("ps_billing_rules.group_billing_manager"))
        self.assertTrue(
            by_login["billing.manager"].has_group("ps_billing_rules.group_billing_manager")
        )

    def test_the_demo_retainer_states_what_was_sold(self):
        umbrella = self.env.ref("ps_billing_rules.partner_demo_umbrella")
        contract = self.env["sale.order"].search([("partner_id", "=", umbrella.id)])
        line = contract.order_line
        self.assertEqual((line.ps_period_count, line.ps_period_fee), (12, 3200.0))


@tagged("post_install", "-at_install")
class TestReadmeWalkthrough(TransactionCase):
    """The README's billing walkthrough (section `make demo`), step by step, as its users."""

    def test_billing_user_then_billing_manager(self):
        billing = self.env.ref("ps_billing_rules.user_demo_billing")
        manager = self.env.ref("ps_billing_rules.user_demo_billing_manager")
        Order = self.env["sale.order"].with_user(billing)
        demo = Order.search([("name", "ilike", "Demo"), ("ps_governed", "=", True)])
        by_customer = {order.partner_id.name: order for order in demo}
        globex = by_customer["Demo: Globex Corporation"]
        umbrella = by_customer["Demo: Umbrella Logistics"]
        initrode = by_customer["Demo: Initrode Manufacturing"]

        # 1. Pre-bill review of Globex: held CR-12 hours, a line not approved yet, a write-down.
        prebill = self.env["ps.prebill"].browse(globex.action_ps_open_prebill()["res_id"])
        prebill = prebill.with_user(billing)
        held = prebill.line_ids.filtered(lambda line: line.status == "held")
        self.assertIn("CR-12", held.status_detail)
        self.assertEqual(held.will_bill, 0.0, "held hours are not on this invoice")
        self.assertAlmostEqual(
            sum(prebill.line_ids.mapped("will_bill")),
            prebill.billed_total,
            places=2,
            msg="the Will bill column adds up to the review's To bill",
        )
        self.assertTrue(
            prebill.line_ids.filtered(
                lambda line: line.status == "info" and "not approved" in line.status_detail
            ),
            "the line waiting for approval is listed",
        )
        item = prebill.line_ids.filtered(lambda line: line.status == "billable")[:1]
        item.write({"adjusted_amount": item.standard - 100.0, "reason": "walkthrough"})
        expected = prebill.billed_total
        prebill.action_generate_invoice()
        self.assertEqual(prebill.invoice_id.amount_untaxed, expected, "exactly the amount typed")

        # 2. Run billing for last month, in the window.
        wizard = self.env["ps.billing.run.wizard"].with_user(billing).create({"run_now": True})
        run = self.env["ps.billing.run"].browse(wizard.action_start()["res_id"])
        self.assertEqual(run.state, "done")
        self.assertEqual(
            run.invoice_ids.line_ids.sale_line_ids.order_id, initrode, "one invoice: Initrode"
        )
        reasons = {
            (line.order_names, line.reason) for line in run.line_ids if line.line_type == "skip"
        }
        self.assertIn((globex.name, "held"), reasons)
        self.assertIn((umbrella.name, "in_review"), reasons, "the retainer's catch-up waits")

        # 3. Umbrella's pre-bill review: two fees and last month's overage.
        review = self.env["ps.prebill"].browse(umbrella.action_ps_open_prebill()["res_id"])
        kinds = sorted(
            review.line_ids.filtered(lambda line: line.status == "billable").mapped("kind")
        )
        self.assertEqual(kinds, ["retainer_fee", "retainer_fee", "retainer_overage"])
        review.with_user(billing).action_generate_invoice()
        self.assertEqual(review.invoice_id.amount_untaxed, 2 * 3200.0 + 6 * 170.0)

        # 5. Work in progress keeps the held hours; the dashboard opens computed.
        wip = self.env["ps.wip.report"].with_user(billing).search([("order_id", "=", globex.id)])
        self.assertEqual(sum(wip.mapped("hours")), 4.0, "the held CR-12 hours")
        self.env["ps.kpi.dashboard"].with_user(billing).action_open()

        # Billing manager: approve the waiting line, close last month.
        waiting = self.env["account.analytic.line"].search(
            [("so_line.order_id", "=", globex.id), ("ps_approval_state", "=", "submitted")]
        )
        waiting.with_user(manager).action_ps_approve()
        self.assertEqual(waiting.ps_approval_state, "approved")
        close = self.env["ps.period.close.wizard"].with_user(manager).create({})
        close.action_close()
        self.assertIn("recognition entr(ies) posted", close.result)
        recognised = self.env["ps.recognition.line"].search(
            [("order_id", "in", (initrode | umbrella).ids)]
        )
        self.assertEqual(recognised.order_id, initrode | umbrella, "both deferred contracts")
