"""The README's walkthroughs, one browser tour per role, on the demo data: each step the README
names is a click in the tour, and the tours take the screenshots of docs/screenshots."""

from odoo.tests import HttpCase, tagged

from odoo.addons.connector_base.tests.screenshots import screenshots_of


@tagged("post_install", "-at_install", "is_tour")
class TestReadmeWalkthroughs(HttpCase):
    browser_size = "1440,900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The browser's login would rewrite web.base.url, which connector_base's staging guard
        # takes for a copied database (it pauses the backends).
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")

    def walk(self, tour, login, expected_screenshots):
        taken = {}
        with screenshots_of(taken):
            self.start_tour("/odoo", tour, login=login, timeout=240)
        self.assertEqual(
            sorted(taken),
            sorted(expected_screenshots),
            f"the {tour} tour took its screenshots",
        )
        for name, path in taken.items():
            self.assertGreater(path.stat().st_size, 10_000, f"{name}.png shows a page")

    def test_connector_operator(self):
        # The test server's URL is not the demo's: the staging guard would pause the backend, as
        # for a copied database, until an admin confirms the environment.
        backend = self.env.ref("connector_base.backend_demo_generic")
        backend.action_confirm_environment()
        # What the demo's queue runners do in its first minute: the no-op jobs done, the event
        # nobody handles waiting for a person.
        self.env["connector.job"]._cron_process_queue(time_budget=30)
        self.walk(
            "walkthrough_connector_operator",
            "connector.user",
            ["operator-monitoring", "operator-failed-jobs", "operator-job-needs-attention"],
        )
        job = self.env["connector.job"].search([("backend_id", "=", backend.id)])
        self.assertEqual(
            sorted(job.mapped("state")),
            ["cancelled", "done", "done", "pending"],
            "the event cancelled, the dead job queued again",
        )

    def test_billing_user(self):
        self.walk(
            "walkthrough_billing_user",
            "billing",
            [
                "billing-user-prebill-review",
                "billing-user-draft-invoice",
                "billing-user-run-billing",
                "billing-user-run-report",
                "billing-user-retainer-review",
                "billing-user-invoices",
                "billing-user-work-in-progress",
                "billing-user-kpi-dashboard",
            ],
        )

    def test_billing_manager(self):
        self.walk(
            "walkthrough_billing_manager",
            "billing.manager",
            [
                "billing-manager-time-to-approve",
                "billing-manager-close-period",
                "billing-manager-period-closed",
                "billing-manager-revenue-recognition",
            ],
        )
