from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import TimeAndMaterialsCase


@tagged("post_install", "-at_install")
class TestTimeAndMaterials(TimeAndMaterialsCase):
    def test_approved_time_becomes_a_draft_invoice_to_the_cent(self):
        self.log(self.ada, 2.5, date(2026, 10, 5), self.line)
        self.log(self.ben, 7.5, date(2026, 10, 6), self.line)
        self.log(self.ben, 4.0, date(2026, 10, 20), self.line)
        self.log(self.cleo, 8.0, date(2026, 10, 21), self.line)
        draft = self.log(self.cleo, 3.0, date(2026, 10, 22), self.line, approved=False)
        run = self.bill(self.order, date(2026, 10, 31))
        invoice = run.invoice_ids
        self.assertEqual(len(invoice), 1, "one invoice for the contract")
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.ref, "PO-4711", "the customer's PO reference is on the invoice")
        self.assertEqual(invoice.invoice_date, date(2026, 10, 31))
        by_role = {line.name.split(":")[0]: line for line in invoice.invoice_line_ids}
        self.assertEqual(
            set(by_role), {"Partner", "Senior Consultant", "Analyst"}, "one line per role"
        )
        self.assertEqual((by_role["Partner"].quantity, by_role["Partner"].price_unit), (2.5, 300.0))
        self.assertEqual(
            (by_role["Senior Consultant"].quantity, by_role["Senior Consultant"].price_unit),
            (11.5, 200.0),
        )
        self.assertEqual((by_role["Analyst"].quantity, by_role["Analyst"].price_unit), (8.0, 120.0))
        # 750 + 2300 + 960 = 4010.00 untaxed, 15 % VAT = 601.50
        self.assertEqual(invoice.amount_untaxed, 4010.00)
        self.assertEqual(invoice.amount_tax, 601.50)
        self.assertEqual(invoice.amount_total, 4611.50)
        self.assertEqual(
            self.line.qty_invoiced, 22.0, "Odoo's invoiced quantity counts the billed hours"
        )
        self.assertEqual(
            self.line.qty_delivered, 22.0, "delivered counts approved time only (not the 3 h draft)"
        )
        billed = self.env["account.analytic.line"].search(
            [("so_line", "=", self.line.id), ("ps_billing_state", "=", "billed")]
        )
        self.assertEqual(len(billed), 4)
        self.assertEqual(
            set(billed.mapped("timesheet_invoice_id")), {invoice}, "Odoo's own link is set"
        )
        self.assertEqual(set(billed.mapped("ps_invoice_id")), {invoice})
        self.assertEqual(round(sum(billed.mapped("ps_billed_amount")), 2), 4010.00)
        self.assertEqual(draft.ps_billing_state, "unbilled")
        not_approved = self.skipped(run, "not_approved")
        self.assertEqual(len(not_approved), 1, "the draft hours are reported as not approved")
        self.assertIn("not approved", not_approved.detail)

    def test_running_the_same_run_again_bills_nothing_twice(self):
        self.log(self.ben, 5, date(2026, 10, 6), self.line)
        first = self.bill(self.order, date(2026, 10, 31))
        second = self.bill(self.order, date(2026, 10, 31))
        self.assertEqual(len(first.invoice_ids), 1)
        self.assertFalse(second.invoice_ids, "nothing is billed twice")
        self.assertEqual(self.line.qty_invoiced, 5.0)

    def test_monthly_cycle_bills_whole_months_only(self):
        self.log(self.ben, 5, date(2026, 10, 6), self.line)
        self.log(self.ben, 3, date(2026, 11, 4), self.line)
        run = self.bill(self.order, date(2026, 11, 20))
        self.assertEqual(
            run.invoice_ids.amount_untaxed, 1000.0, "only October: November is not over"
        )

    def test_weekly_cycle(self):
        self.order.ps_billing_cycle = "weekly"
        self.log(self.ben, 5, date(2026, 11, 16), self.line)  # Monday
        self.log(self.ben, 3, date(2026, 11, 23), self.line)  # next Monday
        run = self.bill(self.order, date(2026, 11, 25))
        self.assertEqual(run.invoice_ids.invoice_line_ids.quantity, 5.0, "up to Sunday 22 November")

    def test_entry_detail_gives_one_line_per_timesheet(self):
        self.order.ps_invoice_detail = "entry"
        self.log(self.ben, 5, date(2026, 10, 6), self.line, name="Workshop")
        self.log(self.ben, 3, date(2026, 10, 7), self.line, name="Report")
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(len(invoice.invoice_line_ids), 2)
        self.assertIn("Workshop", invoice.invoice_line_ids.sorted("sequence")[0].name)

    def test_invoice_pdf_can_show_the_timesheet_detail(self):
        self.order.ps_timesheet_detail = True
        self.log(self.ben, 5, date(2026, 10, 6), self.line, name="Steering committee")
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn("Time billed on this invoice", html)
        self.assertIn("Steering committee", html)
        self.order.ps_timesheet_detail = False
        invoice.invalidate_recordset(["ps_show_timesheets"])
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertNotIn("Time billed on this invoice", html)

    def test_billed_time_cannot_be_edited_or_deleted(self):
        ts = self.log(self.ben, 5, date(2026, 10, 6), self.line)
        self.bill(self.order, date(2026, 10, 31))
        with self.assertRaises(UserError):
            ts.unit_amount = 6
        with self.assertRaises(UserError):
            ts.unlink()

    def test_cancelled_draft_releases_its_time(self):
        ts = self.log(self.ben, 5, date(2026, 10, 6), self.line)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        invoice.button_cancel()
        self.assertEqual(ts.ps_billing_state, "unbilled")
        self.assertFalse(ts.timesheet_invoice_id)
        again = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        self.assertEqual(again.amount_untaxed, 1000.0, "released time is billed by the next run")

    def test_deleted_draft_releases_its_time(self):
        ts = self.log(self.ben, 5, date(2026, 10, 6), self.line)
        self.bill(self.order, date(2026, 10, 31)).invoice_ids.unlink()
        self.assertEqual(ts.ps_billing_state, "unbilled")

    def test_full_credit_note_returns_time_to_review_not_to_the_next_run(self):
        ts = self.log(self.ben, 5, date(2026, 10, 6), self.line)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        invoice.action_post()
        refund = self.reverse(invoice, reason="wrong rates")
        self.assertEqual(refund, invoice.reversal_move_ids, "Odoo's wizard made a draft credit")
        self.assertEqual(ts.ps_billing_state, "billed", "a draft credit note changes nothing")
        refund.action_post()
        self.assertEqual(ts.ps_billing_state, "review")
        run = self.bill(self.order, date(2026, 10, 31))
        self.assertFalse(run.invoice_ids, "a credited item is not billed again without a review")
        self.assertTrue(self.skipped(run, "in_review"), "the run says where it is")
        prebill = self.env["ps.prebill"]._for_contract(self.order, date(2026, 10, 31))
        self.assertTrue(prebill.line_ids.filtered("returned"), "the review shows it as credited")
        prebill.with_user(self.billing_user).action_generate_invoice()
        self.assertEqual(prebill.invoice_id.amount_untaxed, 1000.0)
        self.assertEqual(ts.ps_billing_state, "billed")

    def test_partial_credit_note_keeps_time_billed_as_a_write_down(self):
        ts = self.log(self.ben, 5, date(2026, 10, 6), self.line)
        invoice = self.bill(self.order, date(2026, 10, 31)).invoice_ids
        invoice.action_post()
        self.partial_credit(invoice, 100.0)
        self.assertEqual(ts.ps_billing_state, "billed")
        self.assertEqual(ts.ps_billed_amount, 900.0, "the credit counts as a write-down")
        self.assertEqual(ts.ps_standard_amount, 1000.0)


@tagged("post_install", "-at_install")
class TestRatesAndApproval(TimeAndMaterialsCase):
    def test_rate_in_force_on_the_day_of_the_work_is_stored_with_its_source(self):
        self.company_card.line_ids.filtered(
            lambda item: item.job_id == self.job_senior
        ).date_to = date(2026, 10, 15)
        self.company_card.line_ids = [
            Command.create(
                {"job_id": self.job_senior.id, "rate": 220.0, "date_from": date(2026, 10, 16)}
            )
        ]
        before = self.log(self.ben, 1, date(2026, 10, 15), self.line)
        after = self.log(self.ben, 1, date(2026, 10, 16), self.line)
        self.assertEqual((before.ps_rate, after.ps_rate), (200.0, 220.0))
        self.assertIn("company card Standard 2026 / role rate", after.ps_rate_source)
        self.assertIn("from 2026-10-16", after.ps_rate_source)

    def test_most_specific_card_and_line_win(self):
        customer_card = self.env["ps.rate.card"].create(
            {
                "name": "Initech rates",
                "level": "customer",
                "partner_id": self.customer.id,
                "line_ids": [Command.create({"job_id": self.job_senior.id, "rate": 180.0})],
            }
        )
        self.assertEqual(self.log(self.ben, 1, date(2026, 10, 1), self.line).ps_rate, 180.0)
        self.env["ps.rate.card"].create(
            {
                "name": "Deal rates",
                "level": "contract",
                "sale_order_id": self.order.id,
                "line_ids": [Command.create({"employee_id": self.ben.id, "rate": 170.0})],
            }
        )
        ts = self.log(self.ben, 1, date(2026, 10, 2), self.line)
        self.assertEqual(ts.ps_rate, 170.0, "a contract card with an employee line wins")
        self.assertIn("contract card Deal rates / employee rate", ts.ps_rate_source)
        self.assertEqual(
            self.log(self.cleo, 1, date(2026, 10, 2), self.line).ps_rate,
            120.0,
            "no line for Cleo on the contract or customer card: the company card applies",
        )
        other = self.make_contract([(self.product_tm, 10, 150.0, "tm", {})])
        ben_elsewhere = self.log(self.ben, 1, date(2026, 10, 2), other.order_line)
        self.assertEqual(
            (ben_elsewhere.ps_rate, ben_elsewhere.ps_rate_line_id.card_id),
            (180.0, customer_card),
            "another contract of the customer, without its own card: the customer card applies",
        )

    def test_a_later_card_change_does_not_revalue_history_until_rerated(self):
        ts = self.log(self.ben, 2, date(2026, 10, 1), self.line)
        billed = self.log(self.ada, 1, date(2026, 9, 1), self.line)
        self.bill(self.order, date(2026, 9, 30))
        self.company_card.line_ids.write({"rate": 999.0})
        self.assertEqual(ts.ps_rate, 200.0, "the stored rate stays")
        self.order.with_user(self.billing_manager).action_ps_rerate_unbilled()
        self.assertEqual(ts.ps_rate, 999.0, "re-rate applies the new card to unbilled time")
        self.assertEqual(billed.ps_rate, 300.0, "billed time keeps its rate")
        self.assertIn("Re-rated 1 unbilled timesheet line", self.order.message_ids[0].body)

    def test_contract_line_price_is_the_rate_when_no_card_applies(self):
        self.company_card.active = False
        self.company_card.line_ids.unlink()
        ts = self.log(self.ben, 2, date(2026, 10, 1), self.line)
        self.assertEqual(ts.ps_rate, 150.0)
        self.assertEqual(ts.ps_rate_source, "contract line price")

    def test_no_rate_at_all_is_skipped_with_the_reason(self):
        self.company_card.line_ids.unlink()
        self.line.price_unit = 0.0
        self.log(self.ben, 2, date(2026, 10, 1), self.line)
        run = self.bill(self.order, date(2026, 10, 31))
        self.assertFalse(run.invoice_ids)
        self.assertIn("no rate", self.skipped(run, "no_rate").detail)

    def test_cost_rate_history_gives_the_cost_of_the_day(self):
        self.env["ps.cost.rate"].create(
            [
                {"employee_id": self.ben.id, "date_from": date(2026, 1, 1), "cost": 55.0},
                {"employee_id": self.ben.id, "date_from": date(2026, 10, 10), "cost": 65.0},
            ]
        )
        early = self.log(self.ben, 2, date(2026, 10, 9), self.line)
        late = self.log(self.ben, 2, date(2026, 10, 10), self.line)
        self.assertEqual((early.ps_cost_rate, late.ps_cost_rate), (55.0, 65.0))
        self.assertEqual(late.ps_cost_amount, 130.0)

    def test_project_manager_approves_own_projects_only(self):
        pm = new_user = self.env["res.users"].create(
            {
                "name": "Pam PM",
                "login": "pam_pm",
                "groups_id": [Command.set([self.env.ref("project.group_project_manager").id])],
            }
        )
        other_pm = self.env["res.users"].create(
            {
                "name": "Otto PM",
                "login": "otto_pm",
                "groups_id": [Command.set([self.env.ref("project.group_project_manager").id])],
            }
        )
        self.order.project_id.user_id = pm
        ts = self.log(self.ben, 2, date(2026, 10, 1), self.line, approved=False)
        ts.action_ps_submit()
        with self.assertRaises(AccessError):
            ts.with_user(other_pm).action_ps_approve()
        ts.with_user(new_user).action_ps_approve()
        self.assertEqual((ts.ps_approval_state, ts.ps_approved_by_id), ("approved", pm))
        self.assertEqual(self.line.qty_delivered, 2.0)

    def test_editing_approved_time_sends_it_back_for_approval(self):
        ts = self.log(self.ben, 2, date(2026, 10, 1), self.line)
        pm = self.env["res.users"].create(
            {
                "name": "Pam PM",
                "login": "pam_pm2",
                "groups_id": [
                    Command.set([self.env.ref("hr_timesheet.group_hr_timesheet_approver").id])
                ],
            }
        )
        ts.with_user(pm).unit_amount = 3
        self.assertEqual(ts.ps_approval_state, "submitted")
        self.assertEqual(self.line.qty_delivered, 0.0, "not delivered until approved again")

    def test_time_imported_as_approved_arrives_approved(self):
        ts = self.env["account.analytic.line"].create(
            {
                "name": "Imported",
                "employee_id": self.ben.id,
                "unit_amount": 1,
                "date": date(2026, 10, 1),
                "project_id": self.order.project_id.id,
                "so_line": self.line.id,
                "ps_approval_state": "approved",
            }
        )
        self.assertEqual(ts.ps_approval_state, "approved")
        self.assertEqual(self.line.qty_delivered, 1.0)

    def test_time_existing_at_install_is_approved_and_odoo_invoiced_time_stays_billed(self):
        pending = self.log(self.ben, 2, date(2026, 10, 1), self.line, approved=False)
        invoiced = self.log(self.ada, 1, date(2026, 10, 2), self.line, approved=False)
        invoice = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": self.order.partner_id.id}
        )
        # State before the addon existed: draft time, one line already invoiced by Odoo itself.
        self.env.cr.execute(
            "UPDATE account_analytic_line SET ps_approval_state = 'draft', timesheet_invoice_id = %s"
            " WHERE id = %s",
            (invoice.id, invoiced.id),
        )
        self.env["account.analytic.line"].invalidate_model()
        from odoo.addons.ps_billing_rules import post_init_hook

        post_init_hook(self.env)
        self.env["account.analytic.line"].invalidate_model()
        self.assertEqual(pending.ps_approval_state, "approved")
        self.assertEqual(pending.ps_billing_state, "unbilled", "approved time stays billable")
        self.assertEqual(invoiced.ps_approval_state, "approved")
        self.assertEqual(invoiced.ps_billing_state, "billed", "Odoo already invoiced it")
