from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..adapters import HubspotAdapter, SalesforceAdapter
from ..const import (
    BACKEND_HUBSPOT,
    BACKEND_SALESFORCE,
    CALLBACK_PATH,
    CRM_TYPES,
    DEAL_FIELD_KEYS,
    HS_WRITEBACK_DEFAULTS,
    SF_WRITEBACK_DEFAULTS,
    STREAMS,
    WRITEBACK_KEYS,
)
from ..engine import deals as deal_shapes
from ..engine import hubspot as hs
from ..engine.oauth import TOKENS

ADAPTERS = {BACKEND_SALESFORCE: SalesforceAdapter, BACKEND_HUBSPOT: HubspotAdapter}


class ConnectorBackend(models.Model):
    """Salesforce and HubSpot backends: their settings (credentials, deal fields, write-back
    fields, defaults) and their adapter. What each CRM does (client, pulls, pushes, webhooks,
    Connect) is in its adapter (adapters/salesforce.py, adapters/hubspot.py); the backend also
    has the Connect button (connector_backend_oauth.py), the sync helpers the engagements use
    (connector_backend_sync.py) and the mappings file (connector_backend_mapping_file.py)."""

    _inherit = "connector.backend"

    backend_type = fields.Selection(
        selection_add=[("salesforce", "Salesforce"), ("hubspot", "HubSpot")],
        ondelete={"salesforce": "set default", "hubspot": "set default"},
    )
    crm_auth_flow = fields.Selection(
        [
            ("jwt", "Salesforce: JWT bearer (private key)"),
            ("client_credentials", "Salesforce: client credentials"),
            ("web_server", "Salesforce: Connect (log in once)"),
            ("private_app", "HubSpot: private app token"),
            ("oauth", "HubSpot: Connect (OAuth app)"),
        ],
        string="Authentication",
        tracking=True,
    )
    crm_client_id = fields.Char(
        string="Client ID / consumer key",
        tracking=True,
        groups="connector_base.group_connector_manager",
    )
    crm_username = fields.Char(
        string="Integration username",
        tracking=True,
        help="Salesforce JWT bearer flow: the username of the pre-authorized integration user.",
    )
    crm_api_version = fields.Char(string="API version", default="62.0", tracking=True)
    crm_sf_multicurrency = fields.Boolean(
        string="Multi-currency org",
        tracking=True,
        help="The Salesforce org has multi-currency enabled: each deal's CurrencyIsoCode is read "
        "and the contract is made in that currency. Off: deals are in the legal entity's "
        "currency.",
    )
    crm_search_rate = fields.Float(
        string="Search rate (requests/s)",
        default=hs.SEARCH_RATE,
        help="HubSpot: the search endpoints have their own limit (about 4-5 requests per second "
        "per account, shared by every app of the portal), apart from the 10-second limit that "
        "the backend's rate limit follows. Pulls search at most this often from one Odoo "
        "process (0: no pacing).",
    )
    crm_path_prefix = fields.Char(
        string="CRM API path",
        default="/crm/v3",
        help="HubSpot: prefix of the CRM object endpoints (/crm/v3, or a dated version).",
    )
    crm_instance_url = fields.Char(string="Instance URL", readonly=True, copy=False)
    crm_connected_as = fields.Char(string="Connected as", readonly=True, copy=False)
    crm_api_usage = fields.Char(string="API usage", readonly=True, copy=False)
    crm_start_date = fields.Date(
        string="Import deals won from",
        help="The first pull takes deals won on or after this date (default: the day the "
        "backend is activated), so history is not imported by accident.",
    )
    crm_overlap_seconds = fields.Integer(
        string="Pull overlap (s)",
        default=120,
        help="Each pull re-reads this much before its cursor: records saved while the previous "
        "pull ran are not missed (duplicates are ignored).",
    )
    crm_client_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_crm_client_secret",
        string="Client secret",
        groups="connector_base.group_connector_manager",
        help="Write-only. HubSpot: also the key of webhook signatures (v3).",
    )
    crm_private_key = fields.Text(
        compute="_compute_secret_fields",
        inverse="_inverse_crm_private_key",
        string="Private key (PEM)",
        groups="connector_base.group_connector_manager",
        help="Write-only. Salesforce JWT bearer flow: the key of the certificate uploaded to "
        "the connected app.",
    )
    crm_oauth_state_hash = fields.Char(copy=False, groups="base.group_system")
    crm_oauth_state_expiry = fields.Datetime(copy=False, groups="base.group_system")
    crm_redirect_uri = fields.Char(compute="_compute_crm_redirect_uri", string="Callback URL")
    crm_default_billing_model = fields.Selection(
        selection=lambda self: self.env["sale.order.line"]._fields["ps_billing_model"].selection,
        string="Default billing model",
    )
    crm_default_template_id = fields.Many2one(
        "project.project", string="Default project template", help="When the deal names none."
    )
    crm_default_tax_treatment = fields.Char(
        string="Default tax treatment",
        help="A tax treatment of the mappings (e.g. Domestic) for deals that give none (no tax "
        "treatment field, or an empty one). Empty: without a tax treatment field, Odoo's own "
        "fiscal position rules decide from the customer's country and VAT number.",
    )
    crm_mapping_contact_id = fields.Many2one(
        "res.users",
        string="Mappings contact",
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("connector_base.group_connector_manager").ids)
        ],
        help="The Connector Manager that messages about missing mappings name (deals needing "
        "attention). Empty: they name the backend's Connector Managers.",
    )
    crm_value_map_ids = fields.One2many(
        "connector.crm.value.map", "backend_id", string="Value mappings"
    )
    crm_product_map_ids = fields.One2many(
        "connector.crm.product.map", "backend_id", string="Product mappings"
    )
    crm_field_rule_ids = fields.One2many(
        "connector.crm.field.rule", "backend_id", string="Field ownership"
    )
    crm_conflict_count = fields.Integer(compute="_compute_crm_counts")
    crm_attention_count = fields.Integer(compute="_compute_crm_counts")
    crm_engagement_count = fields.Integer(compute="_compute_crm_counts")

    # Deal fields read from the CRM, and fields written back (CRM API names).
    crm_field_legal_entity = fields.Char(string="Legal entity field")
    crm_field_billing_model = fields.Char(string="Billing model field")
    crm_field_project_template = fields.Char(string="Project template field")
    crm_field_tax_treatment = fields.Char(string="Tax treatment field")
    crm_field_po_number = fields.Char(string="PO number field")
    crm_field_cap_amount = fields.Char(string="Not-to-exceed field")
    crm_field_line_billing_model = fields.Char(string="Line billing model field")
    crm_wb_invoiced_total = fields.Char(string="Invoiced total →")
    crm_wb_paid_total = fields.Char(string="Paid total →")
    crm_wb_outstanding = fields.Char(string="Outstanding →")
    crm_wb_overdue = fields.Char(string="Overdue →")
    crm_wb_last_invoice_number = fields.Char(string="Last invoice number →")
    crm_wb_last_invoice_date = fields.Char(string="Last invoice date →")
    crm_wb_last_invoice_status = fields.Char(string="Last invoice status →")
    crm_wb_project_status = fields.Char(string="Project status →")
    crm_wb_milestones_reached = fields.Char(string="Milestones reached →")
    crm_wb_percent_complete = fields.Char(string="Percent complete →")

    # ------------------------------------------------------------------------------------------
    # Defaults per type, computes
    # ------------------------------------------------------------------------------------------

    @api.model
    def _crm_type_defaults(self, backend_type):
        if backend_type == BACKEND_SALESFORCE:
            deal_fields, writeback = deal_shapes.SF_DEAL_FIELD_DEFAULTS, SF_WRITEBACK_DEFAULTS
            values = {"crm_auth_flow": "jwt", "auth_base_url": "https://login.salesforce.com"}
        elif backend_type == BACKEND_HUBSPOT:
            deal_fields, writeback = deal_shapes.HS_DEAL_FIELD_DEFAULTS, HS_WRITEBACK_DEFAULTS
            values = {
                "crm_auth_flow": "private_app",
                "api_base_url": "https://api.hubapi.com",
                "auth_base_url": "https://app.hubspot.com",
            }
        else:
            return {}
        values.update({f"crm_field_{key}": value for key, value in deal_fields.items()})
        values.update({f"crm_wb_{key}": value for key, value in writeback.items()})
        return values

    @api.onchange("backend_type")
    def _onchange_crm_backend_type(self):
        for key, value in self._crm_type_defaults(self.backend_type).items():
            self[key] = value

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for key, value in self._crm_type_defaults(vals.get("backend_type")).items():
                vals.setdefault(key, value)
        backends = super().create(vals_list)
        backends.filtered(lambda b: b.backend_type in CRM_TYPES)._crm_setup()
        return backends

    def _crm_setup(self):
        """Streams and a default field ownership matrix for a new CRM backend."""
        Stream = self.env["connector.stream"].sudo()
        Rule = self.env["connector.crm.field.rule"].sudo()
        for backend in self:
            existing = set(backend.stream_ids.mapped("code"))
            Stream.create(
                [
                    {"backend_id": backend.id, "code": code, "name": name, "sequence": index}
                    for index, (code, name) in enumerate(STREAMS)
                    if code not in existing
                ]
            )
            if not backend.crm_field_rule_ids:
                Rule.create(
                    [dict(values, backend_id=backend.id) for values in Rule._default_rule_values()]
                )

    def _compute_crm_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            backend.crm_redirect_uri = (backend.public_base_url or base).rstrip("/") + CALLBACK_PATH

    def _compute_crm_counts(self):
        Conflict = self.env["connector.crm.conflict"]
        Job = self.env["connector.job"]
        Order = self.env["sale.order"]
        for backend in self:
            if not backend.id or backend.backend_type not in CRM_TYPES:
                backend.crm_conflict_count = backend.crm_attention_count = 0
                backend.crm_engagement_count = 0
                continue
            backend.crm_conflict_count = Conflict.search_count(
                [("backend_id", "=", backend.id), ("state", "=", "open")]
            )
            backend.crm_attention_count = Job.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("state", "in", ("needs_attention", "dead")),
                ]
            )
            backend.crm_engagement_count = Order.search_count([("crm_backend_id", "=", backend.id)])

    def _compute_secret_fields(self):
        super()._compute_secret_fields()
        for backend in self:
            backend.crm_client_secret = False
            backend.crm_private_key = False

    def _inverse_crm_client_secret(self):
        self._store_secret_field("crm_client_secret", "client_secret")
        self._crm_forget_tokens()

    def _inverse_crm_private_key(self):
        self._store_secret_field("crm_private_key", "private_key")
        self._crm_forget_tokens()

    def _connector_secret_labels(self):
        labels = super()._connector_secret_labels()
        if self.backend_type == BACKEND_SALESFORCE:
            labels = {
                "client_secret": _("Consumer secret"),
                "private_key": _("JWT private key"),
                "refresh_token": _("Refresh token (Connect)"),
                "webhook_secret": _("Flow callout shared secret"),
            }
        elif self.backend_type == BACKEND_HUBSPOT:
            labels = {
                "api_token": _("Private app token"),
                "client_secret": _("App client secret (OAuth and webhook signatures)"),
                "refresh_token": _("Refresh token (Connect)"),
            }
        return labels

    def _crm_forget_tokens(self):
        for backend in self:
            for key in [
                k for k in list(TOKENS._tokens) if k[:2] == (self.env.cr.dbname, backend.id)
            ]:
                TOKENS.drop(key)

    def write(self, vals):
        result = super().write(vals)
        if {"crm_auth_flow", "crm_client_id", "crm_username", "auth_base_url"} & set(vals):
            self._crm_forget_tokens()
        return result

    def action_activate(self):
        for backend in self.filtered(lambda b: b.backend_type in CRM_TYPES):
            if not backend.crm_start_date:
                backend.crm_start_date = fields.Date.context_today(backend)
        return super().action_activate()

    @api.constrains("crm_search_rate")
    def _check_crm_search_rate(self):
        for backend in self:
            if backend.crm_search_rate < 0:
                raise ValidationError(
                    _("The search rate is in requests per second: 0 (no pacing) or more.")
                )

    # ------------------------------------------------------------------------------------------
    # The adapter of the CRM type, and what the engagements read from the settings
    # ------------------------------------------------------------------------------------------

    def _adapter_class(self):
        adapter = ADAPTERS.get(self.backend_type)
        return adapter or super()._adapter_class()

    def _crm_label(self):
        return dict(self._fields["backend_type"].selection).get(
            self.backend_type, self.backend_type
        )

    def _crm_deal_field_names(self):
        """Deal field key -> CRM field name; None for a field left unmapped (optional fields:
        a new backend gets the default names, an admin clears those the CRM does not have)."""
        return {
            key: (self[f"crm_field_{key}"] or "").strip() or None for key, _l in DEAL_FIELD_KEYS
        }

    def _crm_writeback_fields(self):
        """Odoo value key -> CRM field name, for the fields configured to be written back."""
        return {
            key: self[f"crm_wb_{key}"] for key, _label in WRITEBACK_KEYS if self[f"crm_wb_{key}"]
        }

    def _crm_remote_field_label(self, obj, key):
        """The CRM field of a synced field, as the field-ownership screen shows it."""
        if self.backend_type not in CRM_TYPES:
            return ""
        return self._adapter().remote_field_label(obj, key)

    def _crm_rules(self, obj):
        return {rule.field_key: rule.mode for rule in self.crm_field_rule_ids if rule.object == obj}

    # ------------------------------------------------------------------------------------------
    # Smart buttons of the backend form
    # ------------------------------------------------------------------------------------------

    def _crm_open_action(self, xmlid, model, domain):
        """The list behind a smart button, for a user who may read both the backend and the
        records listed (the action is refused on the server, not only hidden in the form)."""
        self.ensure_one()
        self.check_access("read")
        self.env[model].check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        return action

    def action_crm_open_conflicts(self):
        return self._crm_open_action(
            "connector_crm.action_connector_crm_conflict",
            "connector.crm.conflict",
            [("backend_id", "=", self.id)],
        )

    def action_crm_open_attention(self):
        return self._crm_open_action(
            "connector_crm.action_connector_crm_attention",
            "connector.job",
            [("backend_id", "=", self.id), ("state", "in", ("needs_attention", "dead"))],
        )

    def action_crm_open_engagements(self):
        return self._crm_open_action(
            "sale.action_orders", "sale.order", [("crm_backend_id", "=", self.id)]
        )
