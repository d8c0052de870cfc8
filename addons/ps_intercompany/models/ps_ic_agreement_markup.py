from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PsIcAgreementMarkup(models.Model):
    """A role's own mark-up under a cost-plus agreement (0 % allowed: e.g. pass-through roles)."""

    _name = "ps.ic.agreement.markup"
    _description = "Intercompany Mark-up per Role"
    _order = "agreement_id, job_id"

    agreement_id = fields.Many2one("ps.ic.agreement", required=True, ondelete="cascade", index=True)
    job_id = fields.Many2one("hr.job", string="Role", required=True)
    markup_percent = fields.Float(string="Mark-up (%)", digits=(16, 4), required=True)

    _sql_constraints = [
        (
            "agreement_job_uniq",
            "unique(agreement_id, job_id)",
            "One mark-up per role and agreement.",
        )
    ]

    @api.constrains("markup_percent")
    def _check_markup(self):
        for line in self:
            if line.markup_percent < 0:
                raise ValidationError(
                    _("Role %s: a mark-up cannot be negative (0 %% is at cost).", line.job_id.name)
                )
