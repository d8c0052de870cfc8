import json
import time
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestAmendments(CrmCase):
    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        self.pull(self.sf_backend)
        self.deal = self.ids["umbrella_advisory"]
        self.order = self.order_of(self.sf_backend, self.deal)
        self.line_id = self.order.order_line.crm_line_id

    def repull(self):
        return self.pull(self.sf_backend)

    def invoice(self, sale_line, quantity):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": sale_line.order_id.partner_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": sale_line.product_id.id,
                            "quantity": quantity,
                            "price_unit": sale_line.price_unit,
                            "sale_line_ids": [Command.set(sale_line.ids)],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    def test_dates_and_descriptions_apply_directly(self):
        self.sf.update(
            "Opportunity",
            self.deal,
            Description="Scope: data platform, phase 1",
            CloseDate="2026-09-03",
        )
        self.repull()
        version = self.order.crm_version_ids.sorted("sequence")[-1]
        self.assertEqual(
            (version.sequence, version.state, version.outcome), (2, "applied", "direct")
        )
        self.assertEqual(self.order.crm_description, "Scope: data platform, phase 1")
        self.assertEqual(fields.Date.to_string(self.order.crm_close_date), "2026-09-03")
        self.assertIn("Description", version.summary)

    def test_value_change_waits_for_approval_then_adds_a_change_order_line(self):
        self.sf.update("OpportunityLineItem", self.line_id, Quantity=150)
        train = self.ids["TRAIN"]
        self.sf.add_line_item(self.deal, product_id=train, quantity=2, unit_price=1200.0)
        self.repull()
        version = self.order.crm_version_ids.sorted("sequence")[-1]
        self.assertEqual(version.state, "pending")
        self.assertEqual(self.order.order_line.product_uom_qty, 120.0, "nothing changed yet")
        activity = self.order.activity_ids.filtered(
            lambda a: "Approve deal amendment" in (a.summary or "")
        )
        self.assertIn(self.billing_manager, activity.user_id)
        with self.assertRaises(UserError):
            version.with_user(self.integration_user).action_approve()
        version.with_user(self.billing_manager).action_approve()
        self.assertEqual(version.state, "approved")
        consulting = self.order.order_line.filtered(lambda sol: sol.crm_line_id == self.line_id)
        self.assertEqual(consulting.product_uom_qty, 150.0)
        added = self.order.order_line.filtered(lambda sol: sol.crm_version_id == version)
        self.assertEqual(added.product_id, self.products["TRAIN"])
        self.assertEqual((added.product_uom_qty, added.price_unit), (2.0, 1200.0))
        self.assertFalse(
            self.order.activity_ids.filtered(
                lambda a: "Approve deal amendment" in (a.summary or "")
            )
        )

    def test_rejected_amendment_leaves_the_contract_alone(self):
        self.sf.update("OpportunityLineItem", self.line_id, Quantity=160)
        self.repull()
        version = self.order.crm_version_ids.sorted("sequence")[-1]
        wizard = (
            self.env["connector.crm.version.reject"]
            .with_user(self.billing_manager)
            .create(
                {"version_ids": [Command.set(version.ids)], "reason": "Not signed by procurement"}
            )
        )
        wizard.action_reject()
        self.assertEqual((version.state, version.reason), ("rejected", "Not signed by procurement"))
        self.assertEqual(self.order.order_line.product_uom_qty, 120.0)

    def test_legal_entity_change_is_never_applied_automatically(self):
        self.sf.update("Opportunity", self.deal, Legal_Entity__c="Acme Consulting EU")
        self.repull()
        version = self.order.crm_version_ids.sorted("sequence")[-1]
        self.assertEqual(version.state, "refused")
        item = version.job_id
        self.assertEqual(item.state, "needs_attention")
        self.assertIn("Legal entity", item.last_error)
        self.assertEqual(self.order.company_id, self.company)
        # Reverted in Salesforce, the item is retried and closes.
        self.sf.update("Opportunity", self.deal, Legal_Entity__c="Acme Consulting US")
        item.action_retry()
        self.drain()
        self.assertEqual(item.state, "done")
        self.assertEqual(version.state, "superseded")

    def test_reduction_below_invoiced_needs_attention_and_can_be_marked_handled(self):
        line = self.order.order_line
        self.invoice(line, 100)
        self.assertEqual(line.qty_invoiced, 100.0)
        self.sf.update("OpportunityLineItem", self.line_id, Quantity=80)
        self.repull()
        version = self.order.crm_version_ids.sorted("sequence")[-1]
        self.assertEqual(version.state, "refused")
        self.assertIn("below the 100 already invoiced", version.job_id.last_error)
        self.assertEqual(line.product_uom_qty, 120.0)
        version.with_user(self.billing_manager).action_mark_handled()
        self.assertEqual(version.job_id.state, "cancelled")
        self.assertEqual(self.order._crm_baseline()["lines"][0]["quantity"], 80.0)

    def test_lost_or_deleted_deal_flags_the_contract_and_deletes_nothing(self):
        self.sf.update("Opportunity", self.deal, StageName="Closed Lost")
        self.repull()
        self.assertTrue(self.order.crm_review_needed)
        self.assertIn("marked lost", self.order.crm_review_reason)
        self.assertEqual(self.order.state, "sale")
        self.order.with_user(self.billing_manager).action_crm_mark_reviewed()
        self.assertFalse(self.order.crm_review_needed)
        # Deleted: seen through Salesforce's deleted-records log on the next pull.
        other = self.order_of(self.sf_backend, self.ids["globex_consulting"])
        self.sf.delete("Opportunity", self.ids["globex_consulting"])
        stream = self.sf_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream.cursor_value = json.dumps(
            {
                "deleted_until": fields.Datetime.to_string(
                    fields.Datetime.now() - timedelta(minutes=10)
                )
            }
        )
        # The deleted-records window ends at the pull's start, to the second (the API's
        # resolution): let a second pass so that the deletion falls inside it.
        time.sleep(1.1)
        self.repull()
        self.assertTrue(other.crm_review_needed)
        self.assertIn("deleted", other.crm_review_reason)
        self.assertTrue(other.exists() and other.state == "sale")
