"""Issue 8, cases 3 and 4: Odoo's own "Create Invoice" wizard on a governed contract, with its
timesheet period and its down payments, works as it does in Odoo."""

from datetime import date

from odoo.tests import tagged

from .common import TimeAndMaterialsCase


@tagged("post_install", "-at_install")
class TestCreateInvoicePeriod(TimeAndMaterialsCase):
    def test_the_wizard_period_is_honoured(self):
        early = self.log(self.ben, 5, date(2026, 10, 5), self.line)  # 1,000
        late = self.log(self.ben, 3, date(2026, 10, 20), self.line)  # 600
        november = self.log(self.ben, 2, date(2026, 11, 3), self.line)  # 400
        invoice = self.create_invoice_wizard(
            self.order,
            date_start_invoice_timesheet=date(2026, 10, 1),
            date_end_invoice_timesheet=date(2026, 10, 15),
        )
        self.assertEqual(invoice.amount_untaxed, 1000.0, "only the time of 1-15 October")
        self.assertEqual(
            (early.ps_billing_state, late.ps_billing_state, november.ps_billing_state),
            ("billed", "unbilled", "unbilled"),
        )
        second = self.create_invoice_wizard(
            self.order,
            date_start_invoice_timesheet=date(2026, 10, 16),
            date_end_invoice_timesheet=date(2026, 10, 31),
        )
        self.assertEqual(second.amount_untaxed, 600.0, "then 16-31 October")
        self.assertEqual(november.ps_billing_state, "unbilled", "November is not in any period")

    def test_a_period_start_alone_leaves_earlier_time_for_later(self):
        september = self.log(self.ben, 1, date(2026, 9, 20), self.line)
        self.log(self.ben, 2, date(2026, 10, 3), self.line)
        invoice = self.create_invoice_wizard(
            self.order, date_start_invoice_timesheet=date(2026, 10, 1)
        )
        self.assertEqual(invoice.amount_untaxed, 400.0)
        self.assertEqual(september.ps_billing_state, "unbilled")


@tagged("post_install", "-at_install")
class TestDownPayments(TimeAndMaterialsCase):
    def down_payment(self, amount_incl_tax):
        """A down payment made with Odoo's wizard, posted; returns its invoice."""
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=self.order.ids)
            .create({"advance_payment_method": "fixed", "fixed_amount": amount_incl_tax})
        )
        wizard.create_invoices()
        invoice = self.order.invoice_ids.filtered(
            lambda move: move.invoice_line_ids.filtered("is_downpayment")
        )
        invoice.action_post()
        return invoice

    def test_the_next_invoice_deducts_the_down_payment(self):
        down_payment = self.down_payment(1150.0)  # 1,000 + 15 % VAT
        self.assertEqual(down_payment.amount_untaxed, 1000.0)
        self.log(self.cleo, 12.5, date(2026, 10, 5), self.line)  # 1,500
        invoice = self.create_invoice_wizard(self.order)
        self.assertEqual(invoice.amount_untaxed, 500.0, "1,500 billed less the 1,000 down payment")
        deduction = invoice.invoice_line_ids.filtered("is_downpayment")
        self.assertEqual(deduction.price_subtotal, -1000.0)
        self.assertIn("Down Payments", invoice.invoice_line_ids.mapped("name"), "as Odoo shows it")
        dp_line = self.order.order_line.filtered(
            lambda sol: sol.is_downpayment and not sol.display_type
        )
        self.assertEqual(dp_line.qty_to_invoice, 0.0, "deducted once")
        self.log(self.cleo, 1, date(2026, 10, 6), self.line)
        later = self.create_invoice_wizard(self.order)
        self.assertEqual(later.amount_untaxed, 120.0, "nothing deducted twice")

    def test_unticking_deduct_down_payments_deducts_nothing(self):
        self.down_payment(1150.0)
        self.log(self.cleo, 12.5, date(2026, 10, 5), self.line)  # 1,500
        invoice = self.create_invoice_wizard(self.order, deduct_down_payments=False)
        self.assertEqual(invoice.amount_untaxed, 1500.0, "as in Odoo: the down payment waits")
        self.assertFalse(invoice.invoice_line_ids.filtered("is_downpayment"))

    def test_a_billing_run_deducts_what_the_invoice_can_absorb(self):
        self.down_payment(1150.0)
        self.log(self.cleo, 5, date(2026, 10, 5), self.line)  # 600
        first = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(first.amount_untaxed, 0.0, "600 billed, 600 of the down payment used")
        self.log(self.cleo, 5, date(2026, 11, 5), self.line)  # 600
        second = self.bill(self.order, date(2026, 11, 30)).invoice_ids
        self.assertEqual(second.amount_untaxed, 200.0, "the remaining 400 is deducted next")
        dp_line = self.order.order_line.filtered(
            lambda sol: sol.is_downpayment and not sol.display_type
        )
        self.assertAlmostEqual(dp_line.qty_to_invoice, 0.0, places=6)
