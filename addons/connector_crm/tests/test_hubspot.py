import time

from odoo.tests import HttpCase, tagged

from .common import CrmCase

WON_SINCE_START = (
    "deal_globex_erp",
    "deal_globex_tm",
    "deal_initech_support",
    "deal_umbrella_rollout",
    "deal_stark_mixed",
    "deal_initech_training",
)


@tagged("post_install", "-at_install")
class TestHubSpotFlow(CrmCase, HttpCase):
    """HubSpot end to end over loopback HTTP: pull, webhooks v3 into the real route, engagements,
    amendments and the batched write-back."""

    def setUp(self):
        super().setUp()
        self.ids = self.hs.seed_demo()
        self.hs_backend.public_base_url = self.base_url()
        self.webhook_url = self.hs_backend.webhook_url
        self.assertTrue(self.webhook_url.startswith(self.base_url() + "/connector/webhook/"))

    def deliver(self, events, **kwargs):
        self.env.flush_all()  # the server thread reads the database (shared test cursor)
        return self.hs.webhook_request(self.webhook_url, self.hs.client_secret, events, **kwargs)

    def test_won_deals_become_engagements_and_status_goes_back(self):
        self.pull(self.hs_backend)
        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.hs_backend.id)])
        self.assertEqual(
            sorted(orders.mapped("crm_deal_id")), sorted(self.ids[k] for k in WON_SINCE_START)
        )
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        erp = self.order_of(self.hs_backend, self.ids["deal_globex_erp"])
        self.assertEqual(erp.partner_id.name, "Globex Corporation")
        self.assertIn("Hank Scorpio", erp.partner_id.child_ids.mapped("name"))
        self.assertEqual(erp.client_order_ref, "PO-GLX-1001")
        self.assertEqual(
            sorted((line.product_id.default_code, line.product_uom_qty) for line in erp.order_line),
            [("T-IMPL", 1.0), ("T-TRAIN", 2.0)],
        )
        self.assertEqual(len(erp.project_ids), 1)
        support = self.order_of(self.hs_backend, self.ids["deal_initech_support"])
        self.assertEqual(support.currency_id, self.eur, "deal currency EUR")
        self.assertEqual(support.fiscal_position_id, self.reverse_charge)
        self.assertEqual(support.order_line.ps_billing_model, "retainer")
        mixed = self.order_of(self.hs_backend, self.ids["deal_stark_mixed"])
        self.assertEqual(
            sorted(mixed.order_line.mapped("ps_billing_model")), ["fixed_fee", "retainer", "tm"]
        )
        self.assertEqual(mixed.ps_cap_amount, 80000.0)
        # Unmapped SKU: needs attention with the deal and the SKU named; open deal: nothing.
        attention = self.jobs(self.hs_backend, "crm.engagement.create", "needs_attention")
        self.assertEqual(len(attention), 1)
        self.assertIn("NEW-SKU", attention.last_error)
        self.assertIn("Umbrella - Design workshop", attention.last_error)
        self.assertFalse(self.order_of(self.hs_backend, self.ids["deal_open"]))
        # Write-back: one batch update for all deals, properties set on every won deal.
        batches = [
            r
            for r in self.hs.server.requests
            if r.method == "POST" and r.path.endswith("/objects/deals/batch/update")
        ]
        self.assertEqual(len(batches), 1)
        self.assertEqual(len(batches[0].json()["inputs"]), len(orders))
        deal = self.hs.get("deals", self.ids["deal_globex_erp"])
        properties = deal.get("properties", deal)
        self.assertEqual(float(properties["odoo_invoiced_total"]), 0.0)
        # The echo of our write-back changes nothing.
        versions = orders.crm_version_ids
        requests_before = len(batches)
        self.pull(self.hs_backend)
        self.assertEqual(orders.crm_version_ids, versions)
        self.assertEqual(
            len(
                [
                    r
                    for r in self.hs.server.requests
                    if r.path.endswith("/objects/deals/batch/update")
                ]
            ),
            requests_before,
        )
        # A change of a description applies directly; a new amount waits for approval.
        self.hs.update("deals", self.ids["deal_globex_tm"], description="Phase 1: discovery")
        self.pull(self.hs_backend)
        tm = self.order_of(self.hs_backend, self.ids["deal_globex_tm"])
        self.assertEqual(tm.crm_description, "Phase 1: discovery")
        self.assertEqual(tm.crm_version_ids.sorted("sequence")[-1].state, "applied")

    def test_the_same_webhook_delivered_five_times_gives_one_engagement(self):
        self.hs_backend.crm_start_date = "2026-06-01"
        deal = self.ids["deal_initech_training"]  # won 2026-05-20: before the start date
        fresh = self.hs.add_deal(
            dealname="Globex - Fresh win",
            company_id=self.ids["company_globex"],
            contact_ids=[self.ids["contact_globex_hank"]],
            closedate="2026-11-02T00:00:00Z",
            legal_entity="Acme Consulting US",
            deal_currency_code="USD",
            billing_model="Time and Materials",
            project_template="Standard Implementation",
            tax_treatment="Domestic",
            dealstage="closedwon",
            line_items=[
                {"product_id": self.ids["product_cons_h"], "quantity": "40", "price": "150.00"}
            ],
        )
        event = self.hs.event("deal.propertyChange", fresh, property_name="dealstage",
                              property_value="closedwon")  # fmt: skip
        for _delivery in range(5):
            answer = self.deliver([event])
            self.assertEqual(answer.status_code, 200, answer.text)
        syncs = self.jobs(self.hs_backend, "crm.deal.sync")
        self.assertEqual(len(syncs), 1, "one job per event id")
        # A second event on the same deal (another property) and a pull on top.
        self.deliver([self.hs.event("deal.propertyChange", fresh, property_name="amount",
                                    property_value="6000")])  # fmt: skip
        self.drain()
        self.pull(self.hs_backend)
        self.assertEqual(len(self.order_of(self.hs_backend, fresh)), 1)
        creations = self.jobs(self.hs_backend, "crm.engagement.create").filtered(
            lambda job: job.idempotency_key == f"engagement:{fresh}"
        )
        self.assertEqual(len(creations), 1, "keyed by deal")
        self.assertFalse(self.order_of(self.hs_backend, deal), "won before the start date")

    def test_bad_and_stale_signatures_are_refused_and_nothing_is_queued(self):
        event = self.hs.event("deal.propertyChange", self.ids["deal_globex_tm"])
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            self.env.flush_all()
            wrong = self.hs.webhook_request(self.webhook_url, "not-the-secret", [event])
        self.assertEqual(wrong.status_code, 401)
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            stale = self.deliver([event], timestamp_ms=int((time.time() - 600) * 1000))
        self.assertEqual(stale.status_code, 401)
        self.assertFalse(self.jobs(self.hs_backend, "crm.deal.sync"))
        # Signed for another URL (a proxy rewriting the host): refused too.
        with self.assertLogs("odoo.addons.connector_base", "WARNING"):
            other = self.hs.webhook_request(
                self.webhook_url.replace("127.0.0.1", "localhost"),
                self.hs.client_secret,
                [event],
            )
        self.assertEqual(other.status_code, 401)
        ok = self.deliver([event])
        self.assertEqual(ok.status_code, 200)
        self.assertEqual(len(self.jobs(self.hs_backend, "crm.deal.sync")), 1)
