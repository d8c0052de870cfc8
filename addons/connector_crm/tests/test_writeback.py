from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestWriteBack(CrmCase):
    """Invoice and payment status reach the opportunity; our own writes are not amendments."""

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        self.pull(self.sf_backend)
        self.deal = self.ids["umbrella_advisory"]
        self.order = self.order_of(self.sf_backend, self.deal)
        self.line = self.order.order_line

    def opportunity(self):
        return self.sf.get("Opportunity", self.deal)

    def invoice(self, quantity, **values):
        move = self.env["account.move"].create(
            dict(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.order.partner_id.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.line.product_id.id,
                                "quantity": quantity,
                                "price_unit": self.line.price_unit,
                                "sale_line_ids": [Command.set(self.line.ids)],
                            }
                        )
                    ],
                },
                **values,
            )
        )
        move.action_post()
        return move

    def pay(self, move):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({})._create_payments()

    def test_invoice_payment_and_overdue_are_written_back_and_echoes_ignored(self):
        self.assertEqual(self.opportunity()["Odoo_Invoiced_Total__c"], 0.0)
        move = self.invoice(10)
        total = move.amount_total
        self.assertGreater(total, 1600.0 - 0.01)
        self.drain()
        opportunity = self.opportunity()
        self.assertEqual(opportunity["Odoo_Invoiced_Total__c"], total)
        self.assertEqual(opportunity["Odoo_Outstanding__c"], total)
        self.assertEqual(opportunity["Odoo_Paid_Total__c"], 0.0)
        self.assertEqual(opportunity["Odoo_Last_Invoice__c"], move.name)
        self.assertEqual(opportunity["Odoo_Last_Invoice_Date__c"], str(move.invoice_date))
        self.assertEqual(opportunity["Odoo_Last_Invoice_Status__c"], "Not Paid")

        # Our write bumped the opportunity's SystemModstamp: the next pull sees it and must
        # recognise its own values (no new deal version, no second push).
        versions = self.order.crm_version_ids
        writes = len(self.sf.writes)
        binding = self.env["connector.binding"].search(
            [("backend_id", "=", self.sf_backend.id), ("remote_id", "=", self.deal)]
        )
        digest = binding.payload_hash
        self.pull(self.sf_backend)
        syncs = self.jobs(self.sf_backend, "crm.deal.sync").filtered(
            lambda job: job.record_key == f"deal:{self.deal}"
        )
        self.assertTrue(syncs, "the echo was pulled and processed")
        self.assertEqual(set(syncs.mapped("state")), {"done"})
        self.assertEqual(self.order.crm_version_ids, versions, "the echo is not an amendment")
        self.assertEqual(binding.payload_hash, digest)
        self.assertEqual(len(self.sf.writes), writes, "nothing pushed again")

        # Payment.
        self.pay(move)
        self.drain()
        opportunity = self.opportunity()
        self.assertEqual(opportunity["Odoo_Paid_Total__c"], total)
        self.assertEqual(opportunity["Odoo_Outstanding__c"], 0.0)
        self.assertIn(opportunity["Odoo_Last_Invoice_Status__c"], ("Paid", "In Payment"))

        # The push is idempotent: nothing changed, nothing written.
        writes = len(self.sf.writes)
        self.env["connector.backend"]._cron_crm_refresh_writeback()
        self.drain()
        self.assertEqual(len(self.sf.writes), writes)

        # Overdue moves with the calendar: the daily refresh pushes it.
        late = self.invoice(5, invoice_date_due=fields.Date.today() + timedelta(days=30))
        self.drain()
        self.assertEqual(self.opportunity()["Odoo_Overdue__c"], 0.0)
        self.assertEqual(self.opportunity()["Odoo_Last_Invoice__c"], late.name)
        self.env.cr.execute(
            "UPDATE account_move SET invoice_date_due = %s WHERE id = %s",
            (fields.Date.today() - timedelta(days=1), late.id),
        )
        late.invalidate_recordset(["invoice_date_due"])
        self.env["connector.backend"]._cron_crm_refresh_writeback()
        self.drain()
        self.assertEqual(self.opportunity()["Odoo_Overdue__c"], late.amount_total)
        self.assertEqual(self.opportunity()["Odoo_Outstanding__c"], late.amount_total)

    def test_write_back_is_batched_and_a_refused_record_needs_attention(self):
        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertGreater(len(orders), 3)
        composite = [
            r
            for r in self.sf.server.requests
            if r.method == "PATCH" and r.path.endswith("/composite/sobjects")
        ]
        self.assertEqual(len(composite), 1, "one collection call for all the new engagements")
        # The admin mistyped a write-back field name: the CRM refuses it and says which.
        self.sf_backend.crm_wb_invoiced_total = "Odoo_Invoiced__c"
        self.invoice(1)
        self.drain()
        push = self.jobs(self.sf_backend, "crm.push")[-1]
        self.assertEqual(push.state, "needs_attention")
        self.assertIn("Odoo_Invoiced__c", push.last_error)
        self.assertIn(self.deal, push.last_error)
        self.assertIn("a Salesforce administrator can", push.last_error, "who fixes the CRM")
        self.assertIn("Connector Managers can", push.last_error, "who fixes the backend")
        self.sf_backend.crm_wb_invoiced_total = "Odoo_Invoiced_Total__c"
        push.action_retry()
        self.drain()
        self.assertEqual(push.state, "done")
        self.assertEqual(
            self.opportunity()["Odoo_Invoiced_Total__c"], self.order.invoice_ids.amount_total
        )
