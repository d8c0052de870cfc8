"""Approved PSA expenses -> hr.expense for Harvest and Kantata: the mapped product, employee,
project analytic account, re-invoicing on the contract when billable, reports per employee and
month, posted or left to accounting per the backend, receipts attached; a billing run bills
the re-invoiced ones; a posted expense changed in the PSA becomes a correction."""

from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class ExpenseTests:
    def setUp(self):
        super().setUp()
        self.sync_people()
        Product = self.env["product.product"]
        self.travel = Product.create(
            {
                "name": "Travel (re-invoiced, test)",
                "type": "service",
                "can_be_expensed": True,
                "expense_policy": "cost",
                "invoice_policy": "delivery",
                "standard_price": 0.0,
            }
        )
        self.meals = Product.create(
            {
                "name": "Meals (test)",
                "type": "service",
                "can_be_expensed": True,
                "expense_policy": "no",
                "standard_price": 0.0,
            }
        )
        self.env["connector.psa.category.map"].create(
            [
                {
                    "backend_id": self.backend.id,
                    "psa_category_name": "Travel",
                    "product_id": self.travel.id,
                },
                {
                    "backend_id": self.backend.id,
                    "psa_category_name": "Meals",
                    "product_id": self.meals.id,
                },
            ]
        )

    def expense_of(self, remote_id):
        return self.env["hr.expense"].search(
            [("psa_backend_id", "=", self.backend.id), ("psa_remote_id", "=", str(remote_id))]
        )

    def test_expenses_grouped_posted_and_reinvoiced(self):
        self.backend.psa_expense_posting = "post"
        train = self.world.expense("ann", self.day(3), 142.50, "Travel", notes="Train to Initech")
        lunch = self.world.expense("ann", self.day(4), 38.40, "Meals", billable=False)
        self.pull("psa_expenses")
        expense = self.expense_of(train)
        self.assertEqual(expense.product_id, self.travel, "the category's product")
        self.assertEqual(expense.employee_id, self.employees["ann"])
        self.assertAlmostEqual(expense.total_amount_currency, 142.50)
        self.assertEqual(expense.date, self.day(3))
        self.assertEqual(expense.sale_order_id, self.order, "billable: re-invoiced on the contract")
        self.assertEqual(expense.analytic_distribution, {str(self.project.account_id.id): 100.0})
        self.assertEqual(expense.attachment_ids.mimetype, "application/pdf", "receipt attached")
        self.assertFalse(self.expense_of(lunch).sale_order_id, "not billable: not re-invoiced")
        sheet = expense.sheet_id
        self.assertEqual(sheet, self.expense_of(lunch).sheet_id, "one report per person and month")
        self.assertEqual(sheet.state, "post", "approved and posted (backend setting)")
        invoice = self.bill()
        self.assertIn(
            expense.untaxed_amount_currency,
            invoice.invoice_line_ids.mapped("price_subtotal"),
            "the re-invoiced expense is billed at cost (untaxed), the meal is not billed",
        )
        self.assertEqual(len(invoice.invoice_line_ids), 1)

    def test_reports_left_to_accounting_and_a_posted_change_is_a_correction(self):
        train = self.world.expense("bob", self.day(3), 100.0, "Travel")
        self.pull("psa_expenses")
        expense = self.expense_of(train)
        self.assertEqual(expense.sheet_id.state, "draft", "accounting posts it")
        self.world.fake_edit_expense(train, 120.0)
        self.pull("psa_expenses")
        self.assertAlmostEqual(expense.total_amount_currency, 120.0, msg="not posted: follows")
        expense.sheet_id.action_submit_sheet()
        expense.sheet_id.action_approve_expense_sheets()
        expense.sheet_id.action_sheet_move_post()
        self.world.fake_edit_expense(train, 90.0)
        self.pull("psa_expenses")
        self.assertAlmostEqual(expense.total_amount_currency, 120.0, msg="posted: not touched")
        item = self.env["connector.psa.correction"].search([("expense_id", "=", expense.id)])
        self.assertEqual((item.kind, item.amount_old, item.amount_new), ("changed", 120.0, 90.0))

    def test_unmapped_category_needs_attention(self):
        gift = self.world.expense("ann", self.day(5), 20.0, "Gifts")
        self.pull("psa_expenses")
        job = self.jobs("psa.expense.entry", "needs_attention")
        self.assertIn("[unknown_category]", job.last_error)
        self.assertIn("Gifts", job.last_error)
        self.env["connector.psa.category.map"].create(
            {
                "backend_id": self.backend.id,
                "psa_category_name": "Gifts",
                "product_id": self.meals.id,
            }
        )
        job.action_retry()
        self.drain()
        self.assertEqual(self.expense_of(gift).product_id, self.meals)


@tagged("post_install", "-at_install")
class TestHarvestExpenses(ExpenseTests, PsaCase):
    WORLD = HarvestWorld


@tagged("post_install", "-at_install")
class TestKantataExpenses(ExpenseTests, PsaCase):
    WORLD = KantataWorld
