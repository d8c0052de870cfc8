from odoo import api, models

from ..engine import deals as shapes
from ..engine import ownership
from .connector_crm_field_rule import SYNCED_FIELDS

CTX_INBOUND = "connector_crm_inbound"


class ResPartner(models.Model):
    """CRM accounts are company partners, CRM contacts their contact persons; each field is
    synced in the direction the backend's ownership matrix says."""

    _name = "res.partner"
    _inherit = ["res.partner", "connector.binding.mixin"]

    # Normalized values <-> Odoo fields --------------------------------------------------------

    def _crm_odoo_values(self, obj):
        self.ensure_one()
        values = {}
        for key, (field_name, _label) in SYNCED_FIELDS[obj].items():
            if field_name == "country_id":
                values[key] = self.country_id.name or None
            elif field_name == "state_id":
                values[key] = self.state_id.name or None
            else:
                values[key] = self[field_name] or None
        return values

    @api.model
    def _crm_odoo_write_values(self, obj, values):
        result = {}
        for key, value in values.items():
            if key not in SYNCED_FIELDS[obj]:
                continue
            field_name = SYNCED_FIELDS[obj][key][0]
            if field_name == "country_id":
                result[field_name] = self._crm_country(value).id or False
            elif field_name == "state_id":
                result[field_name] = False
                if value:
                    state = self.env["res.country.state"].search(
                        ["|", ("name", "=ilike", value), ("code", "=ilike", value)], limit=1
                    )
                    result[field_name] = state.id or False
            elif field_name == "name":
                result[field_name] = value or "?"
            else:
                result[field_name] = value or False
        return result

    @api.model
    def _crm_country(self, value):
        Country = self.env["res.country"]
        if not value:
            return Country
        value = value.strip()
        if len(value) == 2:
            country = Country.search([("code", "=ilike", value)], limit=1)
            if country:
                return country
        return Country.search([("name", "=ilike", value)], limit=1)

    def _crm_write_values(self, obj, values):
        self.with_context(**{CTX_INBOUND: True}).write(self._crm_odoo_write_values(obj, values))

    # Inbound ---------------------------------------------------------------------------------

    @api.model
    def _crm_apply_remote(self, backend, obj, values, *, create=False, parent=None):
        """Create or update the partner of a CRM account/contact per the ownership matrix.

        Returns the partner; None when it is unknown in Odoo and ``create`` is false (changes to
        accounts no engagement uses are not imported).
        """
        values = dict(values)
        if obj == "contact":
            values["name"] = shapes.full_name(values) or values.get("email") or values.get("id")
        crm_values = {key: values.get(key) for key in SYNCED_FIELDS[obj]}
        Binding = self.env["connector.binding"].sudo()
        binding = Binding.search(
            [
                ("backend_id", "=", backend.id),
                ("remote_type", "=", obj),
                ("remote_id", "=", str(values["id"])),
            ],
            limit=1,
        )
        rules = backend._crm_rules(obj)
        partner = binding._record() if binding else None
        if not partner:
            if not create:
                return None
            decision = ownership.decide(rules, crm_values, {}, {}, creating=True)
            vals = self._crm_odoo_write_values(obj, decision.to_odoo)
            vals.setdefault("name", crm_values.get("name") or str(values["id"]))
            if obj == "account":
                vals["is_company"] = True
            else:
                vals.update(type="contact", parent_id=parent.id if parent else False)
            partner = self.with_context(**{CTX_INBOUND: True}).create(vals)
            binding = Binding._bind(backend, partner, obj, values["id"])
            binding._crm_set_synced(decision.synced)
            return partner
        synced = binding._crm_synced()
        decision = ownership.decide(
            rules, crm_values, partner._crm_odoo_values(obj), synced, creating=False
        )
        if decision.to_odoo:
            partner._crm_write_values(obj, decision.to_odoo)
        if parent and obj == "contact" and partner.parent_id != parent:
            partner.with_context(**{CTX_INBOUND: True}).parent_id = parent
        self.env["connector.crm.engagement"]._record_conflicts(
            backend, binding, obj, partner, decision.conflicts
        )
        binding._crm_set_synced(ownership.agreed_after(synced, decision))
        if decision.to_crm:
            # The CRM no longer holds what was last pushed: push again even if unchanged.
            binding.write({"crm_push_pending": True, "crm_pushed_hash": False})
            backend._crm_request_push()
        return partner

    # Outbound: Odoo-side changes of owned/shared fields ---------------------------------------

    def write(self, vals):
        result = super().write(vals)
        if not self.env.context.get(CTX_INBOUND):
            watched = {name for table in SYNCED_FIELDS.values() for name, _l in table.values()}
            if watched & set(vals):
                self._crm_flag_changes(set(vals))
        return result

    def _crm_flag_changes(self, changed):
        bindings = (
            self.env["connector.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", self.ids),
                    ("remote_type", "in", ("account", "contact")),
                ]
            )
        )
        backends = self.env["connector.backend"]
        for binding in bindings:
            rules = binding.backend_id._crm_rules(binding.remote_type)
            fields_ = {
                SYNCED_FIELDS[binding.remote_type][key][0]: mode for key, mode in rules.items()
            }
            if any(fields_.get(name) in (ownership.ODOO, ownership.SHARED) for name in changed):
                binding.crm_push_pending = True
                backends |= binding.backend_id
        backends._crm_request_push()
