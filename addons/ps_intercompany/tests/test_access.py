from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import D, IntercompanyCase


@tagged("post_install", "-at_install")
class TestAccess(IntercompanyCase):
    """A user of one company never sees the other company's employee costs through a recharge:
    the transfer price is visible, the cost is not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,ps_intercompany.group_ic_user,account.group_account_user,hr_timesheet.group_hr_timesheet_approver"
        cls.us_user = new_test_user(
            cls.env,
            login="ic_us",
            groups=groups,
            company_id=cls.us.id,
            company_ids=[Command.set(cls.us.ids)],
        )
        cls.eu_user = new_test_user(
            cls.env,
            login="ic_eu",
            groups=groups,
            company_id=cls.eu.id,
            company_ids=[Command.set(cls.eu.ids)],
        )
        cls.log_line = cls.env["account.analytic.line"].create(
            {
                "name": "EU work",
                "employee_id": cls.eva.id,
                "project_id": cls.us_project.id,
                "unit_amount": 7.5,
                "date": D(2026, 3, 10),
                "ps_approval_state": "approved",
            }
        )
        cls.recharge = cls.env["ps.ic.recharge.run"].create(
            {
                "name": "Access",
                "date_from": D(2026, 3, 1),
                "date_to": D(2026, 3, 31),
                "invoice_date": D(2026, 3, 31),
            }
        )
        cls.recharge.action_run_now()
        cls.recharge = cls.recharge.recharge_ids.filtered(lambda r: r.agreement_id == cls.eu_us)

    def test_the_receiver_sees_the_transfer_price_not_the_cost(self):
        recharge = self.recharge.with_user(self.us_user).with_context(
            allowed_company_ids=self.us_user.company_ids.ids
        )
        line = recharge.line_ids
        self.assertEqual(
            (line.price_unit, line.amount), (95.04, 712.80), "the transfer price is visible"
        )
        self.assertFalse(line.cost_visible)
        self.assertEqual(line.cost_amount, 0.0, "the provider's cost is not")
        self.assertEqual(recharge.cost_amount, 0.0)
        Entry = (
            self.env["ps.ic.recharge.entry"]
            .with_user(self.us_user)
            .with_context(allowed_company_ids=self.us_user.company_ids.ids)
        )
        self.assertFalse(Entry.search([]), "the recharge ledger (cost base) is the provider's")
        entry = self.recharge.sudo().entry_ids
        with self.assertRaises(AccessError):
            entry.with_user(self.us_user).with_context(
                allowed_company_ids=self.us_user.company_ids.ids
            ).read(["cost_amount"])
        with self.assertRaises(AccessError):
            self.env["ps.cost.rate"].search([("employee_id", "=", self.eva.id)]).with_user(
                self.us_user
            ).with_context(allowed_company_ids=self.us_user.company_ids.ids).read(["cost"])
        action = line.action_view_items()
        self.assertEqual(
            action["res_model"],
            "account.analytic.line",
            "the receiver drills into its own timesheets",
        )
        self.assertEqual(
            self.env["account.analytic.line"]
            .with_user(self.us_user)
            .with_context(allowed_company_ids=self.us_user.company_ids.ids)
            .search(action["domain"]),
            self.log_line,
        )

    def test_the_provider_sees_its_cost_base(self):
        recharge = self.recharge.with_user(self.eu_user).with_context(
            allowed_company_ids=self.eu_user.company_ids.ids
        )
        self.assertTrue(recharge.line_ids.cost_visible)
        self.assertEqual(recharge.line_ids.cost_amount, 600.0, "7.5 h x 80 EUR")
        self.assertEqual(recharge.cost_amount, 600.0)
        entries = (
            self.env["ps.ic.recharge.entry"]
            .with_user(self.eu_user)
            .with_context(allowed_company_ids=self.eu_user.company_ids.ids)
            .search([])
        )
        self.assertEqual(entries.mapped("cost_amount"), [600.0])
        self.assertEqual(recharge.line_ids.action_view_items()["res_model"], "ps.ic.recharge.entry")

    def test_companies_see_their_own_pairs_only(self):
        uk_user = new_test_user(
            self.env,
            login="ic_uk",
            groups="base.group_user,ps_intercompany.group_ic_user",
            company_id=self.uk.id,
            company_ids=[Command.set(self.uk.ids)],
        )
        self.assertFalse(
            self.env["ps.ic.recharge"]
            .with_user(uk_user)
            .with_context(allowed_company_ids=uk_user.company_ids.ids)
            .search([("id", "=", self.recharge.id)])
        )
        agreements = (
            self.env["ps.ic.agreement"]
            .with_user(uk_user)
            .with_context(allowed_company_ids=uk_user.company_ids.ids)
            .search([])
        )
        self.assertEqual(agreements, self.uk_us, "only the agreements the UK is party to")
        with self.assertRaises(
            AccessError, msg="agreements are maintained by Intercompany Managers"
        ):
            self.eu_us.with_user(self.eu_user).with_context(
                allowed_company_ids=self.eu_user.company_ids.ids
            ).write({"markup_percent": 50.0})

    def test_buttons_check_rights_on_the_server(self):
        """Buttons called by RPC by a user without the rights are refused, not run as sudo."""
        employee = new_test_user(
            self.env,
            login="ic_plain_employee",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.us.id,
            company_ids=[Command.set(self.companies.ids)],
        )
        context = {"allowed_company_ids": self.companies.ids}
        wizards = [
            self.env["ps.ic.recharge.wizard"].create({"date_from": D(2026, 3, 1)}),
            self.env["ps.ic.reconcile.wizard"].create({}),
            self.env["ps.ic.netting.wizard"].create(
                {"company_a_id": self.eu.id, "company_b_id": self.us.id}
            ),
        ]
        for wizard, method in zip(
            wizards, ("action_start", "action_reconcile", "action_propose"), strict=True
        ):
            with self.assertRaises(AccessError, msg=f"{wizard._name}.{method} for an employee"):
                getattr(wizard.with_user(employee).with_context(**context), method)()
        run = self.env["ps.ic.recharge.run"].search([], limit=1)
        with self.assertRaises(AccessError, msg="an employee cannot post a run's invoices"):
            run.with_user(employee).with_context(**context).action_post_invoices()
        with self.assertRaises(AccessError, msg="nor recharge work again"):
            self.recharge.with_user(employee).with_context(**context).action_recharge_again()

    def test_netting_needs_both_companies(self):
        with self.assertRaisesRegex(AccessError, "you do not work in IC Test US"):
            self.env["ps.ic.netting"].with_user(self.eu_user).with_context(
                allowed_company_ids=self.eu_user.company_ids.ids
            )._propose(self.eu, self.us, self.usd, D(2026, 3, 31))

    def test_the_receiver_cannot_open_the_provider_invoice_nor_recharge_again(self):
        recharge = self.recharge.with_user(self.us_user).with_context(
            allowed_company_ids=self.us_user.company_ids.ids
        )
        with self.assertRaisesRegex(AccessError, "a company you do not work in"):
            recharge.action_view_invoice()
        with self.assertRaisesRegex(AccessError, "the provider, decides"):
            recharge.action_recharge_again()
