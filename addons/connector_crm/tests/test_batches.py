from unittest.mock import patch

from odoo.tests import tagged

from .common import CrmCase

WON = (
    "northwind_erp",
    "northwind_support",
    "globex_consulting",
    "globex_rollout",
    "initech_mixed",
    "umbrella_advisory",
)


@tagged("post_install", "-at_install")
class TestEngagementBatches(CrmCase):
    """Ready deals claimed together by a runner are created in one transaction (Odoo creates and
    confirms orders much faster together); a deal that fails in a batch fails alone."""

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()

    def engagement_jobs(self):
        return self.jobs(self.sf_backend, "crm.engagement.create")

    def test_deals_claimed_together_are_created_by_the_first_job_of_the_batch(self):
        self.pull(self.sf_backend)
        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertEqual(sorted(orders.mapped("crm_deal_id")), sorted(self.ids[k] for k in WON))
        done = self.engagement_jobs().filtered(lambda job: job.state == "done")
        self.assertEqual(len(done), len(WON), "each deal's job ends done, with its order")
        self.assertEqual(
            {job.result_id for job in done}, set(orders.ids), "every job names its engagement"
        )
        audit = self.env["connector.audit.log"].search(
            [("res_model", "=", "sale.order"), ("res_id", "in", orders.ids)]
        )
        self.assertEqual(
            set(audit.mapped("job_ref")),
            {done.sorted("id")[0].id},
            "one job created them all, in one transaction",
        )

    def test_a_deal_failing_in_a_batch_fails_alone_and_is_retried_alone(self):
        bad = self.ids["globex_consulting"]
        Engagement = type(self.env["connector.crm.engagement"])
        original = Engagement._order_values

        def order_values(model, backend, deal, *args, **kwargs):
            if deal["id"] == bad:
                raise ValueError("simulated failure while building the Globex contract")
            return original(model, backend, deal, *args, **kwargs)

        with patch.object(Engagement, "_order_values", order_values):
            self.pull(self.sf_backend)
        created = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertEqual(
            sorted(created.mapped("crm_deal_id")),
            sorted(self.ids[k] for k in WON if k != "globex_consulting"),
            "the other deals of the batch became engagements",
        )
        [failed] = self.engagement_jobs().filtered(lambda job: job.record_key == f"deal:{bad}")
        self.assertEqual(failed.state, "needs_attention")
        self.assertIn("simulated failure while building the Globex contract", failed.last_error)
        self.assertFalse(self.order_of(self.sf_backend, bad), "nothing half-created")
        self.assertFalse(
            self.env["connector.binding"].search(
                [("backend_id", "=", self.sf_backend.id), ("remote_id", "=", bad)]
            )
        )
        failed.action_retry()
        self.drain()
        self.assertEqual(failed.state, "done")
        self.assertEqual(self.order_of(self.sf_backend, bad).state, "sale")
