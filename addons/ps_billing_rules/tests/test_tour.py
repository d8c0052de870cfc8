from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "is_tour")
class TestPrebillTour(HttpCase):
    def test_finance_user_writes_down_a_line_and_generates_the_invoice(self):
        globex = self.env.ref("ps_billing_rules.partner_demo_globex")
        contract = self.env["sale.order"].search(
            [("partner_id", "=", globex.id), ("ps_governed", "=", True)], limit=1
        )
        self.assertTrue(contract, "the demo data has the Globex assessment contract")
        prebill = self.env["ps.prebill"]._for_contract(contract, fields.Date.today())
        self.assertEqual(round(prebill.realization), 100)
        finance = self.env.ref("ps_billing_rules.user_demo_billing")
        self.start_tour(
            f"/odoo/action-ps_billing_rules.action_ps_prebill/{prebill.id}",
            "ps_prebill_write_down_tour",
            login=finance.login,
        )
        prebill.invalidate_recordset()
        self.assertEqual(prebill.state, "invoiced")
        self.assertLess(prebill.realization, 100, "the write-down lowered realization")
        written = prebill.line_ids.filtered("reason")
        self.assertEqual(written.reason, "Scope overrun agreed with the customer")
        invoice = prebill.invoice_id
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.create_uid.login, finance.login)
        timesheet = self.env["account.analytic.line"].browse(written.res_id)
        self.assertEqual(timesheet.ps_adjustment_reason, "Scope overrun agreed with the customer")
        self.assertEqual(
            timesheet.ps_billed_amount,
            written.will_bill,
            "the review announced exactly what the invoice carries",
        )
        self.assertAlmostEqual(
            timesheet.ps_billed_amount,
            1000.0,
            delta=0.05,
            msg="1000 typed for 7.5 h: 7.5 x 133.33 = 999.98 at 2-decimal unit prices",
        )
        line = invoice.invoice_line_ids.filtered(
            lambda aml: aml.price_subtotal == timesheet.ps_billed_amount
        )
        self.assertTrue(line, "one invoice line carries the written-down amount")
