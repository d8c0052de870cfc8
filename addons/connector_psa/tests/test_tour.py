"""Browser tour: a Billing User opens a correction of billed Harvest time and resolves it by an
adjustment that the next billing run bills."""

from odoo.tests import HttpCase, tagged

from .common import HarvestWorld, PsaCase


@tagged("post_install", "-at_install", "is_tour")
class TestCorrectionTour(PsaCase, HttpCase):
    WORLD = HarvestWorld

    def test_billing_user_resolves_a_correction_by_an_adjustment(self):
        self.sync_people()
        entry = self.world.log("ann", self.day(2), 2.0, notes="Design workshop")
        self.pull()
        line = self.line_of(entry)
        invoice = self.bill()
        invoice.action_post()
        self.drain()  # marked billed in Harvest
        self.world.edit(entry, hours=3.5)
        self.pull()
        item = self.env["connector.psa.correction"].search([("line_id", "=", line.id)])
        self.assertEqual((item.state, item.invoice_id), ("open", invoice))

        self.start_tour(
            "/odoo/action-connector_psa.action_connector_psa_correction",
            "connector_psa_resolve_correction_tour",
            login=self.billing_user.login,
        )

        self.env.invalidate_all()
        self.assertEqual((item.state, item.resolution), ("resolved", "adjust"))
        self.assertEqual(item.resolved_by_id, self.billing_user)
        adjustment = item.adjustment_line_ids
        self.assertEqual((adjustment.unit_amount, adjustment.ps_billing_state), (1.5, "unbilled"))
        self.assertEqual(line.unit_amount, 2.0, "the billed line is untouched")
        following = self.bill()
        self.assertEqual(adjustment.ps_invoice_id, following, "the next run bills the adjustment")
        self.assertAlmostEqual(following.amount_untaxed, 225.0)
        self.assertAlmostEqual(invoice.amount_untaxed, 300.0, msg="the posted invoice is unchanged")
