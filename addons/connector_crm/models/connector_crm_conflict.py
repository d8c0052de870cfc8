from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from .connector_crm_field_rule import OBJECTS


class ConnectorCrmConflict(models.Model):
    """A shared field changed on both sides since the last sync: a person picks the value."""

    _name = "connector.crm.conflict"
    _description = "CRM sync conflict"
    _order = "state, create_date desc, id desc"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    binding_id = fields.Many2one("connector.binding", required=True, ondelete="cascade")
    object = fields.Selection(OBJECTS, required=True)
    res_model = fields.Char(required=True)
    res_id = fields.Many2oneReference(model_field="res_model", required=True)
    record_name = fields.Char(string="Record", readonly=True)
    remote_id = fields.Char(string="CRM ID", related="binding_id.remote_id")
    field_key = fields.Char(string="Field", required=True)
    field_label = fields.Char(string="Field label")
    odoo_value = fields.Char(string="Value in Odoo")
    crm_value = fields.Char(string="Value in the CRM")
    state = fields.Selection(
        [("open", "Open"), ("odoo", "Odoo value kept"), ("crm", "CRM value taken")],
        default="open",
        required=True,
    )
    resolved_by = fields.Many2one("res.users", readonly=True)
    resolved_at = fields.Datetime(readonly=True)

    def _check_open(self):
        if not self.env.su and not self.env.user.has_group("connector_base.group_connector_user"):
            raise AccessError(_("Only Connector Users resolve sync conflicts."))
        if any(conflict.state != "open" for conflict in self):
            raise UserError(_("This conflict is already resolved."))

    def action_keep_odoo(self):
        """Odoo's value wins: it is pushed to the CRM."""
        self._check_open()
        for conflict in self:
            self.env["connector.crm.engagement"]._resolve_conflict(conflict, "odoo")
        self._resolved("odoo")
        return True

    def action_take_crm(self):
        """The CRM's value wins: it is written in Odoo."""
        self._check_open()
        for conflict in self:
            self.env["connector.crm.engagement"]._resolve_conflict(conflict, "crm")
        self._resolved("crm")
        return True

    def _resolved(self, state):
        self.sudo().write(
            {"state": state, "resolved_by": self.env.uid, "resolved_at": fields.Datetime.now()}
        )

    def action_open_record(self):
        self.ensure_one()
        self.check_access("read")
        self.env[self.res_model].check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
