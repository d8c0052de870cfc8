from datetime import date

from odoo.tests import tagged

from .common import AccountingCase, BillingCase


@tagged("post_install", "-at_install")
class TestRecognition(AccountingCase):
    def upfront_fee(self, **terms):
        """9,000 invoiced up front, service from October to December 2026."""
        return self.fixed_fee(
            9000.0,
            [("Upfront", date(2026, 10, 1), 100)],
            start=date(2026, 10, 1),
            end=date(2026, 12, 31),
            **terms,
        )

    def test_straight_line_fixed_fee_across_period_closes(self):
        order = self.upfront_fee()
        invoice = self.bill(order, date(2026, 10, 31)).invoice_ids
        invoice.action_post()
        self.assertEqual(
            self.balance(self.deferred_account, date(2026, 10, 31), order),
            -9000.0,
            "the whole fee sits in deferred revenue",
        )
        october, messages = self.close(order, date(2026, 10, 31))
        self.assertFalse([m for m in messages if order.name in str(m)])
        self.assertEqual(october.amount, round(9000 * 31 / 92, 2), "31 of 92 days")
        self.assertEqual(october.move_id.state, "posted")
        self.assertEqual(october.move_id.date, date(2026, 10, 31))
        again, _messages = self.close(order, date(2026, 10, 31))
        self.assertFalse(again, "closing the same period twice posts nothing")
        november, _messages = self.close(order, date(2026, 11, 30))
        self.assertEqual(november.target_cumulative, round(9000 * 61 / 92, 2))
        self.close(order, date(2026, 12, 31))
        self.assertEqual(
            sum(self.Recognition.search([("order_id", "=", order.id)]).mapped("amount")), 9000.0
        )
        self.assertAlmostEqual(
            self.balance(self.deferred_account, date(2026, 12, 31), order),
            0.0,
            places=2,
            msg="fully recognised at the end of the service period",
        )

    def test_percent_complete_follows_hours(self):
        order = self.upfront_fee(ps_recognition_method="percent_complete", ps_budget_hours=100)
        self.bill(order, date(2026, 10, 31)).invoice_ids.action_post()
        self.log(self.ben, 25, date(2026, 10, 10), order.order_line)
        october, _messages = self.close(order, date(2026, 10, 31))
        self.assertEqual(october.amount, 2250.0, "25 of 100 budgeted hours")

    def test_amendment_moves_the_target_and_an_adjustment_is_posted(self):
        order = self.upfront_fee()
        self.bill(order, date(2026, 10, 31)).invoice_ids.action_post()
        first, _messages = self.close(order, date(2026, 10, 31))
        order.order_line.ps_service_end = date(2027, 1, 31)  # the contract is extended
        adjustment, _messages = self.close(order, date(2026, 10, 31))
        self.assertTrue(adjustment.is_adjustment)
        self.assertEqual(first.amount + adjustment.amount, round(9000 * 31 / 123, 2))
        self.assertLess(adjustment.amount, 0, "less earned so far: revenue moves back to deferred")

    def test_a_locked_period_is_never_touched(self):
        order = self.upfront_fee()
        self.bill(order, date(2026, 10, 31)).invoice_ids.action_post()
        # Set in SQL: the demo data's unreconciled bank lines make Odoo refuse a lock date here.
        self.env.cr.execute(
            "UPDATE res_company SET fiscalyear_lock_date = %s WHERE id = %s",
            (date(2026, 10, 31), self.company.id),
        )
        self.company.invalidate_recordset(["fiscalyear_lock_date"])
        created, messages = self.close(order, date(2026, 10, 31))
        self.assertFalse(created)
        self.assertIn("locked", messages[0])

    def test_retainer_recognised_as_consumed(self):
        order = self.make_contract(
            [
                (
                    self.product_retainer,
                    12,
                    2000.0,
                    "retainer",
                    {
                        "ps_retainer_included": 20,
                        "ps_retainer_start": date(2026, 10, 1),
                        "ps_overage_rate": 150.0,
                    },
                )
            ]
        )
        self.bill(order, date(2026, 9, 30)).invoice_ids.action_post()  # October's fee in advance
        self.log(self.ben, 5, date(2026, 10, 8), order.order_line)
        mid, _messages = self.close(order, date(2026, 10, 15))
        self.assertEqual(mid.amount, 500.0, "5 of 20 hours used")

    def test_period_close_wizard(self):
        order = self.upfront_fee()
        self.bill(order, date(2026, 10, 31)).invoice_ids.action_post()
        wizard = (
            self.env["ps.period.close.wizard"]
            .with_user(self.billing_manager)
            .create({"period_end": date(2026, 10, 31)})
        )
        wizard.action_close()
        self.assertIn("recognition entr(ies) posted", wizard.result)
        recognised = self.Recognition.search([("order_id", "=", order.id)])
        self.assertEqual(
            (recognised.period_end, recognised.amount, recognised.move_id.state),
            (date(2026, 10, 31), round(9000 * 31 / 92, 2), "posted"),
            "the wizard recognised October's straight-line share and posted it",
        )


@tagged("post_install", "-at_install")
class TestWip(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "ps_wip_accrual": True,
                "ps_unbilled_receivable_account_id": cls.env["account.account"]
                .create(
                    {
                        "name": "Unbilled receivable",
                        "code": "139001",
                        "account_type": "asset_current",
                    }
                )
                .id,
                "ps_wip_revenue_account_id": cls.env["account.account"]
                .create({"name": "Accrued revenue", "code": "709001", "account_type": "income"})
                .id,
                "ps_billing_journal_id": cls.env["account.journal"]
                .search([("type", "=", "general"), ("company_id", "=", cls.company.id)], limit=1)
                .id,
            }
        )

    def test_wip_report_and_accrual_reversed_next_day(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})])
        self.log(self.ben, 5, date(2026, 10, 5), order.order_line)
        self.log(self.cleo, 2, date(2026, 10, 20), order.order_line)
        self.log(self.cleo, 9, date(2026, 10, 21), order.order_line, approved=False)
        wip = self.env["ps.wip.report"].search([("order_id", "=", order.id)])
        self.assertEqual(sum(wip.mapped("hours")), 7.0, "approved and unbilled only")
        self.assertEqual(sum(wip.mapped("value")), 1240.0)
        accrual, messages = self.env["ps.wip.accrual"]._accrue(self.company, date(2026, 10, 31))
        self.assertFalse(messages)
        ours = accrual.move_id.line_ids.filtered(lambda aml: order.name in (aml.name or ""))
        self.assertEqual(ours.credit, 1240.0, "our contract's share of the accrual")
        self.assertEqual(accrual.amount, sum(accrual.move_id.line_ids.mapped("credit")))
        self.assertEqual(accrual.move_id.date, date(2026, 10, 31))
        self.assertEqual(
            accrual.reversal_move_id.date, date(2026, 11, 1), "reversed on the first day"
        )
        self.assertEqual(accrual.reversal_move_id.state, "posted")
        receivable = self.company.ps_unbilled_receivable_account_id
        lines = self.env["account.move.line"].search([("account_id", "=", receivable.id)])
        self.assertEqual(
            sum(lines.filtered(lambda aml: aml.date <= date(2026, 10, 31)).mapped("balance")),
            accrual.amount,
        )
        self.assertEqual(
            sum(lines.mapped("balance")), 0.0, "never double counted with the invoices"
        )
        same, messages = self.env["ps.wip.accrual"]._accrue(self.company, date(2026, 10, 31))
        self.assertEqual(same, accrual, "idempotent per period")
        self.bill(order, date(2026, 10, 31))
        self.assertFalse(
            self.env["ps.wip.report"].search([("order_id", "=", order.id)]), "billed: no longer WIP"
        )
