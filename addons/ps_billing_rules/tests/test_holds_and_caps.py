from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import BillingCase, TimeAndMaterialsCase

OCT_END = date(2026, 10, 31)


@tagged("post_install", "-at_install")
class TestHolds(TimeAndMaterialsCase):
    def setUp(self):
        super().setUp()
        self.project = self.order.project_id
        self.task = self.env["project.task"].create(
            {"name": "Data migration", "project_id": self.project.id}
        )
        self.ts = self.log(self.ben, 5, date(2026, 10, 6), self.line, task_id=self.task.id)

    def hold(self, scope, **target):
        return (
            self.env["ps.billing.hold"]
            .with_user(self.billing_user)
            .create({"scope": scope, "reason": f"{scope} on hold: disputed", **target})
        )

    def assert_held(self, hold, scope_word):
        run = self.bill(self.order, OCT_END)
        self.assertFalse(run.invoice_ids, f"nothing is billed under a {scope_word} hold")
        held = self.skipped(run, "held")
        self.assertIn(f"held ({scope_word}", held.detail, "the report says which hold and why")
        self.assertIn("disputed", held.detail)
        prebill = self.env["ps.prebill"]._for_contract(self.order, OCT_END)
        self.assertEqual(
            prebill.line_ids.filtered(lambda item: item.kind == "timesheet").status, "held"
        )
        hold.with_user(self.billing_user).action_release()
        self.assertEqual(
            self.bill(self.order, OCT_END).invoice_ids.amount_untaxed,
            1000.0,
            "released: billed by the next run",
        )
        self.assertFalse(hold.active)
        self.assertEqual(hold.released_by_id, self.billing_user)

    def test_customer_hold(self):
        self.assert_held(self.hold("customer", partner_id=self.customer.id), "customer")

    def test_contract_hold(self):
        self.assert_held(self.hold("contract", sale_order_id=self.order.id), "contract")

    def test_project_hold(self):
        self.assert_held(self.hold("project", project_id=self.project.id), "project")

    def test_task_hold(self):
        self.assert_held(self.hold("task", task_id=self.task.id), "task")

    def test_single_line_hold_keeps_the_rest_billable(self):
        other = self.log(self.ben, 2, date(2026, 10, 7), self.line)
        self.hold("line", timesheet_id=self.ts.id)
        invoice = self.bill(self.order, OCT_END).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 400.0, "only the other line is billed")
        self.assertEqual((self.ts.ps_billing_state, other.ps_billing_state), ("unbilled", "billed"))

    def test_a_hold_needs_its_target(self):
        with self.assertRaises(ValidationError):
            self.hold("project")


@tagged("post_install", "-at_install")
class TestCaps(BillingCase):
    def test_cap_is_never_exceeded_and_the_excess_waits_for_approval(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})], ps_cap_amount=1500.0)
        line = order.order_line
        self.log(self.ben, 5, date(2026, 10, 5), line)  # 1000
        self.log(self.ben, 2, date(2026, 10, 6), line)  # 400
        self.log(self.ben, 3, date(2026, 10, 7), line)  # 600: would exceed
        self.log(self.cleo, 1, date(2026, 10, 8), line)  # 120: waits too (no cherry-picking)
        run = self.bill(order, OCT_END)
        self.assertEqual(run.invoice_ids.amount_untaxed, 1400.0)
        over = self.skipped(run, "over_cap")
        self.assertIn("would exceed the not-to-exceed amount", over.detail)
        activity = order.activity_ids.filtered(lambda a: "not-to-exceed" in (a.summary or ""))
        self.assertIn(
            self.billing_manager, activity.user_id, "Billing Managers are asked to approve"
        )
        self.assertNotIn(self.billing_user, activity.user_id, "not Billing Users")
        mine = activity.filtered(lambda a: a.user_id == self.billing_manager)
        self.assertIn("720.00", mine.note, "the activity says how much waits (600 + 120)")
        with self.assertRaises(UserError):
            order.with_user(self.billing_user).action_ps_approve_over_cap(620.0)
        order.with_user(self.billing_manager).action_ps_approve_over_cap(620.0)
        second = self.bill(order, OCT_END)
        self.assertEqual(second.invoice_ids.amount_untaxed, 720.0)
        self.assertEqual(order.ps_billed_amount, 2120.0)
        self.assertLessEqual(
            order.ps_billed_amount, order.ps_cap_amount + order.ps_cap_approved_excess
        )

    def test_credit_notes_free_room_under_the_cap(self):
        order = self.make_contract([(self.product_tm, 100, 150.0, "tm", {})], ps_cap_amount=1000.0)
        self.log(self.ben, 5, date(2026, 10, 5), order.order_line)
        self.assertEqual(order.ps_cap_remaining, 1000.0)
        invoice = self.bill(order, OCT_END).invoice_ids
        self.assertEqual(order.ps_cap_remaining, 0.0)
        invoice.button_cancel()
        self.assertEqual(order.ps_cap_remaining, 1000.0, "a cancelled invoice does not count")


@tagged("post_install", "-at_install")
class TestInstallmentsAndMilestones(BillingCase):
    def test_fixed_fee_installments_by_date_on_deferred_revenue(self):
        order = self.make_contract(
            [
                (
                    self.product_fixed,
                    1,
                    10000.0,
                    "fixed_fee",
                    {
                        "ps_service_start": date(2026, 9, 1),
                        "ps_service_end": date(2026, 12, 31),
                        "ps_installment_ids": [
                            Command.create(
                                {"name": "Kick-off", "date": date(2026, 9, 1), "percentage": 30}
                            ),
                            Command.create(
                                {"name": "Design", "date": date(2026, 10, 15), "percentage": 30}
                            ),
                            Command.create(
                                {"name": "Go-live", "date": date(2026, 12, 1), "percentage": 40}
                            ),
                        ],
                    },
                )
            ]
        )
        line = order.order_line
        first = self.bill(order, OCT_END).invoice_ids
        self.assertEqual(first.amount_untaxed, 6000.0, "two installments are due by 31 October")
        self.assertEqual(first.amount_tax, 900.0)
        self.assertEqual(
            set(first.invoice_line_ids.account_id),
            {self.deferred_account},
            "fixed-fee invoices post to deferred revenue",
        )
        self.assertAlmostEqual(line.qty_invoiced, 0.6)
        last = self.bill(order, date(2026, 12, 31)).invoice_ids
        self.assertEqual(last.amount_untaxed, 4000.0)
        self.assertEqual(line.qty_invoiced, 1.0, "the last installment completes the line exactly")
        self.assertEqual(line.invoice_status, "invoiced")

    def test_installments_cannot_exceed_100_percent(self):
        with self.assertRaises(ValidationError):
            self.make_contract(
                [
                    (
                        self.product_fixed,
                        1,
                        1000.0,
                        "fixed_fee",
                        {
                            "ps_service_start": date(2026, 9, 1),
                            "ps_service_end": date(2026, 9, 30),
                            "ps_installment_ids": [
                                Command.create(
                                    {"name": "A", "date": date(2026, 9, 1), "percentage": 60}
                                ),
                                Command.create(
                                    {"name": "B", "date": date(2026, 9, 2), "percentage": 50}
                                ),
                            ],
                        },
                    )
                ]
            )

    def test_reached_milestones_are_billed_at_their_share(self):
        order = self.make_contract([(self.product_milestone, 1, 20000.0, "milestone", {})])
        line = order.order_line
        project = order.project_id
        project.milestone_ids.unlink()
        design, build, launch = self.env["project.milestone"].create(
            [
                {
                    "name": "Design",
                    "project_id": project.id,
                    "sale_line_id": line.id,
                    "quantity_percentage": 0.25,
                },
                {
                    "name": "Build",
                    "project_id": project.id,
                    "sale_line_id": line.id,
                    "quantity_percentage": 0.5,
                },
                {
                    "name": "Launch",
                    "project_id": project.id,
                    "sale_line_id": line.id,
                    "quantity_percentage": 0.25,
                },
            ]
        )
        self.assertFalse(self.bill(order, OCT_END).invoice_ids, "nothing reached yet")
        design.write({"is_reached": True})
        design.reached_date = date(2026, 10, 10)
        invoice = self.bill(order, OCT_END).invoice_ids
        self.assertEqual(invoice.amount_untaxed, 5000.0)
        self.assertNotEqual(
            set(invoice.invoice_line_ids.account_id),
            {self.deferred_account},
            "milestone invoices post to revenue",
        )
        self.assertEqual(design.ps_billing_state, "billed")
        with self.assertRaises(UserError):
            design.is_reached = False
        (build | launch).write({"is_reached": True})
        (build | launch).write({"reached_date": date(2026, 11, 20)})
        self.assertEqual(self.bill(order, date(2026, 11, 30)).invoice_ids.amount_untaxed, 15000.0)
        self.assertEqual(line.qty_invoiced, 1.0)


@tagged("post_install", "-at_install")
class TestRetainers(BillingCase):
    def test_fee_in_advance_overage_in_arrears_to_the_cent(self):
        order = self.retainer()
        line = order.order_line
        august = self.bill(order, date(2026, 8, 31)).invoice_ids
        self.assertEqual(
            august.amount_untaxed, 3000.0, "the month-end run bills September's fee in advance"
        )
        self.assertEqual(set(august.invoice_line_ids.account_id), {self.deferred_account})
        self.log(self.ben, 16, date(2026, 9, 10), line)
        self.log(self.cleo, 10, date(2026, 9, 20), line)
        september = self.bill(order, date(2026, 9, 30)).invoice_ids
        lines = {("overage" in inv_line.name): inv_line for inv_line in september.invoice_line_ids}
        self.assertEqual(lines[False].price_subtotal, 3000.0, "October's fee, in advance")
        self.assertEqual(
            (lines[True].quantity, lines[True].price_unit),
            (6.0, 180.0),
            "26 h used, 20 h included: 6 h of overage in arrears",
        )
        self.assertEqual(september.amount_untaxed, 4080.0)
        self.assertEqual(september.amount_tax, 612.0)
        period = line.ps_retainer_period_ids.filtered(lambda p: p.date_start == date(2026, 9, 1))
        self.assertEqual((period.state, period.consumed, period.overage), ("closed", 26.0, 6.0))
        self.assertEqual(
            period.ledger_ids.mapped("kind"),
            ["included", "consumption", "overage"],
            "the ledger shows every movement",
        )
        self.assertEqual(
            line.qty_invoiced, 2.0, "the retainer line counts periods; overage is not on it"
        )
        consumed = self.env["account.analytic.line"].search([("so_line", "=", line.id)])
        self.assertEqual(
            set(consumed.mapped("ps_billing_state")), {"billed"}, "covered time is locked"
        )
        self.assertFalse(self.bill(order, date(2026, 9, 30)).invoice_ids, "nothing twice")

    def test_capped_rollover_then_expiry_without_rollover(self):
        order = self.retainer(ps_rollover_rule="capped", ps_rollover_cap=8)
        line = order.order_line
        self.log(self.ben, 5, date(2026, 9, 10), line)
        self.bill(order, date(2026, 9, 30))
        sept = line.ps_retainer_period_ids.filtered(lambda p: p.date_start == date(2026, 9, 1))
        self.assertEqual(
            (sept.rolled_out, sept.expired), (8.0, 7.0), "15 unused, 8 roll over (cap)"
        )
        self.log(self.ben, 25, date(2026, 10, 10), line)
        invoice = self.bill(order, OCT_END).invoice_ids
        october = line.ps_retainer_period_ids.filtered(lambda p: p.date_start == date(2026, 10, 1))
        self.assertEqual(october.rolled_in, 8.0)
        self.assertEqual(october.overage, 0.0, "25 h used: 8 rolled + 17 of the 20 included")
        self.assertNotIn("overage", " ".join(invoice.invoice_line_ids.mapped("name")))

    def test_true_up_without_overage_rate_is_reported(self):
        order = self.retainer(ps_overage_rate=0.0)
        self.log(self.ben, 25, date(2026, 9, 10), order.order_line)
        run = self.bill(order, OCT_END)
        self.assertIn("no overage rate", self.skipped(run, "no_rate").detail)

    def test_no_deferred_revenue_account_means_no_fixed_fee_billing(self):
        self.company.ps_deferred_revenue_account_id = False
        order = self.make_contract(
            [
                (
                    self.product_fixed,
                    1,
                    1000.0,
                    "fixed_fee",
                    {
                        "ps_service_start": date(2026, 10, 1),
                        "ps_service_end": date(2026, 10, 31),
                        "ps_installment_ids": [
                            Command.create(
                                {"name": "All", "date": date(2026, 10, 1), "percentage": 100}
                            )
                        ],
                    },
                )
            ]
        )
        run = self.bill(order, OCT_END)
        self.assertFalse(run.invoice_ids, "never posted to revenue by default")
        self.assertIn("deferred revenue account", self.skipped(run, "configuration").detail)
