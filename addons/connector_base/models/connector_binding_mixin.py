from odoo import _, api, fields, models


class ConnectorBindingMixin(models.AbstractModel):
    """Gives a model its external IDs: an "External IDs" smart button and tab.

    Connector addons apply it to the models they sync (``_inherit = ["res.partner",
    "connector.binding.mixin"]``) and add the button to the form view::

        <button name="action_view_connector_bindings" type="object" class="oe_stat_button"
                icon="fa-plug" groups="connector_base.group_connector_user">
            <field name="connector_binding_count" widget="statinfo" string="External IDs"/>
        </button>
    """

    _name = "connector.binding.mixin"
    _description = "Connector: records with external IDs"

    connector_binding_ids = fields.One2many(
        "connector.binding",
        "res_id",
        string="External IDs",
        domain=lambda self: [("res_model", "=", self._name)],
        groups="connector_base.group_connector_user",
    )
    connector_binding_count = fields.Integer(
        compute="_compute_connector_binding_count",
        string="External IDs count",
        groups="connector_base.group_connector_user",
    )

    @api.depends("connector_binding_ids")
    def _compute_connector_binding_count(self):
        counts = dict(
            self.env["connector.binding"]
            .sudo()
            ._read_group(
                [("res_model", "=", self._name), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for record in self:
            record.connector_binding_count = counts.get(record.id, 0)

    def action_view_connector_bindings(self):
        self.ensure_one()
        # The External IDs are for those who may read bindings (Connector Users).
        self.env["connector.binding"].check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("External IDs of %s", self.display_name),
            "res_model": "connector.binding",
            "view_mode": "list,form",
            "domain": [("res_model", "=", self._name), ("res_id", "=", self.id)],
            "context": {"default_res_model": self._name, "default_res_id": self.id},
        }

    def unlink(self):
        # A deleted record has no external ID any more; the next import recreates it if needed.
        bindings = (
            self.env["connector.binding"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        )
        result = super().unlink()
        bindings.unlink()
        return result
