from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ps_billing_rules.models.sale_order_line import BILLING_MODELS, ROLLOVER_RULES

KINDS = [
    ("legal_entity", "Legal entity → company"),
    ("tax_treatment", "Tax treatment → fiscal position"),
    ("billing_model", "Billing model → billing terms"),
    ("project_template", "Project template → template project"),
]


class ConnectorCrmValueMap(models.Model):
    """A CRM field value (picklist entry) and what it means in Odoo.

    One table for the four picklists a deal carries; each kind uses its own columns.
    """

    _name = "connector.crm.value.map"
    _description = "CRM value mapping"
    _order = "backend_id, kind, remote_value"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, string="Backend company"
    )
    kind = fields.Selection(KINDS, required=True)
    remote_value = fields.Char(
        string="CRM value", required=True, help="The picklist value exactly as the CRM sends it."
    )
    target_company_id = fields.Many2one(
        "res.company", string="Legal entity", help="Company that signs the contract."
    )
    payment_term_id = fields.Many2one(
        "account.payment.term", string="Payment terms", help="Default when the customer has none."
    )
    fiscal_position_ids = fields.Many2many(
        "account.fiscal.position",
        "connector_crm_value_map_fiscal_position_rel",
        "value_map_id",
        "fiscal_position_id",
        string="Fiscal positions",
        help="One per legal entity (company): a deal gets the fiscal position of the company it "
        "is signed by. Empty: the customer's own (domestic) taxes apply.",
    )
    billing_model = fields.Selection(
        BILLING_MODELS,
        string="Billing model",
        help="Empty (e.g. for 'Mixed'): each line's own billing model, or its product's, applies.",
    )
    billing_cycle = fields.Selection(
        [("weekly", "Weekly"), ("monthly", "Monthly")], string="Billing cycle", default="monthly"
    )
    rate_card_id = fields.Many2one(
        "ps.rate.card",
        string="Rate card",
        help="Copied onto each new contract as its contract rate card.",
    )
    service_months = fields.Integer(
        string="Service period (months)",
        default=3,
        help="Fixed fee: revenue is recognised straight-line over this many months from the "
        "close date.",
    )
    installment_count = fields.Integer(
        string="Installments",
        default=1,
        help="Fixed fee: the fee is invoiced in this many equal installments.",
    )
    installment_interval = fields.Integer(string="Months between installments", default=1)
    retainer_included = fields.Float(string="Retainer: included units per period")
    retainer_unit = fields.Selection(
        [("hours", "Hours"), ("amount", "Amount")], string="Retainer unit", default="hours"
    )
    retainer_period = fields.Selection(
        [("monthly", "Monthly"), ("quarterly", "Quarterly")],
        string="Retainer period",
        default="monthly",
    )
    rollover_rule = fields.Selection(ROLLOVER_RULES, string="Rollover", default="none")
    rollover_cap = fields.Float()
    rollover_expiry = fields.Integer(string="Rolled units expire after (periods)", default=3)
    overage_rate = fields.Float(string="Overage rate")
    template_project_id = fields.Many2one(
        "project.project",
        string="Template project",
        help="Copied (tasks, milestones, stages) into each engagement's project.",
    )
    note = fields.Char()

    _sql_constraints = [
        (
            "value_uniq",
            "unique(backend_id, kind, remote_value)",
            "Each CRM value is mapped once per backend and kind.",
        )
    ]

    @api.depends("kind", "remote_value")
    def _compute_display_name(self):
        labels = dict(KINDS)
        for line in self:
            line.display_name = f"{labels.get(line.kind, '')}: {line.remote_value}"

    def _fiscal_position_for(self, company):
        """The tax treatment's fiscal position in ``company`` (empty when it has none there)."""
        self.ensure_one()
        return self.fiscal_position_ids.filtered(lambda fp: fp.company_id == company)[:1]

    @api.constrains("fiscal_position_ids")
    def _check_one_position_per_company(self):
        for line in self:
            companies = line.fiscal_position_ids.company_id
            if len(companies) != len(line.fiscal_position_ids):
                raise ValidationError(
                    _(
                        "Tax treatment '%s' has several fiscal positions of one company: keep "
                        "one per company (a deal gets the one of the company that signs it).",
                        line.remote_value,
                    )
                )

    @api.constrains("kind", "target_company_id", "template_project_id")
    def _check_target(self):
        for line in self:
            if line.kind == "legal_entity":
                if not line.target_company_id:
                    raise ValidationError(
                        _("Map legal entity '%s' to a company.", line.remote_value)
                    )
                if line.target_company_id not in line.backend_id.company_ids:
                    raise ValidationError(
                        _(
                            "Company %(company)s is not one of the backend's companies: add it "
                            "to the backend's Companies first.",
                            company=line.target_company_id.name,
                        )
                    )
            if line.kind == "project_template" and not line.template_project_id:
                raise ValidationError(
                    _("Map project template '%s' to a template project.", line.remote_value)
                )
