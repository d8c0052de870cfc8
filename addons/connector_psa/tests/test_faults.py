"""Fault test: 5,000 approved entries read while 20 % of the PSA's answers fail at random
(seeded: 5xx and 429). Every entry is imported exactly once, within the attempt limit, and the
failures were really retried."""

from datetime import timedelta

from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase

ENTRIES = 5000
FAILURE_SHARE = 0.2


class FaultTests:
    def test_5000_entries_with_20_percent_of_requests_failing(self):
        self.backend.write({"psa_page_size": 200, "psa_batch_entries": 500, "max_attempts": 10})
        self.sync_people()
        fake = self.world.fake
        day0 = self.today - timedelta(days=300)
        with fake._lock:
            ids = [
                self.world.log(
                    ("ann", "bob")[i % 2],
                    day0 + timedelta(days=(i // 2) % 250),
                    0.25,
                    notes=f"Entry {i}",
                )
                for i in range(ENTRIES)
            ]
        fake.switches.random_failures(FAILURE_SHARE, seed=13)
        before = sum(fake.switches.counts.values())
        self.pull()
        fake.switches.random_failures(0, seed=0)
        requests = sum(fake.switches.counts.values()) - before

        lines = self.lines()
        self.assertEqual(len(lines), ENTRIES, "every entry imported")
        self.assertEqual(len(set(lines.mapped("psa_remote_id"))), ENTRIES, "each exactly once")
        self.assertEqual(set(lines.mapped("psa_remote_id")), {str(i) for i in ids})
        jobs = self.jobs()
        self.assertFalse(jobs.filtered(lambda j: j.state != "done"), "nothing dead or waiting")
        self.assertTrue(all(j.attempts <= j.max_attempts for j in jobs))
        pulls = jobs.filtered(lambda j: j.operation == "stream.pull")
        retried = self.env["connector.job.attempt"].search_count(
            [("job_id", "in", pulls.ids), ("outcome", "=", "transient")]
        )
        self.assertGreater(retried, 0, "some pages failed past the quick retries: re-queued")
        self.assertGreater(requests, ENTRIES // 200 * 1.2, "failed requests were sent again")


@tagged("post_install", "-at_install")
class TestHarvestFaults(FaultTests, PsaCase):
    WORLD = HarvestWorld


@tagged("post_install", "-at_install")
class TestKantataFaults(FaultTests, PsaCase):
    WORLD = KantataWorld
