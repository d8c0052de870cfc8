from odoo import _, fields, models
from odoo.exceptions import UserError


class ConnectorAuditErasureWizard(models.TransientModel):
    """Anonymise one person's values in the connector audit log (right to erasure)."""

    _name = "connector.audit.erasure.wizard"
    _description = "Erase a person's data from the connector audit log"

    partner_id = fields.Many2one("res.partner", string="Person")
    extra_terms = fields.Text(
        string="Other identifying values",
        help="One per line: former e-mail addresses, phone numbers, names...",
    )
    erased_count = fields.Integer(readonly=True)

    def _terms(self):
        terms = []
        partner = self.partner_id
        if partner:
            terms += [partner.name, partner.email, partner.phone, getattr(partner, "mobile", None)]
        terms += (self.extra_terms or "").splitlines()
        return [t for t in terms if t]

    def action_erase(self):
        self.ensure_one()
        self.env["connector.backend"]._check_manager()
        terms = self._terms()
        if not self.partner_id and not terms:
            raise UserError(_("Choose a person or type at least one value to erase."))
        self.erased_count = (
            self.env["connector.audit.log"].sudo()._erase_person(self.partner_id, terms)
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Audit log anonymised"),
                "message": _("%s entries changed.", self.erased_count),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
