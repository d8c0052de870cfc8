"""People for Harvest and Kantata: PSA users linked to employees by e-mail (the others need
attention until Link or Create employee), employees created in the mapped company when the PSA
owns people, and cost rates with their effective dates that never revalue imported time."""

from datetime import date
from decimal import Decimal

from odoo.tests import tagged

from .common import HarvestWorld, KantataWorld, PsaCase


class PeopleTests:
    def person(self, email):
        return self.env["connector.psa.person"].search(
            [("backend_id", "=", self.backend.id), ("email", "=", email)]
        )

    def test_linked_by_email_the_others_need_attention_until_linked(self):
        self.sync_people()
        ann = self.person("ann.lead@example.com")
        self.assertEqual(ann.employee_id, self.employees["ann"], "matched by e-mail")
        self.assertEqual(self.employees["ann"].connector_binding_count, 1, "External IDs")
        cid = self.person("cid.contractor@example.com")
        self.assertEqual(cid.state, "unlinked")
        job = self.jobs("psa.person.sync", "needs_attention").filtered(
            lambda j: j.record_key == f"user:{cid.remote_id}"
        )
        self.assertIn(
            "Cid Contractor <cid.contractor@example.com> matches no employee", job.last_error
        )
        self.assertIn("Link to an employee or Create employee", job.last_error)
        self.assertEqual(job.action_psa_open_person()["res_id"], cid.id)
        freelancer = self.env["hr.employee"].create({"name": "Cid C. (freelance)"})
        cid.with_user(self.connector_manager).write({"employee_id": freelancer.id})
        cid.with_user(self.connector_manager).action_link()
        self.drain()
        self.assertEqual(job.state, "done", "Link retried the waiting job")
        self.assertEqual(
            self.env["connector.binding"]._find(self.backend, "user", cid.remote_id), freelancer
        )

    def test_time_pulled_before_its_person_is_taken_up_once_the_person_is_linked(self):
        """A first pull runs the people and the time streams side by side: an entry of a person
        not linked yet waits, and the people sync that links the person takes it up again
        (the demo showed 65 such entries left in Needs attention)."""
        entry = self.world.log("ann", self.day(2), 2.0)
        self.pull()
        waiting = self.jobs("psa.time.entry", "needs_attention")
        self.assertEqual(len(waiting), 1, "Ann is not linked yet")
        self.assertIn("not linked to an employee", waiting.last_error)
        self.sync_people()
        self.assertEqual(waiting.state, "done", waiting.last_error)
        self.assertEqual(self.line_of(entry).employee_id, self.employees["ann"])

    def test_psa_owned_people_created_in_the_mapped_company(self):
        other = self.env["res.company"].create({"name": "Initech Consulting UK (test)"})
        self.integration_user.company_ids |= other
        self.backend.write(
            {
                "psa_people_owner": "psa",
                "company_ids": [(4, other.id)],
                "psa_company_map_ids": [
                    (
                        0,
                        0,
                        {
                            "match": "email_domain",
                            "value": "uk.example.com",
                            "target_company_id": other.id,
                        },
                    )
                ],
            }
        )
        self.world.add_person("dee", "Dee", "Newcomer", "dee.newcomer@uk.example.com")
        self.sync_people()
        dee = self.person("dee.newcomer@uk.example.com").employee_id
        self.assertEqual((dee.name, dee.company_id), ("Dee Newcomer", other))

    def test_cost_rate_history_never_revalues_imported_time(self):
        self.backend.psa_people_owner = "psa"
        self.world.set_cost_rate("ann", date(2026, 5, 1), Decimal("60"))
        self.sync_people()
        entry = self.world.log("ann", date(2026, 5, 15), 2.0)
        self.pull()
        line = self.line_of(entry)
        self.assertAlmostEqual(line.ps_cost_rate, 60.0)
        self.world.set_cost_rate("ann", date(2026, 5, 10), Decimal("80"))
        self.sync_people()
        rates = self.env["ps.cost.rate"].search([("employee_id", "=", self.employees["ann"].id)])
        self.assertIn((date(2026, 5, 10), 80.0), [(r.date_from, r.cost) for r in rates])
        self.assertAlmostEqual(line.ps_cost_rate, 60.0, msg="imported time keeps its cost")
        later = self.world.log("ann", date(2026, 5, 20), 1.0)
        self.pull()
        self.assertAlmostEqual(self.line_of(later).ps_cost_rate, 80.0, msg="the rate of its day")


@tagged("post_install", "-at_install")
class TestHarvestPeople(PeopleTests, PsaCase):
    WORLD = HarvestWorld

    def test_harvest_history_with_end_dates(self):
        self.backend.psa_people_owner = "psa"
        self.world.set_cost_rate("bob", date(2026, 1, 1), Decimal("65"))
        self.world.set_cost_rate("bob", date(2026, 7, 1), Decimal("72.5"))
        self.sync_people()
        rates = self.env["ps.cost.rate"].search(
            [("employee_id", "=", self.employees["bob"].id)], order="date_from"
        )
        self.assertEqual(
            [(r.date_from, r.cost) for r in rates],
            [(date(2000, 1, 1), 60.0), (date(2026, 1, 1), 65.0), (date(2026, 7, 1), 72.5)],
            "each period of Harvest's history from its own date",
        )
        self.assertAlmostEqual(self.employees["bob"].hourly_cost, 72.5)


@tagged("post_install", "-at_install")
class TestKantataPeople(PeopleTests, PsaCase):
    WORLD = KantataWorld

    def test_kantata_rates_per_currency(self):
        self.backend.psa_people_owner = "psa"
        fake = self.world.fake
        fake.set_cost_rate(self.world.users["bob"], "EUR", 9900)  # not the company's currency
        self.sync_people()
        rates = self.env["ps.cost.rate"].search([("employee_id", "=", self.employees["bob"].id)])
        self.assertEqual(rates.mapped("cost"), [60.0], "the rate in the company's currency")
