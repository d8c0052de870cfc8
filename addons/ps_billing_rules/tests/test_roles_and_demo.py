"""Issue 12 (ps_billing_rules): who closes a period (a Billing Manager; anyone else is told who
can), and a demo a newcomer finds their way in."""

from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

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
