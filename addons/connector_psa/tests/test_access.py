"""Who may do what: Billing Users resolve corrections and read the rate discrepancy report,
Connector Users see corrections but do not resolve them nor link people, Connector Managers
link people."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import HarvestWorld, PsaCase


@tagged("post_install", "-at_install")
class TestAccess(PsaCase):
    WORLD = HarvestWorld

    def test_resolving_needs_a_billing_user_and_people_a_connector_manager(self):
        connector_user = new_test_user(
            self.env,
            login="psa_connector_user_test",
            groups="base.group_user,connector_base.group_connector_user",
        )
        self.sync_people()
        entry = self.world.log("ann", self.day(2), 2.0)
        self.pull()
        self.bill()
        self.world.edit(entry, hours=3.0)
        self.pull()
        item = self.env["connector.psa.correction"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(item.with_user(connector_user).read(["hours_new"])[0]["hours_new"], 3.0)
        with self.assertRaises(UserError):
            item.with_user(connector_user)._resolve_accept("not mine to decide")
        with self.assertRaises(AccessError):
            item.with_user(connector_user).write({"state": "resolved"})
        with self.assertRaises(AccessError, msg="the wizard is a Billing User's"):
            item.with_user(connector_user).action_resolve()
        with self.assertRaises(AccessError, msg="resolved only through a resolution, with audit"):
            item.with_user(self.billing_user).write({"state": "resolved"})
        self.assertEqual(
            item.with_user(self.billing_user).action_resolve()["res_model"],
            "connector.psa.correction.resolve",
        )
        item.with_user(self.billing_user).message_post(body="Asked the PM why")
        report = (
            self.env["connector.psa.rate.discrepancy"]
            .with_user(self.billing_user)
            .search_read([("remote_id", "=", str(entry))], ["status", "rate_difference"])
        )
        self.assertEqual(
            (report[0]["status"], report[0]["rate_difference"]),
            ("differs", 10.0),
            "a Billing User reads the report of everyone's imported time",
        )
        with self.assertRaises(AccessError):
            self.env["connector.psa.rate.discrepancy"].with_user(connector_user).search([])
        person = self.env["connector.psa.person"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "unlinked")], limit=1
        )
        with self.assertRaises(UserError, msg="linking people is a Connector Manager's"):
            person.with_user(connector_user).action_create_employee()
        self.assertEqual(person.state, "unlinked")

    def test_screens_of_the_backend(self):
        self.sync_people()
        entry = self.world.log("ann", self.day(2), 2.0)
        self.pull()
        backend = self.backend.with_user(self.connector_manager)
        self.assertEqual(backend.psa_line_count, 1)
        lines = backend.action_psa_open_lines()
        self.assertEqual(
            self.env["account.analytic.line"].search(lines["domain"]).psa_remote_id, str(entry)
        )
        people = backend.action_psa_open_people()
        self.assertEqual(len(self.env["connector.psa.person"].search(people["domain"])), 4)
        self.assertEqual(backend.psa_attention_count, 2, "the two PSA users without employee")
        projects = backend.action_psa_open_projects()
        self.assertEqual(
            self.env["connector.binding"].search(projects["domain"]).res_id,
            self.project.id,
            "the PSA project was linked by its code",
        )
        for model in (
            "connector.psa.correction",
            "connector.psa.rate.discrepancy",
            "connector.psa.person",
            "connector.psa.task.map",
        ):
            views = self.env[model].with_user(
                self.billing_user
                if "correction" in model or "rate" in model
                else self.connector_manager
            )
            self.assertTrue(views.get_views([(False, "list"), (False, "form")])["views"])
