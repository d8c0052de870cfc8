"""Approved PSA time -> exactly one approved timesheet line per entry, over loopback HTTP, for
Harvest and Kantata: values, idempotent re-import, approval, and the validation that sends bad
entries (only them) to needs attention until a fix and a Retry import them."""

from odoo.tests import tagged

from .common import CONSULTING, INTERNAL, PSA_RATE, HarvestWorld, KantataWorld, PsaCase


class TimeImportTests:
    def test_approved_time_becomes_one_approved_line_per_entry(self):
        self.sync_people()
        first, second = self.day(2), self.day(3)
        workshop = self.world.log("ann", first, 1.1, notes="Workshop preparation")
        internal = self.world.log("bob", second, 3.0, task=INTERNAL, notes="Team sync")
        pending = self.world.log("ann", second, 2.0, approved=False)
        self.pull()

        self.assertEqual(len(self.lines()), 2, "only the two approved entries are imported")
        line = self.line_of(workshop)
        self.assertEqual(line.date, first, "the PSA's date of work, as a plain date")
        rounded = 1.25 if self.world.tool == "harvest" else 1.1  # Harvest rounds up to 15 min
        self.assertAlmostEqual(line.unit_amount, rounded, msg="rounded hours by default")
        self.assertAlmostEqual(line.psa_hours, 1.1, msg="the exact hours are kept beside")
        self.assertEqual(line.name, "Workshop preparation")
        self.assertEqual(line.employee_id, self.employees["ann"])
        self.assertEqual((line.project_id, line.so_line), (self.project, self.line))
        self.assertEqual(line.ps_approval_state, "approved")
        self.assertEqual(line.ps_approved_by_id, self.integration_user)
        self.assertEqual(line.ps_billing_state, "unbilled")
        self.assertTrue(line.psa_billable)
        self.assertAlmostEqual(line.ps_rate, 150.0, msg="Odoo prices it (contract line price)")
        self.assertAlmostEqual(line.psa_billable_rate, PSA_RATE, msg="the PSA's rate is kept")
        self.assertEqual(line.psa_rate_status, "differs")
        self.assertAlmostEqual(line.psa_rate_difference, 10.0)
        nonbillable = self.line_of(internal)
        self.assertFalse(nonbillable.so_line, "non-billable time is on no contract line")
        self.assertEqual(nonbillable.ps_billing_state, "non_billable")
        self.assertFalse(self.line_of(pending), "submitted time waits for its approval")

        # Approval in the PSA: the next pull imports it; what was imported is not touched.
        before = {line.id: line.write_date for line in self.lines()}
        Audit = self.env["connector.audit.log"]
        audited = [("res_model", "=", "account.analytic.line"), ("res_id", "in", list(before))]
        writes = Audit.search_count(audited)
        self.world.approve(pending)
        self.pull()
        self.assertEqual(len(self.lines()), 3)
        self.assertEqual(self.line_of(pending).unit_amount, 2.0)
        for line_id, stamp in before.items():
            self.assertEqual(self.Line.browse(line_id).write_date, stamp, "re-read, unchanged")
        self.assertEqual(Audit.search_count(audited), writes, "nothing imported is rewritten")
        self.assertTrue(
            Audit.search_count(
                [("res_id", "=", self.line_of(pending).id), ("action", "=", "create")]
            ),
            "the import is audited",
        )

    def test_reimport_is_idempotent(self):
        self.sync_people()
        ids = [self.world.log("ann", self.day(d), 2.0) for d in (1, 2, 3)]
        self.pull()
        lines = self.lines()
        self.assertEqual(len(lines), 3)
        # A resync from the start and a replayed import job change nothing.
        stream = self.backend.stream_ids.filtered(lambda s: s.code == "psa_time")
        stream.write({"cursor_date": False, "cursor_value": False})
        self.world.log("bob", self.day(4), 1.0)  # a new entry: the page is a new batch
        self.pull()
        batch = self.jobs("psa.time.batch", "done")[-1]
        self.backend._job_handler("psa.time.batch")(batch)
        self.assertEqual(len(self.lines()), 4, "each entry imported once")
        self.assertEqual(self.lines().filtered(lambda ln: ln.psa_remote_id in map(str, ids)), lines)

    def test_exact_hours_setting(self):
        self.backend.psa_hours_used = "exact"
        self.sync_people()
        entry = self.world.log("ann", self.day(2), 1.1)
        self.pull()
        self.assertAlmostEqual(self.line_of(entry).unit_amount, 1.1)

    def test_bad_entries_need_attention_the_others_are_imported(self):
        self.sync_people()
        day = self.day(5)
        self.Line.create(
            {
                "name": "Typed in Odoo",
                "employee_id": self.employees["bob"].id,
                "project_id": self.project.id,
                "unit_amount": 20,
                "date": day,
            }
        )
        good = self.world.log("ann", day, 2.0)
        unknown = self.world.log("cid", day, 3.0)
        over = self.world.log("bob", day, 5.0)
        wrong_flag = self.world.log("ann", self.day(6), 1.0, task=INTERNAL)
        self.world.edit(wrong_flag, billable=True)
        self.pull()

        self.assertTrue(self.line_of(good), "a good entry is not held back by bad ones")
        attention = self.jobs("psa.time.entry", "needs_attention")
        self.assertEqual(len(attention), 3, attention.mapped("last_error"))
        errors = {job.record_key: job.last_error for job in attention}
        self.assertIn("[unknown_user]", errors[f"time:{unknown}"])
        self.assertIn(f" {unknown} ", errors[f"time:{unknown}"], "the message names the entry")
        self.assertIn("To fix: open Connectors > PSA > People", errors[f"time:{unknown}"])
        self.assertIn("[day_over_24h]", errors[f"time:{over}"])
        self.assertIn("25 hours", errors[f"time:{over}"])
        self.assertIn("[billable_on_non_billable_line]", errors[f"time:{wrong_flag}"])

        # Fix: create the employee of the unknown person; its waiting jobs are retried.
        person = self.env["connector.psa.person"].search(
            [("backend_id", "=", self.backend.id), ("email", "=", "cid.contractor@example.com")]
        )
        self.assertEqual(person.state, "unlinked", "listed, to link, although its job failed")
        person.with_user(self.connector_manager).action_create_employee()
        self.drain()
        line = self.line_of(unknown)
        self.assertTrue(line, "after the fix, Retry imported it")
        self.assertEqual(line.employee_id.work_email, "cid.contractor@example.com")

    def test_outside_the_contract_period_then_extended(self):
        self.sync_people()
        entry = self.world.log("ann", self.day(10), 2.0)
        self.line.ps_service_end = self.day(9)
        self.pull()
        job = self.jobs("psa.time.entry", "needs_attention")
        self.assertEqual(len(job), 1)
        self.assertIn("[after_contract]", job.last_error)
        self.assertFalse(self.line_of(entry))
        self.line.ps_service_end = self.day(40)
        job.action_retry()
        self.drain()
        self.assertTrue(self.line_of(entry), "Retry after extending the contract imports it")

    def test_entries_of_projects_without_a_contract(self):
        self.sync_people()
        self.order.psa_project_code = "ELSEWHERE"  # the PSA project carries no contract's code
        entry = self.world.log("ann", self.day(3), 2.0)
        self.pull()
        job = self.jobs("psa.time.entry", "needs_attention")
        self.assertIn("[unknown_project]", job.last_error)
        self.assertIn("give the contract this PSA project code", job.last_error)
        self.backend.psa_unknown_projects = "ignore"
        other = self.world.log("bob", self.day(4), 1.0)
        self.pull()
        self.assertEqual(len(self.jobs("psa.time.entry", "needs_attention")), 1, "ignored")
        self.assertFalse(self.line_of(other) | self.line_of(entry))
        self.order.psa_project_code = self.world.fake_code
        job.action_retry()
        self.drain()
        self.assertTrue(self.line_of(entry), "linked by its code, then imported")

    def test_unknown_task_waits_for_its_mapping(self):
        self.sync_people()
        self.project.sale_line_id = False  # no default line: the task must be mapped
        entry = self.world.log("ann", self.day(3), 2.0)
        self.pull()
        job = self.jobs("psa.time.entry", "needs_attention")
        self.assertIn("[unknown_task]", job.last_error)
        row = self.env["connector.psa.task.map"].search(
            [("backend_id", "=", self.backend.id), ("state", "=", "to_map")]
        )
        self.assertEqual(row.psa_task_name, CONSULTING, "the task is listed, to be mapped")
        row.sale_line_id = self.line
        job.action_retry()
        self.drain()
        self.assertEqual(self.line_of(entry).so_line, self.line)


@tagged("post_install", "-at_install")
class TestHarvestTimeImport(TimeImportTests, PsaCase):
    WORLD = HarvestWorld


@tagged("post_install", "-at_install")
class TestKantataTimeImport(TimeImportTests, PsaCase):
    WORLD = KantataWorld
