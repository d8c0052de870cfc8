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
        self.sf.page_size = 50  # ten pages: failures land between pages too
        # One line and the one-task template per deal: the test is about delivery, not size
        # (the benchmark creates 3-line deals from the implementation template).
        deal_ids = self.sf.seed_bulk(
            DEALS,
            lines_per_deal=1,
            Legal_Entity__c="Acme Consulting US",
            Billing_Model__c="Time and Materials",
            Project_Template__c="Support",
            Tax_Treatment__c="Domestic",
        )
        self.sf_backend.write({"max_attempts": 8, "batch_size": 100})
        self.sf.server.reset()
        self.sf.server.fail_rate(0.2, seed=20261123)
        self.pull(self.sf_backend)

        requests = self.sf.server.requests
        failed = [r for r in requests if r.status == 503]
        kinds = {_kind(r) for r in requests}
        self.assertLessEqual({"token", "query", "write"}, kinds, "every kind of call was made")
        self.assertGreaterEqual(len(failed), 0.1 * len(requests), "the fake did fail requests")

        orders = self.env["sale.order"].search([("crm_backend_id", "=", self.sf_backend.id)])
        self.assertEqual(len(orders), DEALS)
        self.assertEqual(sorted(orders.mapped("crm_deal_id")), sorted(deal_ids), "each once")
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertEqual(len(orders.project_ids), DEALS, "one project per engagement")
        self.env.cr.execute(
            """SELECT remote_id FROM connector_binding WHERE backend_id = %s
               AND remote_type = 'deal' GROUP BY remote_id HAVING count(*) > 1""",
            (self.sf_backend.id,),
        )
        self.assertEqual(self.env.cr.fetchall(), [], "one binding per deal")

        jobs = self.jobs(self.sf_backend)
        self.assertEqual(set(jobs.mapped("state")), {"done"}, "nothing dead or waiting")
        creations = jobs.filtered(lambda job: job.operation == "crm.engagement.create")
        self.assertEqual(len(creations), DEALS)
        self.assertLessEqual(max(jobs.mapped("attempts")), self.sf_backend.max_attempts)
        # Retries happened: each failed call was sent again, in place (quick retries) or by
        # its job (a later attempt), and the final answer of every call was a success.
        retried_jobs = jobs.filtered(lambda job: job.attempts > 1)
        resent = [r for r in failed if _sent_again(r, requests)]
        self.assertEqual(len(resent), len(failed), "every failed call was retried")
        # The write-back reached every opportunity despite the failures.
        pushed = {w[2] for w in self.sf.writes if w[1] == "Opportunity"}
        self.assertEqual(pushed, set(deal_ids))
        print(
            f"\nfault test: {len(requests)} requests, {len(failed)} failed with 503 "
            f"({sorted({_kind(r) for r in failed})}), all sent again; {len(retried_jobs)} jobs "
            f"needed more than one attempt (max {max(jobs.mapped('attempts'))} of "
            f"{self.sf_backend.max_attempts})"
        )


def _kind(request):
    if request.path.endswith("/token"):
        return "token"
    if request.method == "PATCH" or "/composite/" in request.path:
        return "write"
    if "/query" in request.path:
        return "query"
    return "other"


def _sent_again(failed, requests):
    """The same call is made later: same method and endpoint (a job's later attempt has a new
    query locator or deleted-records window, so pages and windows count by endpoint)."""
    later = requests[requests.index(failed) + 1 :]
    if "/query/" in failed.path:  # a next-page locator: any later page or query of the pull
        return any("/query" in r.path for r in later)
    return any((r.method, r.path) == (failed.method, failed.path) for r in later)
