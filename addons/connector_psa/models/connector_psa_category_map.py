from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ConnectorPsaCategoryMap(models.Model):
    """A PSA expense category -> the expense product of its hr.expense (by ID or by name)."""

    _name = "connector.psa.category.map"
    _description = "PSA expense category mapping"
    _inherit = ["connector.audited.mixin"]
    _order = "backend_id, psa_category_name, id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    psa_category_ref = fields.Char(string="PSA category ID")
    psa_category_name = fields.Char(string="PSA category")
    product_id = fields.Many2one(
        "product.product",
        string="Expense product",
        required=True,
        domain=[("can_be_expensed", "=", True)],
        help="Its re-invoicing policy decides whether billable expenses are billed to the "
        "contract (at cost or sales price, plus the contract's markup).",
    )

    @api.constrains("psa_category_ref", "psa_category_name")
    def _check_reference(self):
        for row in self:
            if not row.psa_category_ref and not row.psa_category_name:
                raise ValidationError(_("A category mapping needs the PSA category ID or name."))
