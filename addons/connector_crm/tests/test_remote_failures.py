from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestRemoteFailures(CrmCase):
    """What the CRM answers when it is unwell becomes a retried job (transient) or a visible item
    saying what to do; nothing is dropped."""

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        self.hs_ids = self.hs.seed_demo()
        self.stream = self.sf_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        self.now = fields.Datetime.now()

    def start_pull(self, backend=None):
        backend = backend or self.sf_backend
        stream = backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
        stream._schedule_pull(self.now, source="user")
        self.Job._cron_process_queue(time_budget=60, now=self.now)
        return self.jobs(backend, "stream.pull")[-1]

    def engagements(self, backend=None):
        backend = backend or self.sf_backend
        return self.env["sale.order"].search([("crm_backend_id", "=", backend.id)])

    def test_429_with_retry_after_waits_as_told(self):
        self.hs.rate_limit_next(1, retry_after=45, policy="DAILY")
        pull = self.start_pull(self.hs_backend)
        self.assertEqual(pull.state, "pending")
        self.assertEqual(pull.error_class, "transient")
        self.assertIn("429", pull.last_error)
        self.assertGreaterEqual(pull.eta, self.now + timedelta(seconds=45), "Retry-After honoured")
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertEqual(pull.attempts, 2)
        self.assertEqual(len(self.engagements(self.hs_backend)), 6)

    def test_a_5xx_blip_is_retried_in_place(self):
        self.sf.server.fail_next(2, status=503)
        pull = self.start_pull()
        self.assertEqual(pull.state, "done", "two quick retries absorbed it")
        self.assertEqual(pull.attempts, 1)
        self.assertEqual([r.status for r in self.sf.server.requests[:3]], [503, 503, 200])
        self.drain(self.now)
        self.assertEqual(len(self.engagements()), 6)

    def test_5xx_that_last_are_retried_with_backoff(self):
        self.sf.server.fail_next(3, status=503)
        pull = self.start_pull()
        self.assertEqual((pull.state, pull.error_class), ("pending", "transient"))
        self.assertIn("503", pull.last_error)
        self.assertGreater(pull.eta, self.now)
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertGreaterEqual(pull.attempts, 2)
        self.assertEqual(len(self.engagements()), 6)

    def test_a_timeout_is_retried(self):
        self.sf_backend.timeout_read = 1
        self.sf.server.delay_next(3, 2.5)
        pull = self.start_pull()
        self.assertEqual((pull.state, pull.error_class), ("pending", "transient"))
        self.assertIn("timed out", pull.last_error.lower())
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertEqual(len(self.engagements()), 6)

    def test_malformed_json_is_retried_then_explained(self):
        self.sf.server.malformed_next(1)
        pull = self.start_pull()
        self.assertEqual(pull.state, "pending")
        self.assertIn("JSON", pull.last_error)
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertEqual(len(self.engagements()), 6)

    def test_a_failing_write_back_is_retried_and_never_lost(self):
        self.pull(self.sf_backend)
        order = self.engagements()[:1]
        self.sf.server.fail_next(3, status=500)
        order._crm_request_push()
        self.Job._cron_process_queue(time_budget=60, now=self.now)
        push = self.jobs(self.sf_backend, "crm.push")[-1]
        self.assertEqual(push.state, "pending")
        self.drain(self.now)
        self.assertEqual(push.state, "done")

    def test_a_crm_that_stays_down_ends_in_a_dead_job_an_admin_can_retry(self):
        self.sf_backend.max_attempts = 3
        self.sf.server.fail_next(9, status=502)  # 3 attempts x (1 + 2 quick retries)
        pull = self.start_pull()
        self.drain(self.now)
        self.assertEqual(pull.state, "dead")
        self.assertEqual(pull.attempts, 3)
        self.assertIn("502", pull.last_error)
        self.assertFalse(self.engagements())
        pull.action_retry()
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertEqual(len(self.engagements()), 6)

    def test_a_bad_query_needs_attention_with_the_crm_message(self):
        self.sf_backend.crm_field_legal_entity = "Legal_Entity_Typo__c"
        pull = self.start_pull()
        self.assertEqual(pull.state, "needs_attention")
        self.assertIn("Legal_Entity_Typo__c", pull.last_error)
        self.sf_backend.crm_field_legal_entity = "Legal_Entity__c"
        pull.action_retry()
        self.drain(self.now)
        self.assertEqual(pull.state, "done")
        self.assertEqual(len(self.engagements()), 6)

    def test_a_cut_body_on_a_data_call_is_retried_and_holds_no_later_job(self):
        """A proxy cutting a 200 answer of a data call: transient (retried with backoff within
        the attempt limit), not an item waiting for a person that holds every later job of the
        deal (per-deal order)."""
        deal = self.ids["northwind_erp"]
        self.sf_backend._adapter().client().auth.token()  # the token is cached: the data call is cut
        first = self.sf_backend._enqueue(
            "crm.deal.sync",
            {"deal_id": deal},
            idempotency_key="flow:1",
            record_key=f"deal:{deal}",
            direction="inbound",
            source="webhook",
        )
        later = self.sf_backend._enqueue(
            "crm.deal.sync",
            {"deal_id": deal},
            idempotency_key="flow:2",
            record_key=f"deal:{deal}",
            direction="inbound",
            source="webhook",
        )
        self.sf.server.malformed_next(3)  # the query and its two quick retries
        self.Job._cron_process_queue(time_budget=60, now=self.now)
        self.assertEqual((first.state, first.error_class), ("pending", "transient"))
        self.assertIn("not valid JSON", first.last_error)
        self.assertGreater(first.eta, self.now)
        self.drain(self.now)
        self.assertEqual((first.state, later.state), ("done", "done"))
        self.assertEqual(self.engagements().mapped("crm_deal_id"), [deal])
