"""Issue 8, cases 1, 8 and 10: every invoice carries exactly what the contract, the time and
the rates say, to the cent (shares of a fee, hours that are not two-decimal, other units)."""

from datetime import date

from odoo import Command
from odoo.tests import Form, tagged

from .common import BillingCase, TimeAndMaterialsCase


@tagged("post_install", "-at_install")
class TestFeeShares(BillingCase):
    def test_installments_that_do_not_divide_evenly_bill_their_amounts(self):
        order = self.fixed_fee(
            12000.0,
            [
                ("First", date(2026, 9, 1), 33.33),
                ("Second", date(2026, 10, 1), 33.33),
                ("Third", date(2026, 11, 1), 33.34),
            ],
        )
        line = order.order_line
        installments = line.ps_installment_ids.sorted("date")
        self.assertEqual(installments.mapped("amount"), [3999.60, 3999.60, 4000.80])
        invoices = [
            self.bill(order, day).invoice_ids
            for day in (date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30))
        ]
        self.assertEqual(
            [invoice.amount_untaxed for invoice in invoices],
            [3999.60, 3999.60, 4000.80],
            "each invoice carries its installment's amount (not 0.33 x 12,000 = 3,960)",
        )
        self.assertEqual(installments.mapped("ps_billed_amount"), [3999.60, 3999.60, 4000.80])
        self.assertAlmostEqual(line.qty_invoiced, 1.0, places=6)
        self.assertEqual(line.invoice_status, "invoiced", "the line ends exactly invoiced")

    def test_a_third_each_adds_up_to_the_fee_the_last_taking_the_remainder(self):
        from odoo.addons.ps_billing_rules.engine.schedule import installment_schedule

        schedule = installment_schedule(10000.0, 3, date(2026, 9, 1), 1)
        order = self.fixed_fee(
            10000.0,
            [(f"Part {n}", day, pct) for n, (day, pct, _amount) in enumerate(schedule, 1)],
        )
        installments = order.order_line.ps_installment_ids.sorted("date")
        self.assertEqual(installments.mapped("amount"), [3333.33, 3333.33, 3333.34])
        billed = self.bill(order, date(2026, 11, 30)).invoice_ids
        self.assertEqual(billed.amount_untaxed, 10000.0, "the three installments make the fee")
        self.assertEqual(
            billed.invoice_line_ids.sorted("sequence").mapped("price_subtotal"),
            [3333.33, 3333.33, 3333.34],
        )

    def test_a_discounted_fee_bills_its_installments_with_the_discount_shown(self):
        order = self.fixed_fee(
            3000.0,
            [("Half", date(2026, 9, 1), 50), ("Rest", date(2026, 10, 1), 50)],
            discount=10.0,
        )
        invoice = self.bill(order, date(2026, 9, 30)).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 1350.0, "half of 3,000 less 10 %")
        self.assertEqual(invoice.invoice_line_ids.discount, 10.0, "the discount stays visible")

    def test_milestones_bill_their_share_the_last_taking_the_remainder(self):
        order = self.make_contract([(self.product_milestone, 1, 10000.0, "milestone", {})])
        line = order.order_line
        order.project_id.milestone_ids.unlink()
        milestones = self.env["project.milestone"].create(
            [
                {
                    "name": name,
                    "project_id": order.project_id.id,
                    "sale_line_id": line.id,
                    "quantity_percentage": 1 / 3,
                }
                for name in ("Design", "Build", "Launch")
            ]
        )
        amounts = []
        month_ends = (date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30))
        for milestone, month_end in zip(milestones, month_ends, strict=True):
            milestone.write({"is_reached": True})
            milestone.reached_date = month_end.replace(day=10)
            amounts.append(self.bill(order, month_end).invoice_ids.amount_untaxed)
        self.assertEqual(amounts, [3333.33, 3333.33, 3333.34], "the last takes the remainder")
        self.assertAlmostEqual(line.qty_invoiced, 1.0, places=6)


@tagged("post_install", "-at_install")
class TestFractionalHours(TimeAndMaterialsCase):
    def setUp(self):
        super().setUp()
        self.env["ps.rate.card"].create(
            {
                "name": "Deal rates",
                "level": "contract",
                "sale_order_id": self.order.id,
                "line_ids": [Command.create({"employee_id": self.ben.id, "rate": 90.0})],
            }
        )

    def test_one_hour_twenty_bills_hours_times_rate_rounded_once(self):
        timesheet = self.log(self.ben, 4 / 3, date(2026, 10, 5), self.line)  # 1:20
        prebill = self.env["ps.prebill"]._for_contract(self.order, date(2026, 10, 31))
        self.assertEqual(prebill.standard_total, 120.0)
        self.assertEqual(prebill.billed_total, 120.0)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 120.0, "1 h 20 at 90 is 120.00, not 119.70")
        self.assertEqual(
            (timesheet.ps_standard_amount, timesheet.ps_billed_amount),
            (120.0, 120.0),
            "no phantom write-down: realization stays 100 %",
        )
        self.assertAlmostEqual(self.line.qty_invoiced, self.line.qty_delivered, places=2)

    def test_three_twenty_minute_entries_bill_ninety(self):
        self.order.ps_invoice_detail = "entry"
        entries = [
            self.log(self.ben, 1 / 3, date(2026, 10, 5 + day), self.line) for day in range(3)
        ]
        prebill = self.env["ps.prebill"]._for_contract(self.order, date(2026, 10, 31))
        self.assertEqual(prebill.realization, 100.0)
        prebill.action_generate_invoice()
        invoice = prebill.invoice_id
        self.assertEqual(invoice.amount_untaxed, 90.0, "three 20-minute entries: 90.00, not 89.10")
        self.assertEqual(invoice.invoice_line_ids.mapped("price_subtotal"), [30.0, 30.0, 30.0])
        self.assertEqual(sum(ts.ps_billed_amount for ts in entries), 90.0)
        self.assertEqual(prebill.realization, 100.0, "no phantom write-down after invoicing")

    def test_grouped_entries_are_priced_on_their_total_hours(self):
        for day in range(3):
            self.log(self.ben, 1 / 3, date(2026, 10, 5 + day), self.line)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 90.0)
        self.assertEqual(invoice.invoice_line_ids.quantity, 1.0)

    def test_a_written_down_line_bills_exactly_the_amount_typed(self):
        timesheet = self.log(self.cleo, 7.5, date(2026, 10, 5), self.line)  # 900.00
        prebill = self.env["ps.prebill"]._for_contract(self.order, date(2026, 10, 31))
        prebill.line_ids.write({"adjusted_amount": 800.0, "reason": "agreed discount"})
        self.assertEqual(prebill.billed_total, 800.0)
        prebill.action_generate_invoice()
        self.assertEqual(prebill.invoice_id.amount_untaxed, 800.0, "7.5 h for 800.00: exact")
        self.assertEqual(timesheet.ps_billed_amount, 800.0)
        self.assertAlmostEqual(prebill.invoice_id.invoice_line_ids.quantity, 7.5, places=3)

    def test_the_invoice_pdf_shows_quantities_at_the_unit_precision(self):
        self.log(self.ben, 4 / 3, date(2026, 10, 5), self.line)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn("1.33", html)
        self.assertNotIn("1.333333", html)


@tagged("post_install", "-at_install")
class TestOtherUnits(BillingCase):
    def setUp(self):
        super().setUp()
        self.uom_day = self.env.ref("uom.product_uom_day")
        self.product_days = self.env["product.product"].create(
            {
                "name": "Consulting (days)",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "timesheet",
                "service_tracking": "project_only",
                "uom_id": self.uom_day.id,
                "uom_po_id": self.uom_day.id,
                "taxes_id": [Command.set(self.tax.ids)],
            }
        )

    def test_time_on_a_line_sold_in_days_bills_the_day_rate(self):
        order = self.make_contract([(self.product_days, 20, 1200.0, "tm", {})])
        self.env["ps.rate.card"].create(
            {
                "name": "Deal rates",
                "level": "contract",
                "sale_order_id": order.id,
                "line_ids": [Command.create({"employee_id": self.ben.id, "rate": 150.0})],
            }
        )
        self.log(self.ben, 8, date(2026, 10, 5), order.order_line)
        wip = self.env["ps.wip.report"].search([("order_id", "=", order.id)])
        self.assertEqual(sum(wip.mapped("value")), 1200.0, "8 h at 150 an hour")
        invoice = self.bill(order, date(2026, 10, 31)).invoice_ids
        line = invoice.invoice_line_ids
        self.assertEqual((line.quantity, line.price_unit), (1.0, 1200.0), "1 day at 1,200")
        self.assertEqual(invoice.amount_untaxed, 1200.0, "WIP and the invoice agree")
        self.assertEqual(order.order_line.qty_invoiced, 1.0)

    def test_a_day_price_without_rate_card_is_the_rate_of_every_hour(self):
        self.company_card.line_ids.unlink()
        order = self.make_contract([(self.product_days, 20, 1200.0, "tm", {})])
        timesheet = self.log(self.ben, 3, date(2026, 10, 5), order.order_line)
        self.assertEqual(timesheet.ps_rate, 150.0, "1,200 a day of 8 h is 150 an hour")
        invoice = self.bill(order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 450.0, "3 h = 0.375 day x 1,200")

    def test_a_controller_can_edit_hours_on_the_draft(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        timesheet = self.log(self.cleo, 2, date(2026, 10, 5), order.order_line)  # 240
        invoice = self.bill(order, date(2026, 10, 31)).invoice_ids
        with Form(invoice) as form, form.invoice_line_ids.edit(0) as line:
            line.price_unit = 100.0
        self.assertEqual(invoice.amount_untaxed, 200.0)
        self.assertEqual(
            (timesheet.ps_standard_amount, timesheet.ps_billed_amount),
            (240.0, 200.0),
            "a price lowered on the draft is a write-down of the work it bills",
        )
