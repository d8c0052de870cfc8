"""Changes, un-approvals and deletions of PSA entries after import, for Harvest and Kantata:
unbilled lines follow the PSA (audited); billed lines are never touched, a correction item is
raised and a Billing User resolves it (adjustment billed by the next run, credit and bill again,
or keep with a reason), never into a locked period."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class CorrectionTests:
    def imported(self, user="ann", offset=2, hours=2.0, notes="Design"):
        entry = self.world.log(user, self.day(offset), hours, notes=notes)
        self.pull()
        line = self.line_of(entry)
        self.assertTrue(line)
        return entry, line

    def corrections(self, **filters):
        domain = [("backend_id", "=", self.backend.id)]
        domain += [(key, "=", value) for key, value in filters.items()]
        return self.env["connector.psa.correction"].search(domain)

    def resolve(self, items, resolution, reason=None):
        wizard = (
            self.env["connector.psa.correction.resolve"]
            .with_user(self.billing_user)
            .create({"correction_ids": items.ids, "resolution": resolution, "reason": reason})
        )
        wizard.action_confirm()

    def setUp(self):
        super().setUp()
        self.sync_people()

    def test_edit_before_billing_the_line_follows(self):
        entry, line = self.imported()
        self.world.edit(entry, hours=3.0, notes="Design and review")
        self.pull()
        self.assertEqual(line.unit_amount, 3.0, "an unbilled line follows the PSA")
        self.assertEqual(line.name, "Design and review")
        self.assertEqual(line.ps_approval_state, "approved", "still approved: the PSA approved it")
        self.assertFalse(self.corrections())
        audit = self.env["connector.audit.log"].search(
            [
                ("res_model", "=", "account.analytic.line"),
                ("res_id", "=", line.id),
                ("action", "=", "write"),
            ]
        )
        self.assertTrue(
            any('"unit_amount": [2.0, 3.0]' in (entry.changes or "") for entry in audit),
            "the change is audited with old and new values",
        )

    def test_edit_after_billing_raises_a_correction_then_the_next_run_bills_the_difference(self):
        entry, line = self.imported(hours=2.0)
        invoice = self.bill()
        self.assertEqual(line.ps_billing_state, "billed")
        self.assertEqual(line.ps_invoice_id, invoice)
        self.world.edit(entry, hours=3.5, notes="Design, extended")
        self.pull()
        self.pull()  # seen again: still one correction
        self.assertEqual(line.unit_amount, 2.0, "the billed line is not touched")
        self.assertEqual(line.name, "Design")
        item = self.corrections()
        self.assertEqual(len(item), 1)
        self.assertEqual(
            (item.kind, item.hours_old, item.hours_new, item.invoice_id, item.state),
            ("changed", 2.0, 3.5, invoice, "open"),
        )
        self.assertEqual(item.notes_new, "Design, extended")
        self.assertEqual(line.psa_sync_state, "correction")

        self.resolve(item, "adjust")
        adjustment = item.adjustment_line_ids
        self.assertEqual(len(adjustment), 1)
        self.assertEqual((adjustment.unit_amount, adjustment.so_line), (1.5, self.line))
        self.assertEqual(adjustment.ps_approval_state, "approved")
        self.assertEqual(adjustment.date, self.day(2), "the period is open: the work's day")
        self.assertEqual((item.state, item.resolution), ("resolved", "adjust"))
        self.assertEqual(item.resolved_by_id, self.billing_user)
        next_invoice = self.bill()
        self.assertEqual(adjustment.ps_invoice_id, next_invoice, "the next run bills it")
        self.assertAlmostEqual(next_invoice.amount_untaxed, 1.5 * 150.0)
        self.assertEqual(invoice.state, "draft")
        self.assertAlmostEqual(invoice.amount_untaxed, 2.0 * 150.0, msg="first invoice unchanged")
        self.pull()
        self.assertFalse(
            self.corrections(state="open"), "the accounted version is not raised again"
        )

    def test_unapproval_before_and_after_billing(self):
        billed_entry, billed = self.imported(offset=1)
        self.bill(period_end=self.day(3))
        entry, unbilled = self.imported(user="bob", offset=15)
        self.assertEqual(
            (billed.ps_billing_state, unbilled.ps_billing_state), ("billed", "unbilled")
        )
        self.world.unapprove(entry)
        self.world.unapprove(billed_entry)
        self.pull()
        self.assertNotEqual(
            unbilled.ps_approval_state, "approved", "unbilled: back to not billable"
        )
        self.assertEqual(unbilled.ps_billing_state, "unbilled")
        self.assertEqual(billed.ps_approval_state, "approved", "billed: not touched")
        item = self.corrections()
        self.assertEqual((item.kind, item.line_id), ("unapproved", billed))
        # Credit and bill again: the draft invoice is cancelled, the line follows the PSA.
        invoice = billed.ps_invoice_id
        self.resolve(item, "credit_rebill")
        self.assertEqual(invoice.state, "cancel")
        self.assertNotEqual(billed.ps_approval_state, "approved")
        self.assertEqual(billed.ps_billing_state, "unbilled")
        self.assertFalse(self.bill(), "nothing approved is left to bill")

    def test_credit_of_a_posted_invoice_then_billed_again(self):
        entry, line = self.imported(hours=4.0)
        invoice = self.bill()
        invoice.action_post()
        self.world.edit(entry, hours=3.0)
        self.pull()
        item = self.corrections()
        self.resolve(item, "credit_rebill")
        credit = item.credit_note_id
        self.assertEqual((credit.move_type, credit.state), ("out_refund", "posted"))
        self.assertEqual(credit.reversed_entry_id, invoice)
        self.assertEqual((line.unit_amount, line.ps_billing_state), (3.0, "unbilled"))
        again = self.bill()
        self.assertAlmostEqual(again.amount_untaxed, 3.0 * 150.0)

    def test_accept_needs_a_reason_and_never_alters_the_invoice(self):
        entry, line = self.imported(hours=2.0)
        invoice = self.bill()
        self.world.edit(entry, hours=2.5)
        self.pull()
        item = self.corrections()
        with self.assertRaises(UserError):
            self.resolve(item, "accept", reason=" ")
        self.resolve(item, "accept", reason="Agreed with the customer: capped at 2 h")
        self.assertEqual((item.state, item.resolution), ("resolved", "accept"))
        self.assertAlmostEqual(invoice.amount_untaxed, 300.0)
        self.assertEqual(line.unit_amount, 2.0)
        self.assertAlmostEqual(line.psa_quantity, 2.5, msg="the PSA's version is accounted for")
        self.pull()
        self.assertFalse(self.corrections(state="open"))

    def test_adjustment_never_in_a_locked_period(self):
        entry, _line = self.imported(offset=3, hours=2.0)
        invoice = self.bill()
        invoice.action_post()
        lock = self.month_start.replace(day=28)
        self.company.sudo().write({"sale_lock_date": lock})
        self.world.edit(entry, hours=1.0)
        self.pull()
        item = self.corrections()
        self.resolve(item, "adjust")
        adjustment = item.adjustment_line_ids
        self.assertEqual(adjustment.unit_amount, -1.0)
        self.assertGreater(adjustment.date, lock, "dated in the first open day, not the locked one")

    def test_deleted_entries_unbilled_removed_billed_corrected(self):
        billed_entry, billed = self.imported(offset=1)
        self.bill(period_end=self.day(3))
        entry, unbilled = self.imported(user="bob", offset=15)
        self.world.delete(entry)
        self.world.delete(billed_entry)
        self.pull("psa_deletions")
        self.assertFalse(unbilled.exists(), "an unbilled line of a deleted entry is removed")
        binding = self.env["connector.binding"].search(
            [("backend_id", "=", self.backend.id), ("remote_id", "=", str(entry))]
        )
        self.assertEqual(binding.remote_version, "deleted", "its binding stays as a tombstone")
        self.assertTrue(
            self.env["connector.audit.log"].search_count(
                [("res_id", "=", unbilled.id), ("action", "=", "unlink")]
            ),
            "the removal is audited",
        )
        self.assertTrue(billed.exists(), "a billed line stays")
        item = self.corrections()
        self.assertEqual((item.kind, item.line_id), ("deleted", billed))
        self.resolve(item, "adjust")
        self.assertEqual(item.adjustment_line_ids.unit_amount, -2.0, "the billed hours reversed")
        self.assertTrue(billed.psa_deleted)
        self.pull("psa_deletions")
        self.assertEqual(len(self.corrections()), 1, "found once")


@tagged("post_install", "-at_install")
class TestHarvestCorrections(CorrectionTests, PsaCase):
    WORLD = HarvestWorld

    def test_window_relist_in_bounded_batches(self):
        self.backend.psa_deletion_slice_days = 5
        entries = [self.world.log("ann", self.day(offset), 1.0) for offset in (1, 6, 12)]
        self.pull()
        self.world.delete(entries[1])
        moved = entries[2]
        self.world.edit(moved, day=self.day(-40))  # out of the window: not a deletion
        requests = self.world.fake.requests_to("GET /v2/time_entries/{id}")
        self.pull("psa_deletions")
        windows = self.jobs("psa.deletions.window")
        self.assertGreater(len(windows), 2, "the window is checked in slices of days")
        self.assertFalse(self.line_of(entries[1]))
        self.assertTrue(self.line_of(moved), "missing from its slice but not deleted: kept")
        confirmed = self.world.fake.requests_to("GET /v2/time_entries/{id}") - requests
        self.assertEqual(confirmed, 2, "each candidate confirmed by the PSA before deletion")
        self.assertEqual(
            set(self.jobs("psa.deletions.window").mapped("state")),
            {"done"},
            "time and expenses re-listed",
        )


@tagged("post_install", "-at_install")
class TestKantataCorrections(CorrectionTests, PsaCase):
    WORLD = KantataWorld

    def test_deletions_from_the_event_feed(self):
        entry, line = self.imported()
        self.pull("psa_deletions")  # the first check has no cursor: it re-lists the window
        windows = self.jobs("psa.deletions.window")
        self.assertTrue(windows)
        self.world.delete(entry)
        self.pull("psa_deletions")
        self.assertFalse(line.exists())
        self.assertTrue(self.jobs("psa.deletions.confirm"), "found through the feed")
        self.assertEqual(
            self.jobs("psa.deletions.window"), windows, "the feed covers the cursor: no re-list"
        )

    def test_event_feed_refused_falls_back_to_the_window(self):
        fake = self.world.fake
        fake._tokens[fake.api_token]["user_id"] = self.world.users["ann"]  # not an administrator
        entry, line = self.imported()
        self.world.delete(entry)
        self.pull("psa_deletions")
        self.assertFalse(line.exists(), "found by re-listing the window")
        stream = self.backend.stream_ids.filtered(lambda s: s.code == "psa_deletions")
        self.assertIn("not an administrator", stream.last_error)
        self.assertEqual(self.backend.health, "ok", "a refused feed is not an outage")
        windows = self.jobs("psa.deletions.window")
        self.assertEqual(set(windows.mapped("state")), {"done"}, "time and expenses re-listed")
