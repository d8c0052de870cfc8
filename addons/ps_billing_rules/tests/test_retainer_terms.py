"""Issue 8, case 11: a periodic fee states what was sold (fee per period, number of periods) and
billing never bills more than that without a visible amendment; a first run for a retainer that
started in the past shows the catch-up in the pre-bill review first."""

from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import BillingCase

SEP_END = date(2026, 9, 30)


@tagged("post_install", "-at_install")
class TestRetainerTerms(BillingCase):
    def test_one_times_a_fee_is_one_period_never_twelve(self):
        order = self.retainer(quantity=1, price=2000.0, ps_retainer_start=date(2025, 10, 1))
        line = order.order_line
        self.log(self.ben, 3, date(2026, 9, 10), line)
        run = self.bill(order, SEP_END)
        self.assertEqual(
            run.invoice_ids.amount_untaxed, 2000.0, "one fee of 2,000 (not 12 fees: 24,000)"
        )
        self.assertEqual(
            (line.ps_period_count, line.ps_period_fee, line.price_subtotal),
            (1, 2000.0, 2000.0),
            "1 x 2,000 sold one fee of 2,000",
        )
        self.assertEqual(line.ps_retainer_end, date(2025, 10, 31), "one monthly period")
        self.assertEqual(line.qty_invoiced, line.product_uom_qty, "never more than ordered")
        beyond = self.skipped(run, "beyond_sold")
        self.assertIn("after the retainer's last sold period", beyond.detail)
        self.assertIn("amend the number of periods", beyond.detail)
        self.assertFalse(self.bill(order, date(2026, 12, 31)).invoice_ids, "nothing more, ever")

    def test_the_terms_are_explicit_on_the_contract_line(self):
        order = self.retainer(quantity=1, price=10000.0, ps_period_count=3)
        line = order.order_line
        self.assertEqual(
            (line.ps_period_fee, line.ps_period_last_fee, line.price_subtotal),
            (3333.33, 3333.34, 10000.0),
            "the line's total is what was sold; the last fee takes the remainder",
        )
        arch = self.env["sale.order.line"].get_view(
            self.env.ref("ps_billing_rules.sale_order_line_billing_form").id
        )["arch"]
        for field in ("ps_period_count", "ps_period_fee", "ps_retainer_end"):
            self.assertIn(f'name="{field}"', arch, f"{field} is on the line's billing terms")
        self.bill(order, date(2026, 8, 31)).invoice_ids.action_post()
        self.bill(order, SEP_END)
        third = self.bill(order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(third.amount_untaxed, 3333.34)
        self.assertEqual(
            sum(order.invoice_ids.mapped("amount_untaxed")), 10000.0, "exactly what was sold"
        )
        self.assertAlmostEqual(line.qty_invoiced, 1.0, places=6)
        self.assertFalse(self.bill(order, date(2026, 11, 30)).invoice_ids)

    def test_extending_the_retainer_is_a_visible_amendment(self):
        order = self.retainer(quantity=2, price=1500.0)
        line = order.order_line
        self.bill(order, date(2026, 8, 31))
        self.bill(order, SEP_END)
        self.assertFalse(self.bill(order, date(2026, 10, 31)).invoice_ids, "two periods sold")
        line.write({"product_uom_qty": 3})
        self.assertEqual((line.ps_period_count, line.ps_period_fee), (3, 1500.0))
        self.assertIn("amended", order.message_ids[0].body)
        self.assertIn("3 period(s)", order.message_ids[0].body)
        self.assertEqual(
            self.bill(order, date(2026, 10, 31)).invoice_ids.amount_untaxed,
            1500.0,
            "the third period, once sold",
        )

    def test_a_first_run_shows_the_catch_up_in_the_review_first(self):
        order = self.retainer(quantity=12, price=2000.0, ps_retainer_start=date(2026, 6, 1))
        run = self.bill(order, SEP_END)
        self.assertFalse(run.invoice_ids, "no catch-up billed without a review")
        waiting = self.skipped(run, "in_review")
        self.assertIn("first billing of a retainer that started on 2026-06-01", waiting.detail)
        prebill = self.env["ps.prebill"]._for_contract(order, SEP_END)
        fees = prebill.line_ids.filtered(lambda item: item.kind == "retainer_fee")
        self.assertEqual(len(fees), 5, "June to October (October in advance)")
        self.assertEqual(prebill.billed_total, 10000.0)
        prebill.action_generate_invoice()
        self.assertEqual(prebill.invoice_id.amount_untaxed, 10000.0)
        next_run = self.bill(order, date(2026, 10, 31))
        self.assertEqual(next_run.invoice_ids.amount_untaxed, 2000.0, "then one fee per run")


@tagged("post_install", "-at_install")
class TestFixedFeeLimits(BillingCase):
    def test_a_fixed_fee_never_bills_more_than_the_line_sold(self):
        order = self.fixed_fee(
            10000.0, [("Start", date(2026, 9, 1), 60), ("End", date(2026, 10, 1), 40)]
        )
        line = order.order_line
        # Someone invoiced half of the fee by hand on the contract line.
        manual = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": order.partner_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_fixed.id,
                            "quantity": 0.5,
                            "price_unit": 10000.0,
                            "sale_line_ids": [Command.set(line.ids)],
                            "tax_ids": [Command.set(self.tax.ids)],
                        }
                    )
                ],
            }
        )
        self.assertEqual(manual.amount_untaxed, 5000.0)
        run = self.bill(order, SEP_END)
        self.assertFalse(run.invoice_ids, "6,000 would make 11,000 invoiced of 10,000 sold")
        self.assertIn(
            "would bill more than the contract line sold", self.skipped(run, "beyond_sold").detail
        )
        manual.button_cancel()
        self.assertEqual(self.bill(order, SEP_END).invoice_ids.amount_untaxed, 6000.0)
