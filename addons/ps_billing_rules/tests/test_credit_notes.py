"""Issue 8, cases 2, 5, 6 and 9: what controllers do to invoices after a run (credit notes with
Odoo's wizard, "Reverse and create a new draft", removing lines from drafts) keeps every item
billed exactly once, at the right value."""

from datetime import date

from odoo.tests import Form, tagged

from .common import BillingCase, TimeAndMaterialsCase

OCT_END = date(2026, 10, 31)


@tagged("post_install", "-at_install")
class TestPartialCreditNotes(TimeAndMaterialsCase):
    def test_two_partial_credit_notes_add_up(self):
        timesheet = self.log(self.cleo, 12.5, date(2026, 10, 5), self.line)  # 1,500.00
        invoice = self.bill(self.order, OCT_END).invoice_ids
        invoice.action_post()
        self.partial_credit(invoice, 150.0)
        self.assertEqual(timesheet.ps_billed_amount, 1350.0)
        second = self.partial_credit(invoice, 150.0)
        self.assertEqual(
            timesheet.ps_billed_amount, 1200.0, "1,500 - 150 - 150 = 1,200 (never 1,215)"
        )
        self.assertEqual(timesheet.ps_standard_amount, 1500.0)
        second.button_draft()
        self.assertEqual(
            timesheet.ps_billed_amount, 1350.0, "a credit note reset to draft is undone"
        )
        second.button_cancel()
        self.assertEqual(timesheet.ps_billed_amount, 1350.0)

    def test_a_credit_note_of_one_line_writes_down_that_line_only(self):
        ben = self.log(self.ben, 5, date(2026, 10, 5), self.line)  # 1,000
        cleo = self.log(self.cleo, 5, date(2026, 10, 6), self.line)  # 600
        invoice = self.bill(self.order, OCT_END).invoice_ids
        invoice.action_post()
        refund = self.reverse(invoice)
        ben_line = refund.invoice_line_ids.filtered(lambda line: line.price_subtotal == 1000.0)
        with Form(refund) as form:
            for index, line in enumerate(refund.invoice_line_ids.sorted("sequence")):
                if line != ben_line:
                    form.invoice_line_ids.remove(index)
            with form.invoice_line_ids.edit(0) as line:
                line.price_unit = 20.0  # credit 5 h x 20 = 100 on Ben's line
        refund.action_post()
        self.assertEqual(
            (ben.ps_billed_amount, cleo.ps_billed_amount),
            (900.0, 600.0),
            "the credit note credits the contract line it names",
        )


@tagged("post_install", "-at_install")
class TestReverseAndNewDraft(TimeAndMaterialsCase):
    def test_the_new_draft_bills_the_work_and_nothing_is_billable_twice(self):
        timesheet = self.log(self.ben, 5, date(2026, 10, 5), self.line)
        invoice = self.bill(self.order, OCT_END).invoice_ids
        invoice.action_post()
        new_draft = self.reverse(invoice, modify=True)
        self.assertEqual(invoice.payment_state, "reversed", "Odoo credited the invoice in full")
        self.assertEqual(
            (timesheet.ps_billing_state, timesheet.ps_invoice_id, timesheet.timesheet_invoice_id),
            ("billed", new_draft, new_draft),
            "the work is billed on the new draft",
        )
        self.assertEqual((new_draft.state, new_draft.ps_replaces_move_id), ("draft", invoice))
        self.assertEqual(timesheet.ps_billed_amount, 1000.0)
        prebill = self.env["ps.prebill"]._for_contract(self.order, OCT_END)
        self.assertFalse(
            prebill.line_ids.filtered(lambda line: line.kind == "timesheet"),
            "not back in the review while the new draft bills it",
        )
        self.assertFalse(self.bill(self.order, OCT_END).invoice_ids, "never billable twice")
        self.assertEqual(self.line.qty_invoiced, 5.0, "Odoo's invoiced quantity counts it once")
        new_draft.button_cancel()
        self.assertEqual(timesheet.ps_billing_state, "unbilled", "cancelling the draft frees it")
        self.assertEqual(self.bill(self.order, OCT_END).invoice_ids.amount_untaxed, 1000.0)


@tagged("post_install", "-at_install")
class TestDraftLineRemoval(TimeAndMaterialsCase):
    def test_a_line_removed_from_a_draft_releases_its_work(self):
        ben = self.log(self.ben, 5, date(2026, 10, 5), self.line)
        cleo = self.log(self.cleo, 2, date(2026, 10, 6), self.line)
        invoice = self.bill(self.order, OCT_END).invoice_ids
        lines = invoice.invoice_line_ids.sorted("sequence")
        ben_index = lines.ids.index(ben.ps_invoice_line_id.id)
        with Form(invoice) as form:
            form.invoice_line_ids.remove(ben_index)
        self.assertEqual(
            (ben.ps_billing_state, ben.ps_invoice_line_id, ben.timesheet_invoice_id.id),
            ("unbilled", self.env["account.move.line"], False),
            "removing the line releases Ben's time",
        )
        self.assertEqual(cleo.ps_billing_state, "billed", "the other line keeps its time")
        again = self.bill(self.order, OCT_END).invoice_ids
        self.assertEqual(again.amount_untaxed, 1000.0, "the released time is billed again")

    def test_a_line_set_to_zero_releases_its_work(self):
        cleo = self.log(self.cleo, 2, date(2026, 10, 6), self.line)
        invoice = self.bill(self.order, OCT_END).invoice_ids
        with Form(invoice) as form, form.invoice_line_ids.edit(0) as line:
            line.quantity = 0
        self.assertEqual(cleo.ps_billing_state, "unbilled")


@tagged("post_install", "-at_install")
class TestRetainerCredit(BillingCase):
    def test_crediting_a_fee_after_its_true_up_never_counts_its_hours_again(self):
        order = self.retainer()
        line = order.order_line
        september = self.bill(order, date(2026, 8, 31)).invoice_ids  # September's fee
        september.action_post()
        worked = self.log(self.ben, 5, date(2026, 9, 10), line)
        self.bill(order, date(2026, 9, 30))  # trues up September, bills October's fee
        period = line.ps_retainer_period_ids.filtered(lambda p: p.date_start == date(2026, 9, 1))
        self.assertEqual((period.state, period.consumed), ("closed", 5.0))
        self.reverse(september).action_post()  # the September fee is credited in full
        self.assertEqual(period.ps_billing_state, "review", "the fee goes back to the review")
        self.assertEqual(
            (worked.ps_billing_state, worked.ps_invoice_id.id),
            ("billed", False),
            "its time stays consumed by the closed period",
        )
        self.log(self.ben, 18, date(2026, 10, 5), line)
        run = self.bill(order, OCT_END)
        october = line.ps_retainer_period_ids.filtered(lambda p: p.date_start == date(2026, 10, 1))
        self.assertEqual(
            (october.consumed, october.overage),
            (18.0, 0.0),
            "October consumed its 18 h only (not 23 h with 3 h of invented overage)",
        )
        self.assertNotIn("overage", " ".join(run.invoice_ids.invoice_line_ids.mapped("name")))
        self.assertTrue(
            self.skipped(run, "in_review"), "the credited fee waits in the pre-bill review"
        )
        prebill = self.env["ps.prebill"]._for_contract(order, OCT_END)
        fee = prebill.line_ids.filtered(lambda item: item.kind == "retainer_fee" and item.returned)
        self.assertEqual(fee.standard, 3000.0)
        prebill.action_generate_invoice()
        self.assertEqual(
            worked.ps_invoice_id, prebill.invoice_id, "re-billed: its time points at the new fee"
        )
