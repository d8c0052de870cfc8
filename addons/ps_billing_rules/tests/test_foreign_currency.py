"""Issue 8, case 7: a fee in a foreign currency is recognised at the rate it was deferred at, so
deferred revenue ends at exactly zero when the service ends (fixed fees and retainers)."""

from datetime import date

from odoo.tests import tagged

from .common import AccountingCase


@tagged("post_install", "-at_install")
class TestForeignCurrencyRecognition(AccountingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code = "GBP" if cls.currency.name == "EUR" else "EUR"
        cls.foreign = cls.env.ref(f"base.{code}")
        cls.foreign.active = True
        # Units of the foreign currency per unit of the company's: 0.85 when invoiced (1,000 is
        # worth 1,176.47), 0.92 later (1,000 is worth 1,086.96).
        cls.env["res.currency.rate"].search(
            [("currency_id", "=", cls.foreign.id), ("company_id", "in", [cls.company.id, False])]
        ).unlink()
        cls.env["res.currency.rate"].create(
            [
                {
                    "currency_id": cls.foreign.id,
                    "name": day,
                    "rate": rate,
                    "company_id": cls.company.id,
                }
                for day, rate in (
                    (date(2026, 1, 1), 0.85),
                    (date(2026, 11, 15), 0.90),
                    (date(2026, 12, 31), 0.92),
                )
            ]
        )
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": f"Prices in {code}", "currency_id": cls.foreign.id}
        )

    def test_a_fixed_fee_leaves_nothing_in_deferred_revenue(self):
        order = self.fixed_fee(
            1000.0,
            [("Upfront", date(2026, 10, 1), 100)],
            start=date(2026, 10, 1),
            end=date(2026, 12, 31),
            order_values={"pricelist_id": self.pricelist.id},
        )
        invoice = self.bill(order, date(2026, 10, 31), invoice_date=date(2026, 10, 1)).invoice_ids
        invoice.action_post()
        self.assertEqual(invoice.currency_id, self.foreign)
        deferred = -self.balance(self.deferred_account, date(2026, 10, 31), order)
        self.assertEqual(deferred, 1176.47, "1,000 deferred at the invoice date's rate")
        for period_end in (date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31)):
            self.close(order, period_end)
        recognised = sum(self.Recognition.search([("order_id", "=", order.id)]).mapped("amount"))
        self.assertEqual(recognised, 1176.47, "released at the rate it was deferred at")
        self.assertEqual(
            self.balance(self.deferred_account, date(2026, 12, 31), order),
            0.0,
            "deferred revenue ends at exactly zero (1,176.47 - 1,086.96 would be left over)",
        )

    def test_retainer_fees_leave_nothing_in_deferred_revenue(self):
        order = self.retainer(
            quantity=3,
            price=1000.0,
            order_values={"pricelist_id": self.pricelist.id},
            ps_retainer_start=date(2026, 10, 1),
            ps_overage_rate=0.0,
        )
        self.assertEqual(order.currency_id, self.foreign)
        self.log(self.ben, 4, date(2026, 10, 8), order.order_line)
        for run_end, invoice_day in (
            (date(2026, 9, 30), date(2026, 10, 1)),  # October's fee at 0.85
            (date(2026, 10, 31), date(2026, 11, 16)),  # November's at 0.90
            (date(2026, 11, 30), date(2026, 12, 31)),  # December's at 0.92
        ):
            invoices = self.bill(order, run_end, invoice_date=invoice_day).invoice_ids
            invoices.action_post()
        self.assertAlmostEqual(
            -self.balance(self.deferred_account, date(2026, 12, 31), order),
            1176.47 + 1111.11 + 1086.96,
            places=2,
            msg="each fee deferred at its invoice date's rate",
        )
        for period_end in (date(2026, 10, 31), date(2026, 11, 30), date(2026, 12, 31)):
            self.bill(order, period_end)  # trues up the period
            self.close(order, period_end)
        self.assertEqual(
            self.balance(self.deferred_account, date(2026, 12, 31), order),
            0.0,
            "all three fees recognised: nothing left in deferred revenue",
        )
