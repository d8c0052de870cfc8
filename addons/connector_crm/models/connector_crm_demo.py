import logging

from odoo import Command, api, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# The CRM's legal entities and the demo companies of ps_billing_rules that sign their contracts.
LEGAL_ENTITIES = {
    "Acme Consulting US": "us",
    "Acme Consulting EU": "eu",
    "Acme Consulting UK": "uk",
}
# Tax treatments: "Domestic" keeps the customer's own taxes; "EU reverse charge" (the
# cross-border B2B treatment) is each legal entity's own fiscal position replacing its sales tax
# by 0 %: EU reverse charge, US export of services, outside the scope of UK VAT.
CROSS_BORDER = "EU reverse charge"
# Demo users who work on engagements in every legal entity.
DEMO_USERS = (
    "connector_crm.user_crm_integration",
    "connector_base.user_connector_operator",
    "connector_base.user_connector_integration",
    "ps_billing_rules.user_demo_billing",
)
BILLING_MODELS = {
    "Time and Materials": {"billing_model": "tm"},
    "Fixed Fee": {"billing_model": "fixed_fee", "service_months": 3, "installment_count": 2},
    "Milestones": {"billing_model": "milestone"},
    "Retainer": {
        "billing_model": "retainer",
        "retainer_included": 20,
        "rollover_rule": "capped",
        "rollover_cap": 10,
        "overage_rate": 170,
    },
    "Mixed": {"billing_model": False},
}
PRODUCTS = {"IMPL": "fixed_fee", "CONS-H": "tm", "SUP-RET": "retainer", "TRAIN": "fixed_fee"}
# The term of periodic lines whose CRM line gives none: the support retainer is sold per month
# (Salesforce "12 x 2,500": twelve monthly fees of 2,500).
PRODUCT_TERMS = {"SUP-RET": {"term_source": "quantity"}}


class ConnectorCrmDemo(models.AbstractModel):
    """Demo data that needs code: mappings per backend, credentials (vault), activation."""

    _name = "connector.crm.demo"
    _description = "CRM connector demo data"

    @api.model
    def _populate(self, backend_ids):
        backends = self.env["connector.backend"].browse(backend_ids)
        entities = {
            name: self.env.ref(f"ps_billing_rules.demo_company_{code}", raise_if_not_found=False)
            or self.env.company
            for name, code in LEGAL_ENTITIES.items()
        }
        companies = self.env["res.company"].union(*entities.values())
        self._work_across(companies)
        Position = self.env["account.fiscal.position"]
        positions = Position.union(
            *(
                self.env.ref(f"ps_billing_rules.demo_fiscal_position_b2b_{code}", False) or Position
                for code in LEGAL_ENTITIES.values()
            )
        )
        products = {
            code: self.env.ref(f"connector_crm.product_crm_{name}")
            for code, name in (
                ("IMPL", "implementation"),
                ("CONS-H", "consulting"),
                ("SUP-RET", "support"),
                ("TRAIN", "training"),
            )
        }
        if "ps.demo.companies" in self.env:
            # The demo products are sold by every legal entity: each company's sales tax.
            templates = self.env["product.product"].union(*products.values()).product_tmpl_id
            self.env["ps.demo.companies"]._add_company_taxes(templates)
        for backend in backends:
            backend.company_ids = [Command.link(company.id) for company in companies]
            values = [
                {"kind": "legal_entity", "remote_value": name, "target_company_id": company.id}
                for name, company in entities.items()
            ]
            values += [
                {"kind": "tax_treatment", "remote_value": "Domestic"},
                {
                    "kind": "tax_treatment",
                    "remote_value": CROSS_BORDER,
                    "fiscal_position_ids": [Command.set(positions.ids)],
                },
                {
                    "kind": "project_template",
                    "remote_value": "Standard Implementation",
                    "template_project_id": self.env.ref(
                        "connector_crm.project_template_implementation"
                    ).id,
                },
                {
                    "kind": "project_template",
                    "remote_value": "Support",
                    "template_project_id": self.env.ref(
                        "connector_crm.project_template_support"
                    ).id,
                },
            ]
            values += [
                dict(terms, kind="billing_model", remote_value=name)
                for name, terms in BILLING_MODELS.items()
            ]
            self.env["connector.crm.value.map"].create(
                [dict(v, backend_id=backend.id) for v in values]
            )
            self.env["connector.crm.product.map"].create(
                [
                    {
                        "backend_id": backend.id,
                        "remote_code": code,
                        "remote_name": products[code].name,
                        "product_id": products[code].id,
                        "billing_model": model,
                        **PRODUCT_TERMS.get(code, {}),
                    }
                    for code, model in PRODUCTS.items()
                ]
            )
            try:
                if backend.backend_type == "salesforce":
                    backend._set_secret("client_secret", "fake-client-secret")
                    backend._set_secret("webhook_secret", "demo-flow-secret")
                else:
                    backend._set_secret("api_token", "pat-na1-fake-token")
                    backend._set_secret("client_secret", "fake-hs-secret")
            except UserError:
                _logger.info("demo: no encryption key configured, CRM demo credentials not set")
            backend.action_activate()
        return True

    @api.model
    def _work_across(self, companies):
        """The integration user and the demo users work in every legal entity."""
        for xmlid in DEMO_USERS:
            user = self.env.ref(xmlid, raise_if_not_found=False)
            if user:
                user.write({"company_ids": [Command.link(company.id) for company in companies]})
