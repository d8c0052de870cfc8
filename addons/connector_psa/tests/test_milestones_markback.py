"""Kantata milestones reached -> project milestones reached -> billed on the contract's
milestone line; and, for both tools, what Odoo billed is marked back in the PSA when the invoice
is posted (the mark coming back in the next pull changes nothing)."""

from odoo import Command
from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class MarkBackTests:
    def test_posted_invoice_marks_its_entries_and_the_echo_changes_nothing(self):
        self.sync_people()
        entry = self.world.log("ann", self.day(2), 2.0)
        self.pull()
        line = self.line_of(entry)
        invoice = self.bill()
        invoice.action_post()
        self.drain()
        self.assertEqual(self.jobs("psa.mark.billed").mapped("state"), ["done"])
        self.assertEqual(line.psa_marked_invoice_id, invoice)
        self.assertEqual(self.mark_of(entry), invoice.name, "the PSA shows the invoice number")
        stamp = line.write_date
        self.pull()
        self.assertFalse(self.env["connector.psa.correction"].search([("line_id", "=", line.id)]))
        self.assertEqual(line.write_date, stamp, "our own mark is not a change of the entry")


@tagged("post_install", "-at_install")
class TestHarvestMarkBack(MarkBackTests, PsaCase):
    WORLD = HarvestWorld

    def mark_of(self, entry):
        reference = self.world.entry(entry)["external_reference"]
        self.assertIn("/odoo/action-account.action_move_out_invoice_type/", reference["permalink"])
        return reference["group_id"]


@tagged("post_install", "-at_install")
class TestKantataMarkBack(MarkBackTests, PsaCase):
    WORLD = KantataWorld

    def mark_of(self, entry):
        refs = [
            ref
            for ref in self.world.fake.store.external_references.values()
            if ref["subject_type"] == "TimeEntry" and ref["subject_id"] == entry
        ]
        self.assertEqual(len(refs), 1)
        self.assertIn("Billed in Odoo", refs[0]["external_message"])
        return refs[0]["external_status"]


@tagged("post_install", "-at_install")
class TestKantataMilestones(PsaCase):
    WORLD = KantataWorld

    def test_reached_milestone_is_billed(self):
        product = self.env["product.product"].create(
            {
                "name": "Rollout (milestones, test)",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "milestones",
                "service_tracking": "project_only",
            }
        )
        contract = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 1,
                            "price_unit": 10000.0,
                            "ps_billing_model": "milestone",
                        }
                    )
                ],
            }
        )
        contract.action_confirm()
        project = contract.project_id
        project.milestone_ids.unlink()
        fake = self.world.fake
        workspace = fake.add_workspace("Rollout", currency="USD", reference=contract.name)
        due = self.day(10)
        story = fake.add_story(workspace, "Pilot site live", "milestone", due_date=due)
        fake.add_billing_milestone(
            workspace, "Pilot site live", 4000, due, story, "upon_completion"
        )
        fake.add_story(workspace, "All sites live", "milestone", due_date=self.day(40))
        self.backend._adapter()._bind(project, "project", workspace)
        self.pull("psa_milestones")
        pilot = project.milestone_ids.filtered(lambda m: m.name == "Pilot site live")
        self.assertEqual(len(project.milestone_ids), 2, "one per milestone (billing one wins)")
        self.assertEqual(pilot.sale_line_id, contract.order_line)
        self.assertAlmostEqual(pilot.quantity_percentage, 0.4)
        self.assertFalse(pilot.is_reached)
        fake.complete_story(story)
        self.pull("psa_milestones")
        self.assertTrue(pilot.is_reached, "reached in Kantata: reached in Odoo")
        self.assertEqual(pilot.reached_date, due)
        invoice = self.bill(orders=contract)
        self.assertAlmostEqual(invoice.amount_untaxed, 4000.0, msg="billed on the milestone line")
        self.assertEqual(pilot.ps_invoice_id, invoice)
