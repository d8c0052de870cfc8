from odoo import fields, models

from ..engine import periods


class PsIcReconcileWizard(models.TransientModel):
    _name = "ps.ic.reconcile.wizard"
    _description = "Reconcile a period between the group's companies"

    date_from = fields.Date(
        required=True,
        default=lambda self: periods.last_closed_period(fields.Date.context_today(self))[0],
    )
    date_to = fields.Date(
        required=True,
        default=lambda self: periods.last_closed_period(fields.Date.context_today(self))[1],
    )

    def action_reconcile(self):
        self.ensure_one()
        self.check_access("write")
        self.env["ps.ic.reconciliation"].check_access("create")
        return self.env["ps.ic.reconciliation"]._open_period(self.date_from, self.date_to)
