"""The demo: the two demo backends against the demo month of the fake PSAs
(tests/fakes/psa_seed.py, as `make demo` starts them) import what the demo promises: the three
demo people linked, Dana Freelancer waiting in needs attention, last month's approved time on the
demo contracts (the entry edited after approval with its new hours, the deleted and unapproved
ones not billed), the expenses in posted reports, and Benedict's cost-rate change."""

from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import _super_send

from odoo.addons.connector_base.engine.redaction import SECRETS
from odoo.addons.connector_base.tests.common import TEST_KEY, drain_queue, harness_keys, vault_keys

try:
    from tests.fakes import demo_psa, psa_seed
    from tests.fakes.harvest import FakeHarvest
    from tests.fakes.kantata import FakeKantata
except ImportError:  # pragma: no cover - addon installed outside the repository
    demo_psa = psa_seed = None


def demo_fake(tool):
    """The fake of `make demo` (its credentials: those of the demo backends), on a free port:
    8083/8084 may be taken by a running demo."""
    if tool == "harvest":
        return FakeHarvest(
            account_id=demo_psa.HARVEST_ACCOUNT_ID,
            personal_access_token=demo_psa.HARVEST_TOKEN,
            client_id=demo_psa.HARVEST_CLIENT_ID,
            client_secret=demo_psa.HARVEST_CLIENT_SECRET,
        )
    return FakeKantata(
        client_id=demo_psa.KANTATA_CLIENT_ID,
        client_secret=demo_psa.KANTATA_CLIENT_SECRET,
        api_token=demo_psa.KANTATA_TOKEN,
    )


class DemoTests:
    BACKEND = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert demo_psa is not None, "run the tests from the repository root"
        cls._keys = vault_keys(TEST_KEY, *harness_keys())
        cls._keys.__enter__()
        cls.addClassCleanup(cls._keys.__exit__, None, None, None)
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if r.url.startswith("http://127.0.0.1"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.addCleanup(SECRETS.clear)
        self.fake = demo_fake(self.BACKEND.rpartition("_")[2]).start()
        self.addCleanup(self.fake.stop)
        self.ids = self.fake.seed_demo()
        self.backend = self.env.ref(self.BACKEND)
        self.env["connector.backend"].search([]).write({"state": "paused"})
        base = self.fake.url
        self.backend.write(
            {"api_base_url": base + self.API_PATH, "auth_base_url": base, "timeout_read": 10}
        )
        self.backend.action_activate()
        self.Job = self.env["connector.job"]

    def drain(self):
        drain_queue(self.Job, budget=120, domain=[("backend_id", "=", self.backend.id)])

    def pull(self, *codes):
        for code in codes:
            stream = self.backend.stream_ids.filtered(lambda s, c=code: s.code == c)
            stream._schedule_pull(fields.Datetime.now(), source="user")
            self.drain()

    def test_the_demo_month_imports_as_promised(self):
        self.pull("psa_people", "psa_time", "psa_expenses")
        people = self.env["connector.psa.person"].search([("backend_id", "=", self.backend.id)])
        linked = {p.email for p in people if p.state == "linked"}
        for key in ("alexandra", "benedict", "chloe"):
            self.assertIn(psa_seed.user_by_key(key)["email"], linked)
        dana = people.filtered(lambda p: p.email == "dana.freelancer@example.com")
        self.assertEqual(dana.state, "unlinked", "Dana has no employee on purpose")

        start, end = psa_seed.demo_month(fields.Date.today())
        entries = psa_seed.demo_time_entries(start, end)
        unapproved = psa_seed.pick(entries, psa_seed.UNAPPROVED_AFTER_APPROVAL)
        deleted = psa_seed.pick(entries, psa_seed.DELETED_AFTER_APPROVAL)
        expected = [
            e
            for e in entries
            if e["approval"] == "approved"
            and e["user"] != "dana"
            and e is not deleted
            and not self.same_timesheet(e, unapproved)
        ]
        lines = self.env["account.analytic.line"].search([("psa_backend_id", "=", self.backend.id)])
        self.assertEqual(len(lines), len(expected), "every approved entry of a linked person")
        edited = psa_seed.pick(entries, psa_seed.EDITED_AFTER_APPROVAL["key"])
        line = lines.filtered(
            lambda ln: (
                ln.date == edited["date"] and ln.name == psa_seed.EDITED_AFTER_APPROVAL["notes"]
            )
        )
        self.assertAlmostEqual(line.unit_amount, float(psa_seed.EDITED_AFTER_APPROVAL["hours"]))
        waiting = self.Job.search(
            [
                ("backend_id", "=", self.backend.id),
                ("state", "=", "needs_attention"),
                ("operation", "=", "psa.time.entry"),
            ]
        )
        self.assertEqual(
            len(waiting),
            sum(1 for e in entries if e["user"] == "dana" and e["approval"] == "approved"),
        )
        self.assertTrue(all("Dana Freelancer" in job.last_error for job in waiting))
        self.assertFalse(
            lines.filtered(lambda ln: not ln.so_line and ln.psa_billable),
            "every billable entry found its contract line (mappings mirror psa_seed)",
        )
        expenses = self.env["hr.expense"].search([("psa_backend_id", "=", self.backend.id)])
        self.assertEqual(len(expenses), sum(1 for e in psa_seed.DEMO_EXPENSES if e[0] != "dana"))
        self.assertEqual(set(expenses.sheet_id.mapped("state")), {"post"})

        self.assert_cost_rates(start)


@tagged("post_install", "-at_install")
class TestHarvestDemo(DemoTests, TransactionCase):
    BACKEND = "connector_psa.backend_demo_harvest"
    API_PATH = ""

    def same_timesheet(self, entry, unapproved):
        return entry is unapproved

    def assert_cost_rates(self, start):
        benedict = self.env.ref("ps_billing_rules.employee_demo_senior")
        rates = self.env["ps.cost.rate"].search([("employee_id", "=", benedict.id)])
        history = dict(psa_seed.cost_rate_history(psa_seed.user_by_key("benedict"), start))
        for day, amount in history.items():
            self.assertIn((day, float(amount)), [(r.date_from, r.cost) for r in rates])


@tagged("post_install", "-at_install")
class TestKantataDemo(DemoTests, TransactionCase):
    BACKEND = "connector_psa.backend_demo_kantata"
    API_PATH = "/api/v1"

    def assert_cost_rates(self, start):
        pass  # HR in Odoo owns them on this backend

    def same_timesheet(self, entry, unapproved):
        # Kantata approves weekly timesheets: rejecting one unapproves the person's whole week.
        week = unapproved["date"] - timedelta(days=unapproved["date"].weekday())
        return (entry["user"], entry["project"]) == (
            unapproved["user"],
            unapproved["project"],
        ) and (week <= entry["date"] < week + timedelta(days=7))
