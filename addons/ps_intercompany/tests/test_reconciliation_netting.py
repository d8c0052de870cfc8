from odoo import Command
from odoo.tests import tagged

from .common import MARCH, D, IntercompanyCase

MID_MARCH = D(2026, 3, 15)


@tagged("post_install", "-at_install")
class TestReconciliationNetting(IntercompanyCase):
    """Every document matched to its mirror or listed with its reason; all pairs tie at a glance;
    a netting offsets the mutual balances in both companies."""

    def reconcile(self):
        records = self.env["ps.ic.reconciliation"]._reconcile_period(*MARCH)
        return {
            frozenset((rec.company_a_id, rec.company_b_id)): rec
            for rec in records
            if rec.company_a_id in self.companies
        }

    def pair(self, recs, a, b):
        return recs[frozenset((a, b))]

    def invoice(
        self, provider, receiver, amount, currency=None, day=MID_MARCH, post=True, **values
    ):
        invoice = (
            self.env["account.move"]
            .with_company(provider)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": receiver.partner_id.id,
                    "invoice_date": day,
                    "currency_id": (currency or self.usd).id,
                    "fiscal_position_id": self.fp_sale[provider].id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "quantity": 1,
                                "price_unit": amount,
                                "account_id": self.accounts[provider]["revenue"].id,
                            }
                        )
                    ],
                    **values,
                }
            )
        )
        if post:
            invoice.action_post()
        return invoice

    def test_all_pairs_tie_and_a_netting_leaves_one_amount_to_pay(self):
        self.log(self.eva, self.us_project, 7.5, D(2026, 3, 10))  # EU -> US 712.80 USD
        self.log(self.uma, self.us_project, 6.0, D(2026, 3, 5))  # UK -> US 720.00 GBP
        self.log(self.sam, self.eu_project, 5.0, D(2026, 3, 12))  # US -> EU 500.00 USD
        run = self.run_recharge()
        run.action_post_invoices()
        self.assertTrue(all(r.state == "mirrored" for r in run.recharge_ids))
        recs = self.reconcile()
        self.assertEqual(set(recs), {frozenset((self.eu, self.us)), frozenset((self.uk, self.us))})
        eu_us = self.pair(recs, self.eu, self.us)
        self.assertEqual([rec.state for rec in recs.values()], ["tied", "tied"], "all pairs tie")
        documents = eu_us.line_ids.filtered(lambda line: line.line_type == "document")
        self.assertEqual(len(documents), 2, "two invoices, each matched to its bill")
        self.assertTrue(all(line.provider_move_id and line.receiver_move_id for line in documents))
        balances = eu_us.line_ids.filtered(lambda line: line.line_type == "balance")
        self.assertEqual(
            sorted(
                (line.provider_company_id.name, line.provider_amount, line.receiver_amount)
                for line in balances
            ),
            [("IC Test EU", 712.8, 712.8), ("IC Test US", 500.0, 500.0)],
        )
        uk_us = self.pair(recs, self.uk, self.us)
        uk_balance = uk_us.line_ids.filtered(lambda line: line.line_type == "balance")
        # 720 GBP: 720 GBP in the UK books, 900 USD in the US books; group currency USD (US rates)
        self.assertEqual(
            (uk_balance.provider_company_amount, uk_balance.receiver_company_amount), (720.0, 900.0)
        )
        self.assertAlmostEqual(uk_balance.provider_group_amount, 900.0, places=2)
        self.assertAlmostEqual(uk_balance.group_difference, 0.0, places=2)

        # Netting EU <-> US in USD: EU is owed 712.80 and owes 500.00.
        wizard = self.env["ps.ic.netting.wizard"].create(
            {"company_a_id": self.eu.id, "company_b_id": self.us.id, "date": D(2026, 3, 31)}
        )
        self.assertEqual(wizard.currency_id, self.usd, "the agreements' charge currency")
        netting = self.env["ps.ic.netting"].browse(wizard.action_propose()["res_id"])
        self.assertEqual(
            (netting.amount, netting.net_payer_id, netting.net_amount), (500.0, self.us, 212.8)
        )
        self.assertTrue(netting.balanced)
        netting.action_post()
        for move in netting.move_a_id | netting.move_b_id:
            self.assertEqual(move.state, "posted")
            self.assertAlmostEqual(
                sum(move.line_ids.mapped("debit")), sum(move.line_ids.mapped("credit"))
            )
        self.assertEqual(
            (netting.move_a_id.company_id, netting.move_b_id.company_id), (self.eu, self.us)
        )
        eu_invoice = self.recharge_of(run, self.eu_us).invoice_id
        us_bill = self.recharge_of(run, self.eu_us).bill_id
        self.assertAlmostEqual(
            eu_invoice.amount_residual, 212.80, places=2, msg="one net amount to pay"
        )
        self.assertAlmostEqual(us_bill.amount_residual, 212.80, places=2)
        self.assertEqual(self.recharge_of(run, self.us_eu).invoice_id.payment_state, "paid")
        self.assertEqual(self.recharge_of(run, self.us_eu).bill_id.payment_state, "paid")
        recs = self.reconcile()
        eu_us = self.pair(recs, self.eu, self.us)
        self.assertEqual(eu_us.state, "tied", "netting entries match across the companies")
        self.assertEqual(len(eu_us.line_ids.filtered(lambda line: line.kind == "netting")), 2)

    def test_each_kind_of_difference_is_detected(self):
        self.eu_us.mirror_auto_post = False
        # Missing mirror: the receiver does not take intercompany invoices.
        self.us.intercompany_invoicing = False
        missing = self.invoice(self.eu, self.us, 100.0)
        # Amount and currency: bills keyed by hand with the invoice number.
        amount_invoice = self.invoice(self.eu, self.us, 300.0)
        currency_invoice = self.invoice(self.eu, self.us, 400.0)
        for source, amount, currency in (
            (amount_invoice, 310.0, self.usd),
            (currency_invoice, 400.0, self.eur),
        ):
            bill = (
                self.env["account.move"]
                .with_company(self.us)
                .create(
                    {
                        "move_type": "in_invoice",
                        "partner_id": self.eu.partner_id.id,
                        "invoice_date": D(2026, 3, 16),
                        "ref": source.name,
                        "currency_id": currency.id,
                        "fiscal_position_id": self.fp_purchase[self.us].id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": self.service.id,
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "account_id": self.accounts[self.us]["cost"].id,
                                }
                            )
                        ],
                    }
                )
            )
            bill.action_post()
        self.us.intercompany_invoicing = True
        # Draft on one side, a non-intercompany account, another period.
        draft = self.invoice(self.eu, self.us, 200.0)
        coded = self.invoice(self.eu, self.us, 500.0)
        bill = self.mirror(coded)
        bill.invoice_line_ids.account_id = self.accounts[self.us]["other_expense"]
        bill.action_post()
        late = self.invoice(self.eu, self.us, 600.0)
        bill = self.mirror(late)
        bill.write({"invoice_date": D(2026, 4, 2), "date": D(2026, 4, 2)})
        bill.action_post()
        # Taxes: the receiver's position dropped, its purchase tax applies on the mirror.
        self.eu_us.write({"receiver_fiscal_position_id": False, "mirror_auto_post": True})
        taxed = self.invoice(self.eu, self.us, 700.0)
        self.mirror(taxed).action_post()
        self.eu_us.receiver_fiscal_position_id = self.fp_purchase[self.us]
        # A payment recorded by the provider only.
        paid = self.invoice(self.eu, self.us, 800.0)
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=paid.ids)
            .create({"payment_date": D(2026, 3, 25)})
            ._create_payments()
        )
        # FX revaluation of the US payable to the UK (GBP) in the US books only.
        self.log(self.uma, self.us_project, 6.0, D(2026, 3, 5))
        self.recharge_of(self.run_recharge(), self.uk_us).action_post()
        revaluation = (
            self.env["account.move"]
            .with_company(self.us)
            .create(
                {
                    "move_type": "entry",
                    "date": D(2026, 3, 31),
                    "journal_id": self.us.currency_exchange_journal_id.id,
                    "line_ids": [
                        Command.create(
                            {
                                "name": "Revaluation of the GBP payable",
                                "account_id": self.accounts[self.us]["payable"].id,
                                "partner_id": self.uk.partner_id.id,
                                "currency_id": self.gbp.id,
                                "amount_currency": 0.0,
                                "balance": -12.40,
                            }
                        ),
                        Command.create(
                            {
                                "name": "Exchange loss",
                                "account_id": self.us.expense_currency_exchange_account_id.id,
                                "balance": 12.40,
                            }
                        ),
                    ],
                }
            )
        )
        revaluation.action_post()

        recs = self.reconcile()
        eu_us = self.pair(recs, self.eu, self.us)
        reasons = {
            line.provider_ref or line.receiver_ref: line.reason
            for line in eu_us.line_ids
            if line.line_type == "document" and line.status == "difference"
        }
        self.assertEqual(
            reasons,
            {
                missing.name: "missing_mirror",
                amount_invoice.name: "amount",
                currency_invoice.name: "currency",
                draft.name: "draft",
                coded.name: "account",
                late.name: "timing",
                taxed.name: "tax",
                payment.move_id.name: "payment",
            },
        )
        one_sided = eu_us.line_ids.filtered(lambda line: line.reason == "payment")
        self.assertEqual(one_sided.provider_move_id, payment.move_id)
        self.assertEqual(eu_us.state, "differences")
        uk_us = self.pair(recs, self.uk, self.us)
        fx = uk_us.line_ids.filtered(lambda line: line.status == "difference")
        self.assertEqual(fx.mapped("reason"), ["fx_revaluation"])
        self.assertAlmostEqual(fx.receiver_company_amount, 12.40, places=2)
        self.assertAlmostEqual(uk_us.group_difference, -12.40, places=2)
        # Explaining the difference makes the pair 'explained' and the text survives a refresh.
        fx.explanation = "Month-end revaluation of the GBP payable in the US books."
        self.assertEqual(uk_us.state, "explained")
        uk_us.action_refresh()
        self.assertEqual(uk_us.state, "explained")
        self.assertIn("revaluation", uk_us.line_ids.filtered("explanation").explanation)

    def test_netting_without_mutual_balances_is_refused_clearly(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        self.run_recharge().action_post_invoices()
        with self.assertRaisesRegex(Exception, "do not owe each other"):
            self.env["ps.ic.netting"]._propose(self.eu, self.us, self.usd, D(2026, 3, 31))
