from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PsIcNettingWizard(models.TransientModel):
    _name = "ps.ic.netting.wizard"
    _description = "Propose an intercompany netting"

    company_a_id = fields.Many2one("res.company", string="Company", required=True)
    company_b_id = fields.Many2one("res.company", string="Other company", required=True)
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    date = fields.Date(required=True, default=fields.Date.context_today)

    @api.depends("company_a_id", "company_b_id")
    def _compute_currency(self):
        """The charge currency of an agreement between the two companies, else the company's."""
        for wizard in self:
            companies = wizard.company_a_id | wizard.company_b_id
            agreement = (
                self.env["ps.ic.agreement"]
                .sudo()
                .search(
                    [
                        ("provider_company_id", "in", companies.ids),
                        ("receiver_company_id", "in", companies.ids),
                    ],
                    limit=1,
                )
            )
            wizard.currency_id = agreement.currency_id or wizard.company_a_id.currency_id

    def action_propose(self):
        self.ensure_one()
        self.check_access("write")
        if self.company_a_id == self.company_b_id:
            raise UserError(_("Choose two companies."))
        netting = self.env["ps.ic.netting"]._propose(
            self.company_a_id, self.company_b_id, self.currency_id, self.date
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "ps.ic.netting",
            "res_id": netting.id,
            "view_mode": "form",
        }
