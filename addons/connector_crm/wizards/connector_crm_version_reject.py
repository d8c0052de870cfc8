from odoo import fields, models


class ConnectorCrmVersionReject(models.TransientModel):
    _name = "connector.crm.version.reject"
    _description = "Reject a deal amendment"

    version_ids = fields.Many2many("connector.crm.deal.version", required=True)
    reason = fields.Text(required=True)

    def action_reject(self):
        self.version_ids._reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
