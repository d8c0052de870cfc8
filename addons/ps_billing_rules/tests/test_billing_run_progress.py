"""Issue 8, case 13: a billing run's form moves while the user looks (Odoo's bus, and a refresh
while the run is queued or running)."""

import json
from datetime import date

from odoo.tests import HttpCase, tagged

from .common import TimeAndMaterialsCase


@tagged("post_install", "-at_install")
class TestRunProgressNotifications(TimeAndMaterialsCase):
    def test_each_chunk_tells_the_runs_user_where_it_is(self):
        self.log(self.ben, 5, date(2026, 10, 5), self.line)
        run = (
            self.env["ps.billing.run"]
            .with_user(self.billing_user)
            .create({"period_end": date(2026, 10, 31), "order_ids": [(6, 0, self.order.ids)]})
        )
        run.action_start()
        self.env["bus.bus"].search([]).unlink()
        run.sudo()._process(time_budget=None)
        self.env.cr.precommit.run()  # the bus writes its notifications when the chunk commits
        notes = [
            (json.loads(note.channel), json.loads(note.message))
            for note in self.env["bus.bus"].search([], order="id")
        ]
        progress = [
            (channel, message["payload"])
            for channel, message in notes
            if message["type"] == "ps_billing_run_progress"
            and message["payload"]["run_id"] == run.id
        ]
        self.assertEqual(
            [payload["state"] for _channel, payload in progress],
            ["running", "done"],
            "a notification after the chunk and one when the run is done",
        )
        self.assertEqual(
            {tuple(channel[1:]) for channel, _payload in progress},
            {("res.partner", self.billing_user.partner_id.id)},
            "sent to the run's user",
        )
        self.assertEqual((progress[-1][1]["done"], progress[-1][1]["total"]), (1, 1))


@tagged("post_install", "-at_install", "is_tour")
class TestRunProgressTour(HttpCase):
    def test_the_run_form_moves_without_a_reload(self):
        globex = self.env.ref("ps_billing_rules.partner_demo_globex")
        contract = self.env["sale.order"].search(
            [("partner_id", "=", globex.id), ("ps_governed", "=", True)], limit=1
        )
        run = self.env["ps.billing.run"].create(
            {
                "name": "Watched run",
                "period_end": date.today().replace(day=1),
                "order_ids": [(6, 0, contract.ids)],
            }
        )
        run.action_start()
        self.assertEqual((run.state, run.progress), ("queued", 0.0))
        self.start_tour(
            f"/odoo/action-ps_billing_rules.action_ps_billing_run/{run.id}",
            "ps_billing_run_progress_tour",
            login="admin",
        )
        self.assertEqual(
            (run.state, run.progress, len(run.invoice_ids)),
            ("done", 100.0, 1),
            run.line_ids.mapped("detail"),
        )
