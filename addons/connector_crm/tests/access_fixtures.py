"""Records of connector_crm for connector_base's access matrix (test_access_matrix.py loads
``fixtures(case)`` of every suite addon that has this module): each button of connector_crm's
screens is pressed on one of these, as a user of each group."""

import base64
import json

from odoo import Command


def fixtures(case):
    env = case.env
    backend = env["connector.backend"].create(
        {
            "name": "Matrix HubSpot",
            "backend_type": "hubspot",
            "api_base_url": "http://127.0.0.1:9",
            "user_id": case.integration_user.id,
        }
    )
    partner = env["res.partner"].create({"name": "Matrix Customer", "is_company": True})
    binding = env["connector.binding"]._bind(backend, partner, "account", "matrix-1")
    conflict = env["connector.crm.conflict"].create(
        {
            "backend_id": backend.id,
            "binding_id": binding.id,
            "object": "account",
            "res_model": "res.partner",
            "res_id": partner.id,
            "field_key": "phone",
            "field_label": "Phone",
            "odoo_value": "+1 555 0100",
            "crm_value": "+1 555 0199",
        }
    )
    order = env["sale.order"].create({"partner_id": partner.id, "crm_backend_id": backend.id})

    def version(sequence, state, outcome):
        return env["connector.crm.deal.version"].create(
            {
                "order_id": order.id,
                "backend_id": backend.id,
                "deal_id": "matrix-deal",
                "sequence": sequence,
                "outcome": outcome,
                "state": state,
                "summary": "Matrix change",
                "changes": "[]",
                "snapshot": json.dumps({"id": "matrix-deal", "lines": []}),
            }
        )

    pending = version(1, "pending", "approval")
    refused = version(2, "refused", "refused")
    export = backend._crm_mapping_export()
    return {
        "connector.crm.conflict": conflict,
        "connector.crm.deal.version": pending,
        ("connector.crm.deal.version", "action_mark_handled"): refused,
        "connector.crm.mapping.import": env["connector.crm.mapping.import"].create(
            {"backend_id": backend.id, "file": base64.b64encode(export.encode())}
        ),
        "connector.crm.version.reject": env["connector.crm.version.reject"].create(
            {"version_ids": [Command.set(pending.ids)], "reason": "Matrix"}
        ),
    }
