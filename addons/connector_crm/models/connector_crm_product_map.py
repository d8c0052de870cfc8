from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ps_billing_rules.models.sale_order_line import BILLING_MODELS


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

    _sql_constraints = [
        ("id_uniq", "unique(backend_id, remote_id)", "A CRM product id is mapped once."),
        ("code_uniq", "unique(backend_id, remote_code)", "A CRM product code is mapped once."),
    ]

    @api.constrains("remote_id", "remote_code")
    def _check_key(self):
        for line in self:
            if not line.remote_id and not line.remote_code:
                raise ValidationError(_("Give the CRM product id or its code (or both)."))

    @api.depends("remote_code", "remote_id", "product_id")
    def _compute_display_name(self):
        for line in self:
            key = line.remote_code or line.remote_id
            line.display_name = f"{key} → {line.product_id.display_name or ''}"
