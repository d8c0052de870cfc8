import logging

from odoo import api, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

LEGAL_ENTITIES = ("Acme Consulting US", "Acme Consulting EU", "Acme Consulting UK")
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


class ConnectorCrmDemo(models.AbstractModel):
    """Demo data that needs code: mappings per backend, credentials (vault), activation."""

    _name = "connector.crm.demo"
    _description = "CRM connector demo data"

    @api.model
    def _populate(self, backend_ids):
        backends = self.env["connector.backend"].browse(backend_ids)
        company = self.env.company
        products = {
            code: self.env.ref(f"connector_crm.product_crm_{name}")
            for code, name in (
                ("IMPL", "implementation"),
                ("CONS-H", "consulting"),
                ("SUP-RET", "support"),
                ("TRAIN", "training"),
            )
        }
        for backend in backends:
            values = [
                {"kind": "legal_entity", "remote_value": name, "target_company_id": company.id}
                for name in LEGAL_ENTITIES
            ]
            values += [
                {"kind": "tax_treatment", "remote_value": "Domestic"},
                {
                    "kind": "tax_treatment",
                    "remote_value": "EU reverse charge",
                    "fiscal_position_id": self.env.ref(
                        "connector_crm.fiscal_position_reverse_charge"
                    ).id,
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
