from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import date_utils

MANAGER_GROUP = "ps_billing_rules.group_billing_manager"


class PsPeriodCloseWizard(models.TransientModel):
    """Period close: revenue recognition and, when enabled, the WIP accrual. Both post journal
    entries: a Billing Manager closes periods (the menu is theirs; anyone else is told who can)."""

    _name = "ps.period.close.wizard"
    _description = "Close a billing period"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    period_end = fields.Date(
        required=True,
        default=lambda self: (
            date_utils.start_of(fields.Date.context_today(self), "month") - relativedelta(days=1)
        ),
    )
    result = fields.Text(readonly=True)

    @api.model
    def _check_manager(self):
        if self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        managers = (
            self.env.ref(MANAGER_GROUP)
            .sudo()
            .users.filtered(lambda user: not user.share and user.active and user.id > 2)
        )
        raise AccessError(
            _(
                "Closing a period posts revenue recognition and the WIP accrual: only a Billing "
                "Manager can do it (%(managers)s). Ask one of them, or an administrator to give "
                "you the Billing Manager group.",
                managers=", ".join(managers[:5].mapped("name")) or _("none yet"),
            )
        )

    @api.model
    def default_get(self, fields_list):
        self._check_manager()
        return super().default_get(fields_list)

    def action_close(self):
        self.ensure_one()
        self._check_manager()
        created, messages = self.env["ps.recognition.line"]._close_period(
            self.company_id, self.period_end
        )
        lines = [_("%s recognition entr(ies) posted.", len(created)), *messages]
        if self.company_id.ps_wip_accrual:
            accrual, wip_messages = self.env["ps.wip.accrual"]._accrue(
                self.company_id, self.period_end
            )
            lines.append(
                _("WIP accrual: %s", accrual.move_id.name) if accrual else _("No WIP accrual.")
            )
            lines += wip_messages
        self.result = "\n".join(str(line) for line in lines)
        return {
            "type": "ir.actions.act_window",
            "name": _("Close a period"),  # the dialog keeps its title when it shows the result
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
