import base64
import json

from odoo import Command, _, fields, models
from odoo.exceptions import UserError

FORMAT = "connector_crm.mappings/1"


class ConnectorCrmMappingImport(models.TransientModel):
    """Load mappings exported from another backend (e.g. the sandbox) into this one.

    Odoo records are found by name (companies, fiscal positions, payment terms, rate cards,
    template projects) and products by internal reference, then name: IDs differ between
    databases. Existing mappings with the same CRM value are updated; nothing is deleted.
    """

    _name = "connector.crm.mapping.import"
    _description = "Import CRM mappings"

    backend_id = fields.Many2one("connector.backend", required=True)
    file = fields.Binary(required=True, string="Mappings file (JSON)")
    filename = fields.Char()

    def _find(self, model, name, problems, what):
        if not name:
            return False
        record = self.env[model].search([("name", "=", name)], limit=1)
        if not record:
            problems.append(_("%(what)s '%(name)s' does not exist here", what=what, name=name))
        return record.id or False

    def _fiscal_positions(self, entry, problems):
        """Fiscal positions by name and company (``fiscal_positions``); files of the first
        format name one position (``fiscal_position``)."""
        wanted = entry.get("fiscal_positions") or (
            [[entry["fiscal_position"], None]] if entry.get("fiscal_position") else []
        )
        Position = self.env["account.fiscal.position"]
        ids = []
        for name, company in wanted:
            domain = [("name", "=", name)]
            if company:
                domain.append(("company_id.name", "=", company))
            position = Position.search(domain, limit=1)
            if position:
                ids.append(position.id)
            else:
                problems.append(
                    _(
                        "Fiscal position '%(name)s' of %(company)s does not exist here",
                        name=name,
                        company=company or _("any company"),
                    )
                )
        return ids

    def _product(self, entry, problems):
        Product = self.env["product.product"]
        product = Product.browse()
        if entry.get("product_code"):
            product = Product.search([("default_code", "=", entry["product_code"])], limit=1)
        if not product and entry.get("product"):
            product = Product.search([("name", "=", entry["product"])], limit=1)
        if not product:
            problems.append(
                _(
                    "product '%(name)s' (%(code)s) does not exist here",
                    name=entry.get("product"),
                    code=entry.get("product_code") or "-",
                )
            )
        return product.id or False

    def action_import(self):
        self.ensure_one()
        backend = self.backend_id
        backend._check_manager()
        try:
            data = json.loads(base64.b64decode(self.file or b"").decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(_("The file is not a mappings export (JSON): %s", exc)) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(
                _("The file is not a connector_crm mappings export (format %s).", FORMAT)
            )
        if data.get("backend_type") != backend.backend_type:
            raise UserError(
                _(
                    "These mappings are for a %(src)s backend; this backend is %(dst)s.",
                    src=data.get("backend_type"),
                    dst=backend.backend_type,
                )
            )
        problems = []
        settings = {
            key: value
            for key, value in (data.get("settings") or {}).items()
            if key in backend._fields
            and backend._fields[key].type in ("char", "selection")
            and key.startswith(("crm_field_", "crm_wb_", "crm_default_"))
        }
        if data.get("default_template"):
            settings["crm_default_template_id"] = self._find(
                "project.project", data["default_template"], problems, _("Project")
            )
        values_to_write = []
        ValueMap = self.env["connector.crm.value.map"]
        for entry in data.get("values") or []:
            vals = {
                "backend_id": backend.id,
                "kind": entry["kind"],
                "remote_value": entry["remote_value"],
                "target_company_id": self._find(
                    "res.company", entry.get("company"), problems, _("Company")
                ),
                "payment_term_id": self._find(
                    "account.payment.term", entry.get("payment_terms"), problems, _("Payment terms")
                ),
                "fiscal_position_ids": [
                    Command.set(self._fiscal_positions(entry, problems)),
                ],
                "rate_card_id": self._find(
                    "ps.rate.card", entry.get("rate_card"), problems, _("Rate card")
                ),
                "template_project_id": self._find(
                    "project.project", entry.get("template_project"), problems, _("Project")
                ),
            }
            for key in (
                "billing_model",
                "billing_cycle",
                "service_months",
                "installment_count",
                "installment_interval",
                "retainer_included",
                "retainer_unit",
                "retainer_period",
                "rollover_rule",
                "rollover_cap",
                "rollover_expiry",
                "overage_rate",
            ):
                if key in entry and entry[key] is not None:
                    vals[key] = entry[key]
            values_to_write.append(vals)
        products = []
        for entry in data.get("products") or []:
            products.append(
                {
                    "backend_id": backend.id,
                    # IDs differ between a sandbox and production: the code wins when given.
                    "remote_id": (not entry.get("remote_code") and entry.get("remote_id")) or False,
                    "remote_code": entry.get("remote_code") or False,
                    "remote_name": entry.get("remote_name") or False,
                    "product_id": self._product(entry, problems),
                    "billing_model": entry.get("billing_model") or False,
                    "period_frequency": entry.get("period_frequency") or False,
                    "term_source": entry.get("term_source") or False,
                    "term_months": entry.get("term_months") or 0,
                }
            )
        if problems:
            raise UserError(
                _(
                    "Nothing was imported; fix these first:\n- %s",
                    "\n- ".join(sorted(set(problems))),
                )
            )
        backend.write(settings)
        for vals in values_to_write:
            existing = ValueMap.search(
                [
                    ("backend_id", "=", backend.id),
                    ("kind", "=", vals["kind"]),
                    ("remote_value", "=", vals["remote_value"]),
                ]
            )
            existing.write(vals) if existing else ValueMap.create(vals)
        ProductMap = self.env["connector.crm.product.map"]
        for vals in products:
            domain = [("backend_id", "=", backend.id)]
            domain += (
                [("remote_code", "=", vals["remote_code"])]
                if vals["remote_code"]
                else [("remote_id", "=", vals["remote_id"])]
            )
            existing = ProductMap.search(domain, limit=1)
            existing.write(vals) if existing else ProductMap.create(vals)
        Rule = self.env["connector.crm.field.rule"]
        for entry in data.get("field_ownership") or []:
            rule = Rule.search(
                [
                    ("backend_id", "=", backend.id),
                    ("object", "=", entry["object"]),
                    ("field_key", "=", entry["field"]),
                ]
            )
            if rule:
                rule.mode = entry["mode"]
            else:
                Rule.create(
                    {
                        "backend_id": backend.id,
                        "object": entry["object"],
                        "field_key": entry["field"],
                        "mode": entry["mode"],
                    }
                )
        backend.message_post(
            body=_(
                "Mappings imported from %(file)s: %(values)s values, %(products)s products.",
                file=self.filename or _("a file"),
                values=len(values_to_write),
                products=len(products),
            )
        )
        return {"type": "ir.actions.act_window_close"}
