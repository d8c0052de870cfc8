"""Odoo -> PSA for Harvest and Kantata: a governed contract confirmed with a project (by hand
here: no CRM involved) becomes the client, the project coded with the contract reference, its
budget, billing basis, dates, one task per contract line and the people assigned; a retried job
creates nothing twice; an amendment updates budget and tasks; time logged on it comes back to
the right contract line."""

from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class ProvisioningTests:
    def setUp(self):
        super().setUp()
        self.backend.psa_provisioning = True
        self.sync_people()
        self.start = self.today - timedelta(days=10)
        self.contract = self.env["sale.order"].create(
            {
                "partner_id": self.env["res.partner"].create({"name": "Umbrella Labs"}).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "name": "Data migration",
                            "product_uom_qty": 80,
                            "price_unit": 160.0,
                            "ps_billing_model": "tm",
                            "ps_service_start": self.start,
                            "ps_service_end": self.start + timedelta(days=90),
                        }
                    )
                ],
            }
        )

    def confirm(self):
        self.contract.action_confirm()
        self.contract.project_id.sale_line_employee_ids = [
            Command.create(
                {
                    "employee_id": self.employees["ann"].id,
                    "sale_line_id": self.contract.order_line.id,
                }
            )
        ]
        self.drain()
        return self.contract.project_id

    def test_contract_provisioned_once_and_amended(self):
        # An integration user is a technical account: often without an e-mail address.
        self.integration_user.partner_id.email = False
        project = self.confirm()
        code = self.contract.psa_project_code
        self.assertEqual(code, self.contract.name, "the code is the contract reference")
        jobs = self.jobs("psa.provision")
        self.assertEqual(jobs.mapped("state"), ["done"], jobs.mapped("last_error"))
        self.assertIn(
            f"Provisioned in {self.world.fake.__class__.__name__[4:]}",
            "".join(self.contract.message_ids.mapped("body")),
            "the contract's chatter says what was provisioned",
        )
        remote = self.remote_project(code)
        self.assertTrue(remote, f"the PSA has a project coded {code}")
        self.assert_budget(remote, 80)
        self.assert_tasks(remote, ["Data migration"])
        self.assertIn(self.world.users["ann"], self.assigned(remote), "the people assigned")
        binding = self.env["connector.binding"]._find_binding(self.backend, project, "project")
        self.assertEqual(binding.remote_id, str(remote["id"]))
        self.assertTrue(
            project.psa_project_url.endswith(str(remote["id"])), "a link on the project"
        )
        mapping = self.env["connector.psa.task.map"].search(
            [("backend_id", "=", self.backend.id), ("project_id", "=", project.id)]
        )
        self.assertEqual(mapping.sale_line_id, self.contract.order_line)

        # A retried job (e.g. its answer was lost) finds what it made: no second project.
        self.backend._job_handler("psa.provision")(jobs)
        self.assertEqual(self.count_projects(code), 1)

        # An amendment: more hours and a new line; the same job updates budget and tasks.
        self.contract.order_line.product_uom_qty = 120
        self.contract.order_line = [
            Command.create(
                {
                    "product_id": self.product.id,
                    "name": "Training",
                    "product_uom_qty": 16,
                    "price_unit": 140.0,
                    "ps_billing_model": "tm",
                }
            )
        ]
        self.drain()
        remote = self.remote_project(code)
        self.assertEqual(self.count_projects(code), 1)
        self.assert_budget(remote, 136)
        self.assert_tasks(remote, ["Data migration", "Training"])

    def test_time_on_a_provisioned_project_comes_back_to_its_line(self):
        project = self.confirm()
        training = self.contract.order_line.copy(
            {"order_id": self.contract.id, "name": "Training", "price_unit": 140.0}
        )
        self.drain()
        remote = self.remote_project(self.contract.psa_project_code)
        entry = self.log_on(remote, "Training", "ann", self.today - timedelta(days=2), 3.0)
        self.pull()
        line = self.line_of(entry)
        self.assertEqual((line.project_id, line.so_line), (project, training))


@tagged("post_install", "-at_install")
class TestHarvestProvisioning(ProvisioningTests, PsaCase):
    WORLD = HarvestWorld

    def remote_project(self, code):
        projects = [p for p in self.world.fake.store.projects.values() if p["code"] == code]
        return projects[0] if projects else None

    def count_projects(self, code):
        return sum(1 for p in self.world.fake.store.projects.values() if p["code"] == code)

    def assert_budget(self, remote, hours):
        self.assertEqual((remote["budget_by"], float(remote["budget"])), ("project", hours))
        self.assertEqual(remote["bill_by"], "Tasks", "billed by task: the contract lines' rates")
        self.assertEqual(remote["starts_on"], self.start)

    def assert_tasks(self, remote, names):
        store = self.world.fake.store
        assigned = sorted(
            store.tasks[a["task_id"]]["name"]
            for a in store.task_assignments.values()
            if a["project_id"] == remote["id"]
        )
        self.assertEqual(assigned, sorted(names))

    def assigned(self, remote):
        return [
            a["user_id"]
            for a in self.world.fake.store.user_assignments.values()
            if a["project_id"] == remote["id"]
        ]

    def log_on(self, remote, task_name, user, day, hours):
        store = self.world.fake.store
        task = next(t["id"] for t in store.tasks.values() if t["name"] == task_name)
        return self.world.fake.log_time(
            self.world.users[user], remote["id"], task, day, hours, approval="approved"
        )


@tagged("post_install", "-at_install")
class TestKantataProvisioning(ProvisioningTests, PsaCase):
    WORLD = KantataWorld

    def _references(self, code):
        store = self.world.fake.store
        return [
            ref
            for ref in store.external_references.values()
            if ref["subject_type"] == "Workspace" and ref["service_model_ref"] == code
        ]

    def remote_project(self, code):
        refs = self._references(code)
        return self.world.fake.store.workspaces[refs[0]["subject_id"]] if refs else None

    def count_projects(self, code):
        return len(self._references(code))

    def assert_budget(self, remote, hours):
        amount = sum(self.contract.order_line.mapped("price_subtotal"))
        self.assertEqual(remote["price_in_cents"], round(amount * 100), "the contract's budget")
        self.assertEqual(remote["start_date"], self.start)

    def assert_tasks(self, remote, names):
        stories = [
            s["title"]
            for s in self.world.fake.store.stories.values()
            if s["workspace_id"] == remote["id"]
        ]
        self.assertEqual(sorted(stories), sorted(names))

    def assigned(self, remote):
        return [
            p["user_id"]
            for p in self.world.fake.store.participations.values()
            if p["workspace_id"] == remote["id"]
        ]

    def log_on(self, remote, task_name, user, day, hours):
        store = self.world.fake.store
        story = next(
            s["id"]
            for s in store.stories.values()
            if s["title"] == task_name and s["workspace_id"] == remote["id"]
        )
        return self.world.fake.log_time(
            self.world.users[user],
            remote["id"],
            day,
            int(hours * 60),
            story_id=story,
            approved=True,
        )
