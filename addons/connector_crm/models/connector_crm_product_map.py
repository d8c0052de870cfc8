from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ps_billing_rules.engine.constants import PERIOD_KINDS
from odoo.addons.ps_billing_rules.models.sale_order_line import BILLING_MODELS

from ..engine.periodic import TERM_FIXED, TERM_SOURCES


class ConnectorCrmProductMap(models.Model):
    """A CRM product (by id or by code) and the Odoo service product it is sold as."""

    _name = "connector.crm.product.map"
    _description = "CRM product mapping"
    _order = "backend_id, remote_code, remote_id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, string="Backend company"
    )
    remote_id = fields.Char(
        string="CRM product ID",
        help="Salesforce Product2 Id or HubSpot product id. IDs differ between a sandbox and "
        "production: prefer the code.",
    )
    remote_code = fields.Char(
        string="CRM product code", help="Salesforce ProductCode or HubSpot SKU (hs_sku)."
    )
    remote_name = fields.Char(string="CRM product name")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain=[("type", "=", "service"), ("sale_ok", "=", True)],
        help="A service product; set 'Create on Order' to a project on it so that the "
        "engagement gets its project.",
    )
    billing_model = fields.Selection(
        BILLING_MODELS,
        string="Default billing model",
        help="Used when neither the deal line nor the deal says how the line is billed.",
    )
    # Periodic lines (retainers, recurring lines) whose CRM line does not give its term.
    period_frequency = fields.Selection(
        PERIOD_KINDS,
        string="Billing frequency",
        help="How often a fee of a retainer or recurring line of this product is billed when the "
        "CRM line does not say (HubSpot's billing frequency wins). Empty: monthly.",
    )
    term_source = fields.Selection(
        TERM_SOURCES,
        string="Term",
        help="The term of a retainer or recurring line of this product when the CRM line does "
        "not give one (HubSpot's term or number of payments win). 'Quantity = number of "
        "periods': a product sold per period (12 x 2,500 is twelve fees of 2,500). 'Fixed "
        "term': the line's total is billed over the months below. Empty: a retainer line "
        "without a term in the CRM is refused (its deal needs attention): a contract never "
        "bills a periodic fee without an end.",
    )
    term_months = fields.Integer(
        string="Term (months)",
        help="With a fixed term: the number of months the line's total is billed over.",
    )

    _sql_constraints = [
        ("id_uniq", "unique(backend_id, remote_id)", "A CRM product id is mapped once."),
        ("code_uniq", "unique(backend_id, remote_code)", "A CRM product code is mapped once."),
    ]

    @api.constrains("remote_id", "remote_code")
    def _check_key(self):
        for line in self:
            if not line.remote_id and not line.remote_code:
                raise ValidationError(_("Give the CRM product id or its code (or both)."))

    @api.constrains("term_source", "term_months", "period_frequency")
    def _check_term(self):
        for line in self.filtered(lambda m: m.term_source == TERM_FIXED):
            length = 3 if line.period_frequency == "quarterly" else 1
            if line.term_months < length or line.term_months % length:
                raise ValidationError(
                    _(
                        "Product mapping %(key)s: a fixed term is a whole number of billing "
                        "periods (months, or multiples of 3 for quarterly), not %(months)s.",
                        key=line.remote_code or line.remote_id,
                        months=line.term_months,
                    )
                )

    def _crm_periodic_defaults(self):
        """What engine/periodic.py reads when a CRM line does not give its term."""
        self.ensure_one()
        return {
            "frequency": self.period_frequency or None,
            "term_source": self.term_source or None,
            "term_months": self.term_months or None,
        }

    @api.depends("remote_code", "remote_id", "product_id")
    def _compute_display_name(self):
        for line in self:
            key = line.remote_code or line.remote_id
            line.display_name = f"{key} → {line.product_id.display_name or ''}"
