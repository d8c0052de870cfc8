from odoo import api, models

CTX_SHOW_COMPANY = "crm_show_company"


class AccountFiscalPosition(models.Model):
    """A tax treatment maps to one fiscal position per company: the mapping screen shows each
    position with its company, as positions of different companies often share a name."""

    _inherit = "account.fiscal.position"

    @api.depends_context(CTX_SHOW_COMPANY)
    def _compute_display_name(self):
        super()._compute_display_name()
        if self.env.context.get(CTX_SHOW_COMPANY):
            for position in self.filtered("company_id"):
                position.display_name = f"{position.display_name} ({position.company_id.name})"
