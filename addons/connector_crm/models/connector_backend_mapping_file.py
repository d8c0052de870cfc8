"""CRM backend mappings as a file (sandbox -> production: export here, import with the
connector.crm.mapping.import wizard)."""

import json

from odoo import _, models


class ConnectorBackendMappingFile(models.Model):
    _inherit = "connector.backend"

    def _crm_mapping_export(self):
        self.ensure_one()

        def ref(record, field="name"):
            return record[field] if record else None

        data = {
            "format": "connector_crm.mappings/1",
            "backend_type": self.backend_type,
            "settings": {
                key: self[key]
                for key, field in self._fields.items()
                if field.type in ("char", "selection")
                and (
                    key.startswith(("crm_field_", "crm_wb_"))
                    or key in ("crm_default_billing_model", "crm_default_tax_treatment")
                )
            },
            "default_template": ref(self.crm_default_template_id),
            "values": [
                {
                    "kind": line.kind,
                    "remote_value": line.remote_value,
                    "company": ref(line.target_company_id),
                    "payment_terms": ref(line.payment_term_id),
                    "fiscal_positions": [
                        [position.name, position.company_id.name]
                        for position in line.fiscal_position_ids
                    ],
                    "billing_model": line.billing_model or None,
                    "billing_cycle": line.billing_cycle or None,
                    "rate_card": ref(line.rate_card_id),
                    "service_months": line.service_months,
                    "installment_count": line.installment_count,
                    "installment_interval": line.installment_interval,
                    "retainer_included": line.retainer_included,
                    "retainer_unit": line.retainer_unit,
                    "retainer_period": line.retainer_period,
                    "rollover_rule": line.rollover_rule,
                    "rollover_cap": line.rollover_cap,
                    "rollover_expiry": line.rollover_expiry,
                    "overage_rate": line.overage_rate,
                    "template_project": ref(line.template_project_id),
                }
                for line in self.crm_value_map_ids
            ],
            "products": [
                {
                    "remote_id": line.remote_id or None,
                    "remote_code": line.remote_code or None,
                    "remote_name": line.remote_name or None,
                    "product_code": line.product_id.default_code or None,
                    "product": line.product_id.name,
                    "billing_model": line.billing_model or None,
                    # Periodic terms (retainers, recurring lines): without them a production
                    # backend would refuse every retainer deal the sandbox accepted.
                    "period_frequency": line.period_frequency or None,
                    "term_source": line.term_source or None,
                    "term_months": line.term_months or None,
                }
                for line in self.crm_product_map_ids
            ],
            "field_ownership": [
                {"object": rule.object, "field": rule.field_key, "mode": rule.mode}
                for rule in self.crm_field_rule_ids
            ],
        }
        return json.dumps(data, indent=2, sort_keys=True)

    def action_crm_export_mappings(self):
        self.ensure_one()
        self._check_manager()
        content = self._crm_mapping_export()
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name} mappings.json",
                "raw": content.encode(),
                "mimetype": "application/json",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_crm_import_mappings(self):
        self.ensure_one()
        self._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Import mappings"),
            "res_model": "connector.crm.mapping.import",
            "view_mode": "form",
            "target": "new",
            "context": {"default_backend_id": self.id},
        }
