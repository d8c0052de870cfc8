from odoo import _, fields, models
from odoo.exceptions import UserError

from ..engine import periods


def _default_period(model, index):
    return periods.last_closed_period(fields.Date.context_today(model))[index]


class PsIcRechargeWizard(models.TransientModel):
    _name = "ps.ic.recharge.wizard"
    _description = "Run an intercompany recharge"

    date_from = fields.Date(
        string="Period from", required=True, default=lambda self: _default_period(self, 0)
    )
    date_to = fields.Date(
        string="Period to", required=True, default=lambda self: _default_period(self, 1)
    )
    invoice_date = fields.Date(help="Empty: the last day of the period.")
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        default=lambda self: self.env.companies,
        help="Agreements whose provider or receiver is one of these.",
    )
    run_now = fields.Boolean(
        string="Run in this window",
        default=True,
        help="Recharge right away and show the report (a month of a few companies). Otherwise "
        "the run is queued and the recharge cron works through it in batches; the run shows its "
        "progress.",
    )

    def action_start(self):
        self.ensure_one()
        self.check_access("write")
        self.env["ps.ic.recharge.run"].check_access("create")
        if self.date_to < self.date_from:
            raise UserError(_("The period ends before it starts."))
        run = self.env["ps.ic.recharge.run"].create(
            {
                "name": _(
                    "Recharge %(from)s to %(to)s", **{"from": self.date_from, "to": self.date_to}
                ),
                "date_from": self.date_from,
                "date_to": self.date_to,
                "invoice_date": self.invoice_date or self.date_to,
                "company_ids": [(6, 0, self.company_ids.ids)],
            }
        )
        if self.run_now:
            run.action_run_now()
        else:
            run.action_start()
        return {
            "type": "ir.actions.act_window",
            "res_model": "ps.ic.recharge.run",
            "res_id": run.id,
            "view_mode": "form",
        }
