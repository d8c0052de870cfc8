import os

from odoo.tests import tagged

from .common import CrmCase

DEALS = int(os.environ.get("CRM_FAULT_DEALS", "500"))  # smaller only to profile by hand


@tagged("post_install", "-at_install")
class TestFaultTolerance(CrmCase):
    def test_500_deals_through_a_crm_failing_one_request_in_five(self):
        """Every request (token, queries, deleted log, write-back) fails with probability 0.2,
        reproducibly: the pull still ends with every engagement created exactly once, within
        the attempt limit, and the status written back to every opportunity."""
        self.sf.page_size = 200  # three pages: failures land between pages too
        deal_ids = self.sf.seed_bulk(
            DEALS,
            Legal_Entity__c="Acme Consulting US",
            Billing_Model__c="Time and Materials",
            Project_Template__c="Standard Implementation",
            Tax_Treatment__c="Domestic",
        )
        self.sf_backend.write({"max_attempts": 8, "batch_size": 100})
        self.sf.server.reset()
        self.sf.server.fail_rate(0.2, seed=20261123)
        self.pull(self.sf_backend)

        requests = self.sf.server.requests
        failed = [r for r in requests if r.status == 503]
        self.assertGreater(len(failed), 10, "the fake did fail requests")
        self.assertTrue(any(r.path.endswith("/token") for r in failed), "token calls failed too")

        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertEqual(len(orders), DEALS)
        self.assertEqual(sorted(orders.mapped("crm_deal_id")), sorted(deal_ids), "each once")
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertEqual(len(orders.project_ids), DEALS, "one project per engagement")
        self.env.cr.execute(
            """SELECT remote_id, count(*) FROM connector_binding
               WHERE backend_id = %s AND remote_type = 'deal' GROUP BY remote_id HAVING count(*) > 1""",
            (self.sf_backend.id,),
        )
        self.assertEqual(self.env.cr.fetchall(), [], "one binding per deal")

        jobs = self.jobs(self.sf_backend)
        self.assertEqual(
            set(jobs.mapped("state")), {"done"}, "nothing dead or waiting for a person"
        )
        retried = jobs.filtered(lambda job: job.attempts > 1)
        self.assertTrue(retried, "retries happened")
        self.assertLessEqual(max(jobs.mapped("attempts")), self.sf_backend.max_attempts)
        creations = jobs.filtered(lambda job: job.operation == "crm.engagement.create")
        self.assertEqual(len(creations), DEALS)
        self.assertTrue(
            {"stream.pull", "crm.push"} & set(retried.mapped("operation")),
            "the pull or the write-back was retried",
        )
        # The write-back reached every opportunity despite the failures.
        pushed = {w[2] for w in self.sf.writes if w[1] == "Opportunity"}
        self.assertEqual(pushed, set(deal_ids))
        print(
            f"\nfault test: {len(requests)} requests, {len(failed)} failed (503), "
            f"{len(retried)} jobs retried, max attempts {max(jobs.mapped('attempts'))}"
        )
