from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.connector_psa_correction import RESOLUTIONS


class ConnectorPsaCorrectionResolve(models.TransientModel):
    """A Billing User's decision on corrections of billed data."""

    _name = "connector.psa.correction.resolve"
    _description = "Resolve PSA corrections"

    correction_ids = fields.Many2many("connector.psa.correction", string="Corrections")
    resolution = fields.Selection(RESOLUTIONS, required=True, default="adjust")
    reason = fields.Text(help="Required to keep what was billed.")
    preview = fields.Text(compute="_compute_preview", string="What will happen")

    @api.depends("resolution", "correction_ids")
    def _compute_preview(self):
        for wizard in self:
            lines = []
            for item in wizard.correction_ids:
                invoice = item.invoice_id.display_name or _("its invoice")
                if wizard.resolution == "adjust":
                    delta = (
                        -item.hours_old
                        if item.kind in ("deleted", "unapproved")
                        else item.hours_new - item.hours_old
                    )
                    lines.append(
                        _(
                            "%(name)s: an adjustment of %(delta)+.2f h is billed by the next "
                            "run (%(invoice)s is not changed).",
                            name=item.name,
                            delta=delta,
                            invoice=invoice,
                        )
                    )
                elif wizard.resolution == "credit_rebill":
                    what = (
                        _("cancelled (draft)")
                        if item.invoice_state == "draft"
                        else _("credited in full")
                    )
                    lines.append(
                        _(
                            "%(name)s: %(invoice)s is %(what)s; this line follows the PSA and "
                            "is billed by the next run, the invoice's other work goes back to "
                            "the pre-bill review.",
                            name=item.name,
                            invoice=invoice,
                            what=what,
                        )
                    )
                else:
                    lines.append(
                        _("%(name)s: %(invoice)s stays as billed.", name=item.name, invoice=invoice)
                    )
            wizard.preview = "\n".join(lines)

    def action_confirm(self):
        self.ensure_one()
        items = self.correction_ids
        if not items:
            raise UserError(_("Choose the corrections to resolve."))
        if self.resolution == "accept":
            items._resolve_accept(self.reason)
        elif self.resolution == "adjust":
            items._resolve_adjust()
        else:
            items._resolve_credit_rebill()
        return {"type": "ir.actions.act_window_close"}
