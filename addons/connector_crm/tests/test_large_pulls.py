import json
import time

from odoo import fields
from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestLargePulls(CrmCase):
    """A large first import makes durable progress page by page: each page is a job of its own,
    a failure retries that page only, HubSpot's search limit is respected and its 429s (no
    Retry-After) are waited out past the window. The deals here lack a legal entity, so their
    engagement jobs stop at once (needs attention): what is measured is the pull."""

    def setUp(self):
        super().setUp()
        self.now = fields.Datetime.now()

    def hs_searches(self):
        return [r for r in self.hs.server.requests if r.path.endswith("/objects/deals/search")]

    def pull_jobs(self, backend):
        return self.jobs(backend, "stream.pull")

    def deals_queued(self, backend):
        return self.jobs(backend, "crm.engagement.create")

    # HubSpot -----------------------------------------------------------------------------------

    def test_hubspot_first_import_is_durable_page_by_page(self):
        ids = self.hs.seed_bulk(450, lines_per_deal=1, deal_currency_code="USD")
        stream = self.hs_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        # Page 2's search fails three times (one attempt and its two quick retries).
        self.hs.fail_searches(3, after=1, status=503)
        self.pull(self.hs_backend, now=self.now)

        pulls = self.pull_jobs(self.hs_backend)
        self.assertEqual(len(pulls), 3, "one job per search page of 200")
        self.assertEqual(set(pulls.mapped("state")), {"done"})
        self.assertEqual(pulls.sorted("id")[1].attempts, 2, "page 2 failed once, then ran again")
        starts = [r.json()["filterGroups"][0]["filters"][0]["value"] for r in self.hs_searches()]
        self.assertEqual(starts.count(starts[0]), 1, "page 1 was never searched again")
        self.assertEqual(len(starts), 6, "page 1, page 2 four times (3 failed), page 3")
        queued = self.deals_queued(self.hs_backend)
        self.assertEqual(
            sorted(job._payload()["deal_id"] for job in queued), sorted(ids), "each deal once"
        )
        self.assertFalse(json.loads(stream.cursor_value or "{}").get("pull"), "pull finished")
        newest = max(
            self.hs.get("deals", deal_id)["properties"]["hs_lastmodifieddate"] for deal_id in ids
        )
        self.assertEqual(stream.cursor_date.isoformat()[:19], newest[:19], "cursor: newest deal")

    def test_hubspot_page_in_progress_survives_between_jobs(self):
        self.hs.seed_bulk(250, lines_per_deal=1)
        stream = self.hs_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream._schedule_pull(self.now, source="user")
        first = self.pull_jobs(self.hs_backend)
        self.hs_backend._job_handler(first.operation)(first)  # page 1 only, as its job would
        state = json.loads(stream.cursor_value)
        self.assertEqual(state["pull"]["count"], 200)
        self.assertGreater(state["pull"]["cursor"]["start"], 0)
        self.assertFalse(stream.cursor_date, "the cursor moves when the last page is read")
        follow = self.pull_jobs(self.hs_backend) - first
        self.assertEqual(len(follow), 1)
        self.assertEqual((follow.priority, follow.record_key), (5, f"stream:{stream.id}"))
        self.assertEqual(len(self.deals_queued(self.hs_backend)), 200, "page 1's deals, durable")

    def test_hubspot_search_limit_is_respected_by_the_pull(self):
        """The fake enforces 5 searches per second; the backend searches at 4 per second."""
        self.hs.enforce_search_limit = True
        self.hs.seed_bulk(1000, lines_per_deal=0, companies=False)
        self.pull(self.hs_backend, now=self.now)
        # Pages of 200, each starting again at the last timestamp read (one record read twice).
        self.assertEqual(len(self.hs_searches()), 6)
        self.assertEqual(self.hs.search_rejections, 0)
        self.assertEqual(len(self.deals_queued(self.hs_backend)), 1000)

    def test_hubspot_search_429_without_retry_after_is_waited_past_the_window(self):
        """HubSpot answers its search limit with 429 SECONDLY and no Retry-After: the pull
        waits past the second (growing), in place, instead of burning its attempt in 0.75 s."""
        self.hs.seed_bulk(300, lines_per_deal=0, companies=False)
        self.hs.rate_limit_next(3, policy="SECONDLY")
        started = time.monotonic()
        self.pull(self.hs_backend, now=self.now)
        self.assertGreaterEqual(time.monotonic() - started, 6.0, "1 s, 2 s, 3 s and jitter")
        statuses = [r.status for r in self.hs_searches()]
        self.assertEqual(statuses, [429, 429, 429, 200, 200])
        first = self.pull_jobs(self.hs_backend).sorted("id")[0]
        self.assertEqual((first.state, first.attempts), ("done", 1))
        self.assertEqual(len(self.deals_queued(self.hs_backend)), 300)

    # Salesforce --------------------------------------------------------------------------------

    def test_salesforce_first_import_is_durable_page_by_page_and_survives_expired_locators(self):
        self.sf.page_size = 200
        ids = self.sf.seed_bulk(450, lines_per_deal=1, Tax_Treatment__c="Domestic")
        stream = self.sf_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream._schedule_pull(self.now, source="user")
        first = self.pull_jobs(self.sf_backend)
        self.sf_backend._job_handler(first.operation)(first)
        state = json.loads(stream.cursor_value)
        self.assertTrue(state["pull"]["locator"].startswith("/services/data/v62.0/query/"))
        self.assertEqual(len(self.deals_queued(self.sf_backend)), 200)
        # Minutes later Salesforce has forgotten the query: the pull queries again from the
        # second of the last change read; what is read twice is queued once.
        self.sf.expire_query_locators()
        self.drain(self.now)
        pulls = self.pull_jobs(self.sf_backend)
        self.assertEqual(set(pulls.mapped("state")), {"done"}, pulls.mapped("last_error"))
        queued = self.deals_queued(self.sf_backend)
        self.assertEqual(sorted(job._payload()["deal_id"] for job in queued), sorted(ids))
        self.assertFalse(json.loads(stream.cursor_value or "{}").get("pull"))
        self.assertTrue(stream.cursor_date)

    def test_salesforce_deal_with_more_lines_than_a_sub_query_batch_keeps_all_of_them(self):
        ids = self.sf.seed_demo()
        self.sf.child_page_size = 2  # Salesforce pages sub-query results too
        lines = [
            {"product_id": ids["CONS-H"], "quantity": 10 + n, "unit_price": 150.0} for n in range(4)
        ]
        lines.append({"product_id": ids["IMPL"], "quantity": 1, "unit_price": 20000.0})
        deal = self.sf.add_opportunity(
            ids["globex"],
            name="Globex - Many lines",
            close_date="2026-11-02",
            lines=lines,
            Legal_Entity__c="Acme Consulting US",
            Billing_Model__c="Time and Materials",
            Project_Template__c="Standard Implementation",
            Tax_Treatment__c="Domestic",
        )
        self.pull(self.sf_backend, now=self.now)
        order = self.order_of(self.sf_backend, deal)
        self.assertEqual(len(order.order_line), 5, "every line, not the first batch of two")
        expected = self.sf.get("Opportunity", deal)["Amount"]
        self.assertEqual(order.currency_id.compare_amounts(order.amount_untaxed, expected), 0)
