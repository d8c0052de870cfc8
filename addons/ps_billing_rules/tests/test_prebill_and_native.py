from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import BillingCase, TimeAndMaterialsCase

OCT_END = date(2026, 10, 31)


@tagged("post_install", "-at_install")
class TestPrebillReview(TimeAndMaterialsCase):
    def setUp(self):
        super().setUp()
        self.a = self.log(self.ben, 5, date(2026, 10, 5), self.line)  # 1000
        self.b = self.log(self.cleo, 5, date(2026, 10, 6), self.line)  # 600
        self.c = self.log(self.ada, 1, date(2026, 10, 7), self.line)  # 300
        self.prebill = (
            self.env["ps.prebill"].with_user(self.billing_user)._for_contract(self.order, OCT_END)
        )

    def item(self, timesheet):
        return self.prebill.line_ids.filtered(
            lambda line: line.res_id == timesheet.id and line.kind == "timesheet"
        )

    def test_worksheet_lists_every_item_with_its_standard_value(self):
        self.assertEqual(len(self.prebill.line_ids), 3)
        self.assertEqual(
            (self.item(self.a).quantity, self.item(self.a).rate, self.item(self.a).standard),
            (5.0, 200.0, 1000.0),
        )
        self.assertEqual(self.prebill.standard_total, 1900.0)
        self.assertEqual(self.prebill.realization, 100.0)

    def test_write_down_needs_a_reason_and_lowers_realization(self):
        with self.assertRaises(ValidationError):
            self.item(self.a).write({"adjusted_amount": 800.0})
        self.item(self.a).write({"adjusted_amount": 800.0, "reason": "learning curve"})
        self.assertEqual(self.prebill.billed_total, 1700.0)
        self.assertAlmostEqual(self.prebill.realization, 100 * 1700 / 1900, places=4)
        self.prebill.action_generate_invoice()
        invoice = self.prebill.invoice_id
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.amount_untaxed, 1700.0, "the invoice carries the adjusted amount")
        self.assertEqual(
            (self.a.ps_standard_amount, self.a.ps_billed_amount),
            (1000.0, 800.0),
            "the difference is kept for realization reporting",
        )
        self.assertEqual(self.a.ps_adjustment_reason, "learning curve")
        self.assertEqual(self.prebill.state, "invoiced")
        self.assertAlmostEqual(self.prebill.realization, 100 * 1700 / 1900, places=4)

    def test_defer_non_billable_and_transfer(self):
        other = self.make_contract([(self.product_tm, 10, 150.0, "tm", {})])
        self.item(self.a).write({"action": "defer", "defer_to": date(2026, 11, 30)})
        self.item(self.b).write({"action": "non_billable", "reason": "internal training"})
        self.item(self.c).write(
            {"action": "transfer", "transfer_sale_line_id": other.order_line.id}
        )
        action = self.prebill.action_generate_invoice()  # nothing left to bill on this contract
        self.assertEqual(
            action["params"]["type"], "warning", "said, not raised: decisions are kept"
        )
        self.assertIn("Decisions saved", action["params"]["message"])
        self.assertEqual(self.a.ps_defer_until, date(2026, 11, 30))
        self.assertEqual(
            (self.b.ps_billing_state, self.b.ps_nonbillable_reason),
            ("non_billable", "internal training"),
        )
        self.assertEqual(self.c.so_line, other.order_line, "transferred to the other contract")
        self.assertIn("transferred", other.message_ids[0].body)
        self.assertEqual(self.bill(other, OCT_END).invoice_ids.amount_untaxed, 300.0)
        self.assertFalse(self.bill(self.order, OCT_END).invoice_ids, "deferred to November")
        self.assertEqual(
            self.bill(self.order, date(2026, 11, 30)).invoice_ids.amount_untaxed, 1000.0
        )

    def test_project_users_cannot_see_the_worksheet(self):
        project_user = self.env["res.users"].create(
            {
                "name": "Pat",
                "login": "pat_project",
                "groups_id": [Command.set([self.env.ref("project.group_project_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["ps.prebill"].with_user(project_user).search([])


@tagged("post_install", "-at_install")
class TestNativeCreateInvoice(BillingCase):
    def test_create_invoice_button_goes_through_the_rules(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        line = order.order_line
        self.log(self.ben, 5, date(2026, 10, 5), line)
        self.log(self.cleo, 2, date(2026, 10, 6), line, approved=False)
        held = self.log(self.ada, 1, date(2026, 10, 7), line)
        self.env["ps.billing.hold"].create(
            {"scope": "line", "timesheet_id": held.id, "reason": "client query"}
        )
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        wizard.create_invoices()
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_untaxed, 1000.0, "not the unapproved 2 h, not the held 1 h")
        self.assertEqual(held.ps_billing_state, "unbilled")

    def test_nothing_to_bill_says_why(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 5, date(2026, 10, 5), order.order_line, approved=False)
        with self.assertRaises(UserError) as caught:
            order._create_invoices()
        self.assertIn("not approved", str(caught.exception))

    def test_ungoverned_orders_keep_odoos_invoicing(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_tm.id, "product_uom_qty": 10, "price_unit": 100}
                    )
                ],
            }
        )
        order.action_confirm()
        self.assertFalse(order.ps_governed)
        self.log(self.ben, 3, date(2026, 10, 5), order.order_line)
        invoice = order._create_invoices()
        self.assertEqual(invoice.amount_untaxed, 300.0, "Odoo's price, Odoo's invoicing")

    def test_one_invoice_per_customer_groups_contracts(self):
        first = self.make_contract(
            [(self.product_tm, 10, 150.0, "tm", {})],
            ps_invoice_grouping="customer",
            client_order_ref="PO-1",
        )
        second = self.make_contract(
            [(self.product_tm, 10, 150.0, "tm", {})],
            ps_invoice_grouping="customer",
            client_order_ref="PO-2",
        )
        self.log(self.ben, 1, date(2026, 10, 5), first.order_line)
        self.log(self.ben, 2, date(2026, 10, 5), second.order_line)
        invoice = self.bill(first | second, OCT_END).invoice_ids
        self.assertEqual(len(invoice), 1, "one invoice for the customer's two contracts")
        self.assertEqual(invoice.amount_untaxed, 600.0)
        self.assertEqual(invoice.ref, "PO-1, PO-2")
        self.assertEqual(
            (first.order_line.qty_invoiced, second.order_line.qty_invoiced), (1.0, 2.0)
        )


@tagged("post_install", "-at_install")
class TestMultiCurrency(BillingCase):
    def test_card_in_company_currency_converted_on_the_invoice_date(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create(
            [
                {
                    "currency_id": eur.id,
                    "name": date(2026, 10, 1),
                    "rate": 0.8,
                    "company_id": self.company.id,
                },
                {
                    "currency_id": eur.id,
                    "name": date(2026, 11, 2),
                    "rate": 0.9,
                    "company_id": self.company.id,
                },
            ]
        )
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        order = self.make_contract(
            [(self.product_tm, 100, 150.0, "tm", {})], pricelist_id=pricelist.id
        )
        self.assertEqual(order.currency_id, eur)
        self.log(self.ben, 5, date(2026, 10, 5), order.order_line)  # 200 USD/h
        invoice = self.bill(order, OCT_END, invoice_date=date(2026, 11, 2)).invoice_ids
        self.assertEqual(invoice.currency_id, eur)
        self.assertEqual(
            invoice.invoice_line_ids.price_unit, 180.0, "200 USD at 0.9 on the invoice date"
        )
        self.assertEqual(invoice.amount_untaxed, 900.0)


@tagged("post_install", "-at_install")
class TestExpenses(BillingCase):
    def test_reinvoiced_expense_billed_with_markup(self):
        order = self.make_contract(
            [(self.product_tm, 100, 150.0, "tm", {})], ps_expense_markup=10.0
        )
        travel = self.env["product.product"].create(
            {
                "name": "Travel",
                "type": "service",
                "can_be_expensed": True,
                "expense_policy": "cost",
                "standard_price": 0.0,
                "list_price": 0.0,
                "taxes_id": [Command.set(self.tax.ids)],
            }
        )
        employee = self.env["hr.employee"].create(
            {
                "name": "Traveller",
                "work_contact_id": self.env["res.partner"].create({"name": "Traveller"}).id,
            }
        )
        expense = self.env["hr.expense"].create(
            {
                "name": "Train to client",
                "employee_id": employee.id,
                "product_id": travel.id,
                "total_amount_currency": 200.0,
                "sale_order_id": order.id,
                "date": date(2026, 10, 3),
                "payment_mode": "own_account",
                "tax_ids": [Command.clear()],
            }
        )
        expense.action_submit_expenses()
        sheet = expense.sheet_id
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()
        sheet.action_sheet_move_post()
        expense_line = order.order_line.filtered("is_expense")
        self.assertTrue(expense_line, "Odoo added the expense to the contract on posting")
        invoice = self.bill(order, OCT_END).invoice_ids
        self.assertEqual(invoice.invoice_line_ids.price_unit, 220.0, "cost plus 10 % markup")
        self.assertEqual(expense.ps_billing_state, "billed")
        self.assertFalse(self.bill(order, OCT_END).invoice_ids, "billed once")


@tagged("post_install", "-at_install")
class TestAccessRights(BillingCase):
    def test_billing_user_cannot_change_rate_cards_or_cost_rates(self):
        with self.assertRaises(AccessError):
            self.company_card.with_user(self.billing_user).write({"name": "Cheaper"})
        with self.assertRaises(AccessError):
            self.env["ps.cost.rate"].with_user(self.billing_user).create(
                {"employee_id": self.ben.id, "date_from": date(2026, 1, 1), "cost": 1.0}
            )
        self.company_card.with_user(self.billing_manager).write({"name": "Standard 2026 (rev.)"})

    def test_project_users_never_see_cost_rates(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        ts = self.log(self.ben, 2, date(2026, 10, 1), order.order_line)
        project_user = self.env["res.users"].create(
            {
                "name": "Pat",
                "login": "pat_costs",
                "groups_id": [
                    Command.set([self.env.ref("hr_timesheet.group_hr_timesheet_approver").id])
                ],
            }
        )
        fields_seen = self.env["account.analytic.line"].with_user(project_user).fields_get()
        for field in ("ps_cost_rate", "ps_cost_amount", "ps_standard_amount", "ps_billed_amount"):
            self.assertNotIn(field, fields_seen, f"{field} is hidden from project users")
        with self.assertRaises(AccessError):
            ts.with_user(project_user).read(["ps_cost_amount"])
        with self.assertRaises(AccessError):
            self.env["ps.cost.rate"].with_user(project_user).search([])
        self.assertIn(
            "ps_cost_amount",
            self.env["account.analytic.line"].with_user(self.billing_user).fields_get(),
        )

    def test_only_billing_users_run_billing(self):
        salesman = self.env["res.users"].create(
            {
                "name": "Sam",
                "login": "sam_sales",
                "groups_id": [Command.set([self.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.env["ps.billing.run.wizard"].with_user(salesman).create({"period_end": OCT_END})
