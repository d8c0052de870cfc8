from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..engine import periods


@tagged("post_install", "-at_install", "is_tour")
class TestRechargeTour(HttpCase):
    def test_controller_runs_posts_and_reconciles_a_month(self):
        controller = self.env.ref("ps_intercompany.user_demo_controller")
        project = self.env.ref("ps_intercompany.demo_project_us")
        elena = self.env.ref("ps_intercompany.demo_employee_elena")
        oliver = self.env.ref("ps_intercompany.demo_employee_oliver")
        last_month = periods.last_closed_period(fields.Date.today())
        date_from, date_to = periods.last_closed_period(last_month[0])  # the month before last
        Line = self.env["account.analytic.line"].with_context(
            allowed_company_ids=controller.company_ids.ids
        )
        for offset, employee, hours in ((2, elena, 6.0), (3, elena, 6.5), (4, oliver, 5.0)):
            Line.create(
                {
                    "name": "Data platform delivery",
                    "employee_id": employee.id,
                    "project_id": project.id,
                    "unit_amount": hours,
                    "date": date_from + timedelta(days=offset),
                    "ps_approval_state": "approved",
                }
            )
        self.start_tour(
            "/odoo/action-ps_intercompany.action_ps_ic_recharge_wizard",
            "ps_ic_month_recharge_tour",
            login=controller.login,
        )
        run = self.env["ps.ic.recharge.run"].search(
            [("date_from", "=", date_from), ("date_to", "=", date_to)], order="id desc", limit=1
        )
        self.assertEqual(run.user_id, controller, "the controller ran the month's recharge")
        self.assertEqual(len(run.recharge_ids), 2, "EU -> US and UK -> US")
        self.assertTrue(all(recharge.state == "mirrored" for recharge in run.recharge_ids))
        group = controller.company_ids
        reconciliations = self.env["ps.ic.reconciliation"].search(
            [
                ("date_from", "=", date_from),
                ("date_to", "=", date_to),
                ("company_a_id", "in", group.ids),
                ("company_b_id", "in", group.ids),
            ]
        )
        self.assertEqual(len(reconciliations), 2)
        self.assertEqual(set(reconciliations.mapped("state")), {"tied"})
