from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..engine import grouping
from ..engine.corrections import Entry
from ..models.ps_ic_recharge_engine import Meta, Row
from .common import APRIL, MARCH, D, IntercompanyCase


@tagged("post_install", "-at_install")
class TestRechargeRuns(IntercompanyCase):
    """Each item recharged once, re-runs recharge nothing, corrections become adjustment lines
    of a later run, posted documents are never modified, skipped work says why."""

    def test_each_item_once_and_rerun_recharges_nothing(self):
        lines = self.log(self.eva, self.us_project, 7.5, D(2026, 3, 10)) | self.log(
            self.eva, self.us_project_2, 2.0, D(2026, 3, 11)
        )
        first = self.run_recharge()
        recharge = self.recharge_of(first, self.eu_us)
        self.assertEqual(len(recharge.line_ids), 2, "one line per project and employee")
        self.assertTrue(all(lines.mapped("ps_ic_recharged")))
        self.assertEqual(
            recharge.sudo().entry_ids.timesheet_id,
            lines,
            "each timesheet line is linked to its recharge line",
        )
        second = self.run_recharge()
        self.assertFalse(second.recharge_ids, "running the period again recharges nothing")
        self.assertEqual(second.state, "done")
        self.assertEqual(
            self.env["ps.ic.recharge.entry"].search_count([("timesheet_id", "in", lines.ids)]), 2
        )

    def test_an_archived_agreement_still_covers_its_days(self):
        """Archiving an agreement that recharged work, then creating another for the same
        companies and days, would recharge that work a second time: refused."""
        self.log(self.eva, self.us_project, 3.0, D(2026, 3, 10))
        self.run_recharge()
        self.eu_us.active = False
        with self.assertRaisesRegex(ValidationError, "on the same days"):
            self._agreement(self.eu, self.us, "EU to US, again", currency_id=self.usd.id)

    def test_the_database_refuses_a_second_charge(self):
        line = self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        run = self.run_recharge()
        engine = self.env["ps.ic.recharge.engine"]
        row = Row(
            grouping.CHARGE,
            line._name,
            line.id,
            "time",
            Entry("hourly", 1, 95.04),
            1.0,
            Meta("again", line.date, self.eva.id, self.senior.id, self.us_project.id),
        )
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.IntegrityError),
            self.env.cr.savepoint(),
        ):
            engine._insert_entries(self.eu_us, run, self.env["ps.ic.recharge"], [row], {})

    def test_corrections_become_adjustments_and_posted_invoices_stay(self):
        edited = self.log(self.eva, self.us_project, 8.0, D(2026, 3, 10))
        deleted = self.log(self.eva, self.us_project, 2.0, D(2026, 3, 11))
        rerated = self.log(self.ana, self.us_project, 10.0, D(2026, 3, 12))
        moved = self.log(self.eva, self.us_project, 1.0, D(2026, 3, 13))
        first = self.run_recharge()
        invoice = self.recharge_of(first, self.eu_us).invoice_id
        invoice.action_post()
        posted_total, posted_written = invoice.amount_total, invoice.write_date
        edited.unit_amount = 6.0  # -2 h at 95.04
        deleted.unlink()  # -2 h at 95.04
        moved.project_id = self.us_project_2  # -1 h on the first project, +1 h on the second
        # A retroactive cost correction (60.00 from March 1) re-rates Ana's time: 60 x 1.075 x 1.08
        self.env["ps.cost.rate"].create(
            {
                "employee_id": self.ana.id,
                "company_id": self.eu.id,
                "date_from": D(2026, 3, 1),
                "cost": 60.0,
            }
        )
        rerated._ps_assign_rates()
        late = self.log(self.eva, self.us_project, 3.0, D(2026, 3, 30))  # new March work, late
        second = self.run_recharge(period=APRIL)
        recharge = self.recharge_of(second, self.eu_us)
        lines = {
            (line.kind, line.project_id.name, line.employee_id.name, line.price_unit): line.quantity
            for line in recharge.line_ids
        }
        self.assertEqual(
            lines,
            {
                ("adjustment", "US client project", "Eva EU Senior", 95.04): -5.0,
                ("adjustment", "US second project", "Eva EU Senior", 95.04): 1.0,
                ("adjustment", "US client project", "Ana EU Analyst", 71.25): -10.0,
                ("adjustment", "US client project", "Ana EU Analyst", 69.66): 10.0,
                ("charge", "US client project", "Eva EU Senior", 95.04): 3.0,
            },
        )
        self.assertTrue(
            all(
                line.name.startswith("Adjustment")
                for line in recharge.line_ids
                if line.kind == "adjustment"
            )
        )
        # -5 h x 95.04 + 1 h x 95.04 - 712.50 + 696.60 + 3 h x 95.04 = -110.94
        self.assertEqual(
            recharge.invoice_id.move_type, "out_refund", "a negative correction is a credit note"
        )
        self.assertAlmostEqual(recharge.invoice_id.amount_untaxed, 110.94, places=2)
        self.assertEqual(invoice.amount_total, posted_total, "the posted invoice was not modified")
        self.assertEqual(invoice.write_date, posted_written)
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(self.run_recharge(period=APRIL).recharge_ids, "corrections are made once")
        self.assertTrue(late.ps_ic_recharged)

    def test_edited_time_waits_for_approval_and_drafts_release_their_work(self):
        line = self.log(self.eva, self.us_project, 4.0, D(2026, 3, 10))
        first = self.run_recharge()
        line.write({"unit_amount": 5.0, "ps_approval_state": "submitted"})
        second = self.run_recharge(period=APRIL)
        self.assertFalse(second.recharge_ids)
        self.assertEqual(self.skipped(second, "changed_unapproved").item_count, 1)
        line.action_ps_approve()
        third = self.run_recharge(period=APRIL)
        self.assertEqual(
            self.recharge_of(third, self.eu_us).line_ids.quantity, 1.0, "+1 h once approved"
        )
        # Deleting a draft invoice frees its items: the next run recharges them again.
        draft = self.recharge_of(third, self.eu_us).invoice_id
        draft.unlink()
        self.assertEqual(
            self.recharge_of(self.run_recharge(period=APRIL), self.eu_us).line_ids.quantity, 1.0
        )
        cancelled = self.recharge_of(first, self.eu_us).invoice_id
        cancelled.button_cancel()
        fourth = self.run_recharge(period=APRIL)
        self.assertEqual(
            self.recharge_of(fourth, self.eu_us).line_ids.quantity, 4.0, "the cancelled draft's 4 h"
        )

    def test_skipped_work_is_reported_with_its_reason(self):
        self.log(self.nik, self.us_project, 3.0, D(2026, 3, 10))  # no cost rate
        self.log(self.eva, self.us_project, 2.0, D(2026, 3, 10), approved=False)
        self.log(self.uma, self.eu_project, 1.5, D(2026, 3, 10))  # no UK -> EU agreement
        self.log(self.eva, self.us_project, 1.0, D(2026, 4, 2))  # after the period
        run = self.run_recharge()
        self.assertFalse(run.recharge_ids)
        self.assertEqual(self.skipped(run, "no_cost_rate").employee_id, self.nik)
        self.assertEqual(self.skipped(run, "not_approved").hours, 2.0)
        uncovered = self.skipped(run, "no_agreement")
        self.assertEqual(
            (uncovered.provider_company_id, uncovered.receiver_company_id), (self.uk, self.eu)
        )
        self.assertIn("agreement", uncovered.detail)
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(run.step_count, 4, "one step for uncovered work, one per agreement")

    def test_expenses_pass_through_at_cost(self):
        category = self.env["product.product"].create(
            {
                "name": "Travel (test)",
                "can_be_expensed": True,
                "standard_price": 0.0,
                "supplier_taxes_id": [Command.clear()],
            }
        )
        expense = (
            self.env["hr.expense"]
            .with_company(self.eu)
            .create(
                {
                    "name": "Hotel for the US client",
                    "employee_id": self.eva.id,
                    "company_id": self.eu.id,
                    "product_id": category.id,
                    "total_amount_currency": 245.50,
                    "tax_ids": [Command.clear()],
                    "date": D(2026, 3, 12),
                    "ps_ic_project_id": self.us_project.id,
                }
            )
        )
        sheet = (
            self.env["hr.expense.sheet"]
            .with_company(self.eu)
            .create(
                {
                    "name": "March",
                    "employee_id": self.eva.id,
                    "company_id": self.eu.id,
                    "expense_line_ids": [Command.set(expense.ids)],
                }
            )
        )
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()
        self.assertEqual(expense.state, "approved")
        line = self.recharge_of(self.run_recharge(), self.eu_us).line_ids
        # 245.50 EUR at cost (no 10 % mark-up) x 1.08 = 265.14 USD
        self.assertEqual((line.item_kind, line.amount, line.quantity), ("expense", 265.14, 1.0))
        self.assertEqual(
            line.move_line_ids.filtered(lambda aml: aml.company_id == self.eu).product_id,
            self.expense_product,
        )
        self.assertTrue(expense.ps_ic_recharged)

    def test_queued_runs_progress_in_batches(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        self.log(self.uma, self.us_project, 1.0, D(2026, 3, 10))
        run = self.env["ps.ic.recharge.run"].create(
            {"name": "Queued", "date_from": MARCH[0], "date_to": MARCH[1], "invoice_date": MARCH[1]}
        )
        run.action_start()
        self.assertEqual(run.state, "queued")
        agreements = run.pending_steps[1:]
        self.assertIn(self.eu_us.id, agreements)
        done, remaining = run._process(time_budget=None, chunk_size=1)
        self.assertEqual((done, remaining), (run.step_count, 0))
        self.assertEqual(run.state, "done")
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(
            len(run.recharge_ids.filtered(lambda r: r.agreement_id in (self.eu_us | self.uk_us))), 2
        )

    def test_the_monthly_schedule_recharges_each_closed_period_once(self):
        Run = self.env["ps.ic.recharge.run"]
        Run._cron_schedule_runs()
        scheduled = Run.search([("origin", "=", "scheduled")])
        self.assertTrue(scheduled, "a run for the last closed month")
        self.assertIn(self.eu_us, scheduled.agreement_ids)
        self.assertEqual(scheduled.state, "queued")
        Run._cron_schedule_runs()
        self.assertEqual(Run.search([("origin", "=", "scheduled")]), scheduled, "once per period")
        Run._cron_process_runs(time_budget=None)
        self.assertEqual(scheduled.state, "done", "the processing cron works through it")

    def test_a_user_recharges_the_work_of_their_own_companies(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        self.log(self.sam, self.eu_project, 1.0, D(2026, 3, 10))
        us_controller = self.env["res.users"].create(
            {
                "name": "US controller",
                "login": "ic_us_controller",
                "email": "us.controller@example.com",
                "company_id": self.us.id,
                "company_ids": [Command.set(self.us.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("ps_intercompany.group_ic_user").id,
                            self.env.ref("account.group_account_manager").id,
                        ]
                    )
                ],
            }
        )
        wizard = (
            self.env["ps.ic.recharge.wizard"]
            .with_user(us_controller)
            .with_context(allowed_company_ids=self.us.ids)
            .create({"date_from": MARCH[0], "date_to": MARCH[1]})
        )
        run = self.env["ps.ic.recharge.run"].browse(wizard.action_start()["res_id"])
        self.assertEqual(
            run.recharge_ids.agreement_id,
            self.us_eu,
            "the US recharges its own people's work, not the EU's",
        )

    def test_one_agreement_failing_does_not_stop_the_others(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        self.log(self.uma, self.us_project, 1.0, D(2026, 3, 10))
        Recharge = type(self.env["ps.ic.recharge"])
        original = Recharge._invoice_values

        def broken(recharge, *args):
            if recharge.agreement_id == self.uk_us:
                raise UserError("UK ledger locked")
            return original(recharge, *args)

        with (
            patch.object(Recharge, "_invoice_values", broken),
            mute_logger("odoo.addons.ps_intercompany.models.ps_ic_recharge_run"),
        ):
            run = self.run_recharge()
        self.assertTrue(
            self.recharge_of(run, self.eu_us).invoice_id, "the EU recharge went through"
        )
        self.assertFalse(self.recharge_of(run, self.uk_us), "the failed one left nothing behind")
        error = run.line_ids.filtered(lambda line: line.line_type == "error")
        self.assertEqual((error.agreement_id, error.detail), (self.uk_us, "UK ledger locked"))
        self.assertFalse(
            self.env["ps.ic.recharge.entry"].search([("agreement_id", "=", self.uk_us.id)]),
            "and no ledger entry: the UK work is recharged by the next run",
        )

    def test_a_user_posts_the_invoices_of_their_own_companies(self):
        self.log(self.eva, self.us_project, 1.0, D(2026, 3, 10))
        self.log(self.uma, self.us_project, 1.0, D(2026, 3, 10))
        run = self.run_recharge()
        eu_invoice = self.recharge_of(run, self.eu_us).invoice_id
        uk_invoice = self.recharge_of(run, self.uk_us).invoice_id
        self.assertEqual((eu_invoice.state, uk_invoice.state), ("draft", "draft"))

        def controller(login, company):
            return new_test_user(
                self.env,
                login=login,
                groups="base.group_user,ps_intercompany.group_ic_user",
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        eu_user = controller("ic_eu_poster", self.eu)
        run.with_user(eu_user).with_context(allowed_company_ids=self.eu.ids).action_post_invoices()
        self.assertEqual(eu_invoice.state, "posted", "the EU controller posts the EU invoice")
        self.assertTrue(self.mirror(eu_invoice), "and OCA mirrors it in the US")
        self.assertEqual(
            uk_invoice.state, "draft", "the UK invoice is not theirs to post (it was, as sudo)"
        )
        us_user = controller("ic_us_poster", self.us)
        with self.assertRaisesRegex(UserError, "no draft invoice to post in the companies"):
            run.with_user(us_user).with_context(
                allowed_company_ids=self.us.ids
            ).action_post_invoices()
        self.assertEqual(uk_invoice.state, "draft")

    def test_a_locked_period_dates_both_sides_in_the_first_open_one(self):
        self.log(self.eva, self.us_project, 2.0, D(2026, 3, 10))
        self.us.purchase_lock_date = D(2026, 3, 31)  # the receiver has closed March
        run = self.run_recharge()
        invoice = self.recharge_of(run, self.eu_us).invoice_id
        self.assertEqual(
            (invoice.invoice_date, invoice.date),
            (D(2026, 4, 1), D(2026, 4, 1)),
            "dated on the first day open in both companies, not in the receiver's closed March",
        )
        note = run.line_ids.filtered(lambda line: line.line_type == "note")
        self.assertEqual(note.agreement_id, self.eu_us, "the run says why")
        self.assertIn("IC Test US locked until 2026-03-31", note.detail)
        self.assertEqual(run.skipped_count, 0, "nothing skipped: the work is recharged")
        run.action_post_invoices()
        bill = self.mirror(invoice)
        self.assertEqual(bill.state, "posted", "the mirror posts in the receiver's open period")
        self.assertEqual(
            (bill.date.year, bill.date.month), (2026, 4), "both sides land in the same period"
        )
        self.assertFalse(
            self.recharge_of(run, self.uk_us).invoice_id.filtered("date"),
            "no other agreement moved",
        )
