from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import D, IntercompanyCase


@tagged("post_install", "-at_install")
class TestPricing(IntercompanyCase):
    """Each pricing method to the cent, with the provider's exchange rates of the invoice date."""

    def lines_of(self, recharge):
        return {
            (line.employee_id.name, line.price_unit): (line.hours, line.amount)
            for line in recharge.line_ids
        }

    def test_cost_plus_with_role_markup_effective_costs_and_conversion(self):
        self.log(self.eva, self.us_project, 7.5, D(2026, 3, 10))
        self.log(self.ana, self.us_project, 12.5, D(2026, 3, 10))
        self.log(self.ana, self.us_project, 4.0, D(2026, 3, 20))  # cost 64.00 from March 16
        run = self.run_recharge()
        recharge = self.recharge_of(run, self.eu_us)
        self.assertEqual(
            self.lines_of(recharge),
            {
                # 80 EUR x 1.10 = 88 EUR x 1.08 (EU's EUR->USD rate) = 95.04 USD; 7.5 h
                ("Eva EU Senior", 95.04): (7.5, 712.80),
                # 61.37 x 1.075 (Analyst mark-up) = 65.97275 EUR x 1.08 = 71.25 USD; 12.5 h
                ("Ana EU Analyst", 71.25): (12.5, 890.63),
                # 64.00 x 1.075 = 68.80 EUR x 1.08 = 74.304 -> 74.30 USD; 4 h
                ("Ana EU Analyst", 74.30): (4.0, 297.20),
            },
        )
        invoice = recharge.invoice_id
        self.assertEqual(invoice.currency_id, self.usd, "charged in the agreement's currency")
        self.assertEqual(invoice.company_id, self.eu)
        self.assertEqual(invoice.partner_id, self.us.partner_id)
        self.assertAlmostEqual(invoice.amount_untaxed, 1900.63, places=2)
        self.assertAlmostEqual(
            invoice.amount_tax, 0.0, msg="the provider's B2B fiscal position removes VAT"
        )
        self.assertEqual(invoice.fiscal_position_id, self.fp_sale[self.eu])
        self.assertEqual(
            set(invoice.invoice_line_ids.account_id.ids), {self.accounts[self.eu]["revenue"].id}
        )
        self.assertEqual(
            invoice.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            ).account_id,
            self.accounts[self.eu]["receivable"],
            "the receivable from the receiver is the agreement's intercompany receivable",
        )
        # In EU's books, in EUR at EU's rate, line by line: 660.00 + 824.66 + 275.19
        self.assertAlmostEqual(invoice.amount_untaxed_signed, 1759.85, places=2)
        entries = recharge.sudo().entry_ids
        self.assertEqual(len(entries), 3, "one ledger entry per timesheet line")
        self.assertAlmostEqual(
            sum(entries.mapped("cost_amount")), 7.5 * 80 + 12.5 * 61.37 + 4 * 64, places=2
        )

    def test_zero_markup_is_at_cost_and_no_markup_is_imposed(self):
        self.log(self.sam, self.eu_project, 5.0, D(2026, 3, 12))
        run = self.run_recharge()
        line = self.recharge_of(run, self.us_eu).line_ids
        self.assertEqual((line.price_unit, line.amount), (100.0, 500.0), "0 %: at cost, 100 USD/h")
        blank = self.env["ps.ic.agreement"].new({"pricing_method": "cost_plus"})
        self.assertEqual(blank.markup_percent, 0.0, "no 5 % (or any) default mark-up")
        self.assertTrue(self.us_eu.markup_note, "the form says a 0 % agreement recharges at cost")
        with self.assertRaises(ValidationError):
            self.us_eu.markup_percent = -1

    def test_transfer_rate_card_by_role_then_employee_from_a_date(self):
        self.log(self.uma, self.us_project, 6.0, D(2026, 3, 5))  # role line 120 GBP
        self.log(self.uma, self.us_project, 2.5, D(2026, 3, 25))  # her own line from March 20: 135
        run = self.run_recharge()
        recharge = self.recharge_of(run, self.uk_us)
        self.assertEqual(
            self.lines_of(recharge),
            {("Uma UK Senior", 120.0): (6.0, 720.0), ("Uma UK Senior", 135.0): (2.5, 337.5)},
        )
        self.assertEqual(recharge.invoice_id.currency_id, self.gbp)
        self.assertAlmostEqual(recharge.invoice_id.amount_untaxed, 1057.50, places=2)

    def test_rate_card_in_another_currency_is_converted_at_the_provider_rate(self):
        self.uk_us.currency_id = self.usd
        self.log(self.uma, self.us_project, 2.5, D(2026, 3, 25))
        line = self.recharge_of(self.run_recharge(), self.uk_us).line_ids
        # 135 GBP x 1.27 (UK's GBP->USD) = 171.45 USD; 2.5 h = 428.625 -> 428.63
        self.assertEqual((line.price_unit, line.amount), (171.45, 428.63))

    def test_share_of_billed_value(self):
        product = self.env["product.product"].create(
            {
                "name": "T&M consulting (test)",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "timesheet",
                "service_tracking": "project_only",
                "uom_id": self.hour.id,
                "uom_po_id": self.hour.id,
                "taxes_id": [Command.clear()],
            }
        )
        customer = self.env["res.partner"].create({"name": "US client", "is_company": True})
        order = (
            self.env["sale.order"]
            .with_company(self.us)
            .create(
                {
                    "partner_id": customer.id,
                    "company_id": self.us.id,
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
        order.action_confirm()
        project = order.order_line.project_id
        self.eu_us.write({"pricing_method": "billed_share", "billed_share_percent": 62.5})
        billed = self.log(self.eva, project, 10.0, D(2026, 3, 9), so_line=order.order_line.id)
        self.log(
            self.eva, project, 3.0, D(2026, 3, 10), so_line=order.order_line.id, approved=False
        )
        first = self.run_recharge()
        self.assertFalse(first.recharge_ids, "nothing billed to the client yet: nothing to share")
        self.assertEqual(self.skipped(first, "not_billed").item_count, 1)
        billing = self.env["ps.billing.run"].create(
            {
                "name": "US billing",
                "period_end": D(2026, 3, 31),
                "invoice_date": D(2026, 3, 31),
                "company_ids": [Command.set(self.us.ids)],
                "order_ids": [Command.set(order.ids)],
            }
        )
        billing.action_run_now()
        client_invoice = billing.invoice_ids
        self.assertEqual(billed.ps_billing_state, "billed")
        client_invoice.action_post()
        second = self.run_recharge()
        line = self.recharge_of(second, self.eu_us).line_ids
        # 62.5 % of the 2,000.00 USD billed for Eva's 10 hours, as a lump sum in USD
        self.assertEqual((line.quantity, line.amount, line.hours), (1.0, 1250.0, 10.0))
        self.assertIn("share of billed value", line.name)
        self.assertEqual(self.skipped(second, "not_approved").item_count, 1)
