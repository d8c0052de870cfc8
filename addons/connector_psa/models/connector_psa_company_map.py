from odoo import fields, models


class ConnectorPsaCompanyMap(models.Model):
    """Which company an employee created from a PSA user belongs to (first matching rule)."""

    _name = "connector.psa.company.map"
    _description = "PSA people: company mapping"
    _inherit = ["connector.audited.mixin"]
    _order = "backend_id, sequence, id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    match = fields.Selection(
        [("email_domain", "E-mail domain"), ("role", "PSA role")],
        required=True,
        default="email_domain",
    )
    value = fields.Char(required=True, help="e.g. acme-uk.example.com, or a PSA role name.")
    target_company_id = fields.Many2one("res.company", string="Company", required=True)
