from odoo import api, fields, models

from ..engine.ownership import CREATE_ONLY, CRM, ODOO, SHARED

OBJECTS = [("account", "Account / company"), ("contact", "Contact"), ("deal", "Deal")]
MODES = [
    (CRM, "CRM owns it (CRM wins)"),
    (ODOO, "Odoo owns it (pushed to the CRM)"),
    (CREATE_ONLY, "Set at creation only"),
    (SHARED, "Shared (conflicts shown)"),
]

# Normalized field -> (Odoo field, label) per object. The CRM-side field names are in
# engine/deals.py (and the backend's deal field settings).
SYNCED_FIELDS = {
    "account": {
        "name": ("name", "Name"),
        "phone": ("phone", "Phone"),
        "website": ("website", "Website"),
        "street": ("street", "Street"),
        "city": ("city", "City"),
        "zip": ("zip", "ZIP"),
        "state": ("state_id", "State"),
        "country": ("country_id", "Country"),
        "ref": ("ref", "Customer reference"),
    },
    "contact": {
        "name": ("name", "Name"),
        "email": ("email", "Email"),
        "phone": ("phone", "Phone"),
        "mobile": ("mobile", "Mobile"),
        "function": ("function", "Job position"),
    },
    "deal": {
        "name": ("crm_deal_name", "Deal name"),
        "close_date": ("crm_close_date", "Close date"),
        "description": ("crm_description", "Description"),
        "po_number": ("client_order_ref", "Customer PO reference"),
    },
}

DEFAULT_RULES = {
    "account": {
        "name": CRM,
        "phone": SHARED,
        "website": CRM,
        "street": CRM,
        "city": CRM,
        "zip": CRM,
        "state": CREATE_ONLY,
        "country": CRM,
        "ref": ODOO,
    },
    "contact": {"name": CRM, "email": SHARED, "phone": SHARED, "mobile": CRM, "function": CRM},
    "deal": {"name": CRM, "close_date": CRM, "description": CRM, "po_number": CRM},
}


class ConnectorCrmFieldRule(models.Model):
    """One line of a backend's field ownership matrix."""

    _name = "connector.crm.field.rule"
    _description = "CRM field ownership"
    _order = "backend_id, object, sequence, id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, string="Backend company"
    )
    sequence = fields.Integer(default=10)
    object = fields.Selection(OBJECTS, required=True)
    field_key = fields.Char(string="Field", required=True)
    odoo_field = fields.Char(compute="_compute_labels", string="Odoo field")
    label = fields.Char(compute="_compute_labels")
    remote_field = fields.Char(string="CRM field", compute="_compute_labels")
    mode = fields.Selection(MODES, required=True, default=CRM, string="Owner")

    _sql_constraints = [
        (
            "field_uniq",
            "unique(backend_id, object, field_key)",
            "A field has one owner per backend.",
        )
    ]

    @api.depends("object", "field_key", "backend_id.backend_type")
    def _compute_labels(self):
        for rule in self:
            odoo_field, label = SYNCED_FIELDS.get(rule.object, {}).get(rule.field_key, ("", ""))
            rule.odoo_field = odoo_field
            rule.label = label or rule.field_key
            rule.remote_field = rule.backend_id._crm_remote_field_label(rule.object, rule.field_key)

    @api.model
    def _default_rule_values(self):
        return [
            {"object": obj, "field_key": key, "mode": mode, "sequence": index}
            for obj, rules in DEFAULT_RULES.items()
            for index, (key, mode) in enumerate(rules.items())
        ]
