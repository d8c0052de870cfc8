import json

from odoo import fields, models


class ConnectorBinding(models.Model):
    """CRM bookkeeping on bindings: what both sides agreed on at the last sync, and whether
    Odoo has something to push."""

    _inherit = "connector.binding"

    crm_synced_values = fields.Text(
        string="Last synced values", help="JSON: field -> value both sides had at the last sync."
    )
    crm_push_pending = fields.Boolean(string="Push pending", index=True, copy=False)
    crm_pushed_hash = fields.Char(string="Hash of last pushed values", copy=False)

    def _crm_synced(self):
        self.ensure_one()
        try:
            return json.loads(self.crm_synced_values or "{}")
        except ValueError:
            return {}

    def _crm_set_synced(self, values):
        self.ensure_one()
        self.crm_synced_values = json.dumps(values, sort_keys=True, default=str)
