from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import APRIL, D, IntercompanyCase


@tagged("post_install", "-at_install")
class TestMirrors(IntercompanyCase):
    """The invoice in the provider, its vendor bill in the receiver (OCA
    account_invoice_inter_company) with the project's analytics, each company's currency rates,
    taxes and accounts; credit notes mirrored both ways."""

    def posted_recharge(self, agreement, *logs):
        for employee, project, hours, day in logs:
            self.log(employee, project, hours, day)
        recharge = self.recharge_of(self.run_recharge(), agreement)
        recharge.action_post()
        return recharge

    def test_posting_mirrors_a_bill_on_the_receiving_projects(self):
        recharge = self.posted_recharge(
            self.eu_us,
            (self.eva, self.us_project, 7.5, D(2026, 3, 10)),
            (self.ana, self.us_project_2, 4.0, D(2026, 3, 20)),
        )
        invoice, bill = recharge.invoice_id, recharge.bill_id
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(bill, "posting the invoice created the receiver's vendor bill")
        self.assertEqual(
            (bill.company_id, bill.move_type, bill.state), (self.us, "in_invoice", "posted")
        )
        self.assertEqual(bill.partner_id, self.eu.partner_id)
        self.assertEqual(bill.ref, invoice.name)
        self.assertEqual(bill.currency_id, self.usd)
        self.assertEqual(bill.journal_id.type, "purchase")
        self.assertNotEqual(
            bill.journal_id, self.us.expense_journal_id, "not the expense-report journal"
        )
        self.assertEqual(bill.fiscal_position_id, self.fp_purchase[self.us])
        self.assertAlmostEqual(bill.amount_total, invoice.amount_total, places=2)
        self.assertAlmostEqual(bill.amount_total, 712.80 + 297.20, places=2)
        self.assertEqual(
            set(bill.invoice_line_ids.account_id.ids), {self.accounts[self.us]["cost"].id}
        )
        self.assertEqual(
            bill.line_ids.filtered(
                lambda line: line.account_type == "liability_payable"
            ).account_id,
            self.accounts[self.us]["payable"],
        )
        by_project = {
            line.ps_ic_recharge_line_id.project_id: line.analytic_distribution
            for line in bill.invoice_line_ids
        }
        self.assertEqual(
            by_project,
            {
                self.us_project: {str(self.us_project.account_id.id): 100.0},
                self.us_project_2: {str(self.us_project_2.account_id.id): 100.0},
            },
            "each bill line carries its receiving project's analytic distribution",
        )
        # The recharge is now a cost on the project's analytic account (its margin includes it).
        analytic = self.env["account.analytic.line"].search(
            [
                ("move_line_id", "in", bill.invoice_line_ids.ids),
                ("account_id", "=", self.us_project.account_id.id),
            ]
        )
        self.assertAlmostEqual(analytic.amount, -712.80, places=2)
        self.assertEqual(recharge.state, "mirrored")
        self.assertEqual(recharge.line_ids.bill_line_id, bill.invoice_line_ids)

    def test_currencies_and_rates_on_both_sides(self):
        uk_recharge = self.posted_recharge(
            self.uk_us, (self.uma, self.us_project, 6.0, D(2026, 3, 5))
        )
        invoice, bill = uk_recharge.invoice_id, uk_recharge.bill_id
        self.assertEqual((invoice.currency_id, bill.currency_id), (self.gbp, self.gbp))
        self.assertAlmostEqual(invoice.amount_total_signed, 720.0, msg="GBP in the UK books")
        # The US books the same 720 GBP at the US rate (0.8 GBP per USD): 900 USD.
        self.assertAlmostEqual(abs(bill.amount_total_signed), 900.0, places=2)
        us_recharge = self.posted_recharge(
            self.us_eu, (self.sam, self.eu_project, 5.0, D(2026, 3, 12))
        )
        bill = us_recharge.bill_id
        self.assertEqual((bill.company_id, bill.currency_id), (self.eu, self.usd))
        # 500 USD in the EU books at the EU rate (1.08 USD per EUR): 462.96 EUR
        self.assertAlmostEqual(abs(bill.amount_total_signed), 462.96, places=2)

    def test_taxes_follow_each_company_fiscal_position(self):
        self.eu_us.receiver_fiscal_position_id = False
        recharge = self.posted_recharge(
            self.eu_us, (self.eva, self.us_project, 10.0, D(2026, 3, 10))
        )
        invoice, bill = recharge.invoice_id, recharge.bill_id
        self.assertFalse(invoice.amount_tax, "the provider's B2B position removes its sales tax")
        self.assertAlmostEqual(bill.amount_untaxed, 950.40, places=2)
        self.assertAlmostEqual(
            bill.amount_tax,
            950.40 * 0.15,
            places=2,
            msg="no position in the receiver: its own purchase tax",
        )
        self.assertEqual(
            bill.state, "draft", "totals differ: the mirror waits for the receiver (OCA rule)"
        )

    def test_mirrors_wait_in_draft_when_the_agreement_says_so(self):
        self.eu_us.mirror_auto_post = False
        self.assertTrue(self.us.invoice_auto_validation)
        bill = self.posted_recharge(
            self.eu_us, (self.eva, self.us_project, 1.0, D(2026, 3, 10))
        ).bill_id
        self.assertEqual(bill.state, "draft")
        with self.assertRaises(UserError, msg="the receiver cannot make its mirror drift"):
            bill.invoice_line_ids[:1].price_unit = 1.0
        bill.invoice_line_ids[:1].account_id = self.accounts[self.us][
            "other_expense"
        ]  # coding: allowed
        bill.action_post()
        self.assertEqual(bill.state, "posted")

    def test_recharge_invoices_follow_their_items(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        invoice = self.recharge_of(self.run_recharge(), self.eu_us).invoice_id
        with self.assertRaises(UserError):
            invoice.invoice_line_ids.quantity = 3.0

    def test_a_sales_journal_in_the_context_does_not_derail_the_mirror(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        recharge = self.recharge_of(self.run_recharge(), self.eu_us)
        sale_journal = recharge.invoice_id.journal_id
        recharge.invoice_id.with_context(
            default_journal_id=sale_journal.id, default_move_type="out_invoice"
        ).action_post()
        self.assertEqual(recharge.bill_id.journal_id.type, "purchase")

    def test_credit_note_from_the_reversal_wizard_is_mirrored_and_reverses_the_items(self):
        recharge = self.posted_recharge(
            self.eu_us, (self.eva, self.us_project, 7.5, D(2026, 3, 10))
        )
        invoice, bill = recharge.invoice_id, recharge.bill_id
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "journal_id": invoice.journal_id.id,
                    "reason": "wrong agreement",
                    "date": D(2026, 3, 31),
                }
            )
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        self.assertEqual(refund.state, "draft")
        refund.action_post()
        mirror = self.mirror(refund)
        self.assertEqual(
            (mirror.company_id, mirror.move_type, mirror.state), (self.us, "in_refund", "posted")
        )
        self.assertEqual(
            mirror.reversed_entry_id, bill, "the mirrored credit note reverses the mirrored bill"
        )
        self.assertAlmostEqual(mirror.amount_total, bill.amount_total, places=2)
        self.assertEqual(
            mirror.invoice_line_ids.analytic_distribution,
            {str(self.us_project.account_id.id): 100.0},
        )
        self.assertEqual(mirror.invoice_line_ids.account_id, self.accounts[self.us]["cost"])
        self.assertEqual(recharge.state, "credited")
        self.assertFalse(
            self.run_recharge(period=APRIL).recharge_ids,
            "credited work is not charged again by itself",
        )
        recharge.action_recharge_again()
        again = self.recharge_of(self.run_recharge(period=APRIL), self.eu_us)
        self.assertEqual(
            (again.line_ids.kind, again.line_ids.quantity, again.amount_untaxed),
            ("adjustment", 7.5, 712.80),
        )

    def test_full_refund_from_the_receiver_is_mirrored_back_and_reconciled(self):
        recharge = self.posted_recharge(self.uk_us, (self.uma, self.us_project, 6.0, D(2026, 3, 5)))
        invoice, bill = recharge.invoice_id, recharge.bill_id
        wizard = (
            self.env["account.move.reversal"]
            .with_company(self.us)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({"journal_id": bill.journal_id.id, "date": D(2026, 3, 31)})
        )
        wizard.modify_moves()  # full refund (reconciled with the bill) and a new draft bill
        self.assertEqual(bill.payment_state, "reversed")
        provider_refund = self.env["account.move"].search(
            [
                ("company_id", "=", self.uk.id),
                ("move_type", "=", "out_refund"),
                ("reversed_entry_id", "=", invoice.id),
            ]
        )
        self.assertEqual(
            provider_refund.state,
            "posted",
            "the receiver's credit note is mirrored in the provider",
        )
        self.assertTrue(provider_refund.auto_generated)
        self.assertEqual(
            invoice.payment_state,
            "reversed",
            "and reconciled with the invoice, as on the other side",
        )
        self.assertEqual(
            provider_refund.invoice_line_ids.account_id, self.accounts[self.uk]["revenue"]
        )
        us_refund = bill.reversal_move_ids
        self.assertEqual(
            us_refund.invoice_line_ids.analytic_distribution,
            {str(self.us_project.account_id.id): 100.0},
            "the receiver's own credit note keeps the project's analytics",
        )
        self.assertEqual(recharge.state, "credited")

    def test_partial_credit_note_keeps_the_items_recharged(self):
        recharge = self.posted_recharge(
            self.eu_us, (self.eva, self.us_project, 10.0, D(2026, 3, 10))
        )
        invoice = recharge.invoice_id
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": D(2026, 3, 31)})
        )
        refund = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        with Form(refund) as form, form.invoice_line_ids.edit(0) as line:
            line.quantity = 2.0
        refund.action_post()
        self.assertAlmostEqual(self.mirror(refund).amount_total, 190.08, places=2)
        self.assertEqual(recharge.state, "mirrored", "a price concession, the work stays recharged")
        self.assertFalse(self.run_recharge(period=APRIL).recharge_ids)

    def test_manual_intercompany_invoices_follow_the_agreement_too(self):
        invoice = (
            self.env["account.move"]
            .with_company(self.eu)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.us.partner_id.id,
                    "invoice_date": D(2026, 3, 15),
                    "currency_id": self.usd.id,
                    "fiscal_position_id": self.fp_sale[self.eu].id,
                    "invoice_line_ids": [
                        Command.create(
                            {"product_id": self.service.id, "quantity": 1, "price_unit": 250.0}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        bill = self.mirror(invoice)
        self.assertEqual(bill.invoice_line_ids.account_id, self.accounts[self.us]["cost"])
        self.assertEqual(bill.fiscal_position_id, self.fp_purchase[self.us])
        self.assertEqual(bill.state, "posted")

    def test_full_refund_from_the_provider_mirrors_with_the_projects_analytics(self):
        recharge = self.posted_recharge(
            self.eu_us, (self.eva, self.us_project, 2.0, D(2026, 3, 10))
        )
        invoice, bill = recharge.invoice_id, recharge.bill_id
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": D(2026, 3, 31)})
        )
        wizard.modify_moves()  # posts the credit note at once (Odoo's _reverse_moves(cancel=True))
        mirror = self.env["account.move"].search([("reversed_entry_id", "=", bill.id)])
        self.assertEqual(mirror.state, "posted")
        self.assertEqual(
            mirror.invoice_line_ids.analytic_distribution,
            {str(self.us_project.account_id.id): 100.0},
        )
        self.assertEqual(bill.payment_state, "reversed", "reconciled like the provider's pair")
        self.assertEqual(recharge.state, "credited")

    def test_eu_reverse_charge_in_the_receiver(self):
        """US -> EU services: no tax on the US invoice (B2B export position), the EU bill is
        reverse charged (19 % due and 19 % deductible, Art. 196): totals agree, it posts."""
        eu_purchase = self.eu.account_purchase_tax_id
        Account = self.env["account.account"].with_company(self.eu)
        due, deductible = (
            Account.create(
                {
                    "code": code,
                    "name": name,
                    "account_type": kind,
                    "company_ids": [Command.set(self.eu.ids)],
                }
            )
            for code, name, kind in (
                ("250900", "VAT due (reverse charge)", "liability_current"),
                ("130900", "VAT deductible (reverse charge)", "asset_current"),
            )
        )

        def repartition():
            return [
                Command.create({"repartition_type": "base"}),
                Command.create(
                    {"repartition_type": "tax", "factor_percent": 100, "account_id": deductible.id}
                ),
                Command.create(
                    {"repartition_type": "tax", "factor_percent": -100, "account_id": due.id}
                ),
            ]

        reverse_charge = self.env["account.tax"].create(
            {
                "name": "Reverse charge 19% (test)",
                "amount": 19.0,
                "type_tax_use": "purchase",
                "company_id": self.eu.id,
                "tax_group_id": eu_purchase.tax_group_id.id,
                "invoice_repartition_line_ids": repartition(),
                "refund_repartition_line_ids": repartition(),
            }
        )
        self.us_eu.receiver_fiscal_position_id = self.env["account.fiscal.position"].create(
            {
                "name": "Services from abroad (reverse charge, test)",
                "company_id": self.eu.id,
                "tax_ids": [
                    Command.create({"tax_src_id": eu_purchase.id, "tax_dest_id": reverse_charge.id})
                ],
            }
        )
        recharge = self.posted_recharge(
            self.us_eu, (self.sam, self.eu_project, 5.0, D(2026, 3, 10))
        )
        invoice, bill = recharge.invoice_id, recharge.bill_id
        self.assertAlmostEqual(invoice.amount_untaxed, 500.0, places=2, msg="5 h x 100 at cost")
        self.assertFalse(invoice.amount_tax, "the US invoice carries no tax")
        self.assertEqual(bill.invoice_line_ids.tax_ids, reverse_charge, "the EU position maps it")
        self.assertEqual(bill.state, "posted", "net tax 0: totals agree and the mirror posts")
        self.assertAlmostEqual(bill.amount_total, 500.0, places=2)
        tax_lines = bill.line_ids.filtered("tax_line_id")
        self.assertEqual(
            sorted(round(line.amount_currency, 2) for line in tax_lines),
            [-95.0, 95.0],
            "19 % of 500 USD due and deductible in the EU books",
        )
        self.assertEqual(tax_lines.account_id, due | deductible)
