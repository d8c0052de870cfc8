from odoo import fields, models

from .ps_ic_elimination_report import GROUP_COMPANY_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ps_ic_group_company_id = fields.Many2one(
        "res.company",
        string="Group company (intercompany reporting)",
        config_parameter=GROUP_COMPANY_PARAM,
        help="Reconciliations and the elimination report convert into this company's currency "
        "with its exchange rates. Empty: the first main company.",
    )
