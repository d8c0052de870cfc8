import hashlib
import json
import logging
import secrets
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.connector_base.const import CTX_NO_AUDIT
from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import deals as deal_shapes
from ..engine.oauth import TOKENS

_logger = logging.getLogger(__name__)

CRM_TYPES = ("salesforce", "hubspot")
STREAMS = [
    ("crm_deals", "Deals"),
    ("crm_accounts", "Accounts / companies"),
    ("crm_contacts", "Contacts"),
]
OAUTH_STATE_TTL = timedelta(minutes=15)
CALLBACK_PATH = "/connector_crm/oauth/callback"
USAGE_WRITE_INTERVAL = 60.0
_USAGE_WRITTEN = {}

# Write-back: what Odoo knows about a deal -> backend setting holding the CRM field name.
WRITEBACK_KEYS = [
    ("invoiced_total", "Invoiced total"),
    ("paid_total", "Paid total"),
    ("outstanding", "Outstanding"),
    ("overdue", "Overdue"),
    ("last_invoice_number", "Last invoice number"),
    ("last_invoice_date", "Last invoice date"),
    ("last_invoice_status", "Last invoice status"),
    ("project_status", "Project status"),
    ("milestones_reached", "Milestones reached"),
    ("percent_complete", "Percent complete"),
]
# In-place retries of a failed CRM call (a blip) before the job itself is retried.
QUICK_RETRIES = 2
# A pull reads one page per job and queues the next page as a job of its own: its progress is
# durable page by page, and a failure retries one page, not the whole import. The next page
# runs before the deals already queued (lower priority number).
PULL_PRIORITY = 5
SF_WRITEBACK_DEFAULTS = {
    "invoiced_total": "Odoo_Invoiced_Total__c",
    "paid_total": "Odoo_Paid_Total__c",
    "outstanding": "Odoo_Outstanding__c",
    "overdue": "Odoo_Overdue__c",
    "last_invoice_number": "Odoo_Last_Invoice__c",
    "last_invoice_date": "Odoo_Last_Invoice_Date__c",
    "last_invoice_status": "Odoo_Last_Invoice_Status__c",
    "project_status": "Odoo_Project_Status__c",
    "milestones_reached": "Odoo_Milestones_Reached__c",
    "percent_complete": "Odoo_Percent_Complete__c",
}
HS_WRITEBACK_DEFAULTS = {
    key: value.lower().removesuffix("__c") for key, value in SF_WRITEBACK_DEFAULTS.items()
}
DEAL_FIELD_KEYS = [
    ("legal_entity", "Legal entity"),
    ("billing_model", "Billing model"),
    ("project_template", "Project template"),
    ("tax_treatment", "Tax treatment"),
    ("po_number", "PO number"),
    ("cap_amount", "Not-to-exceed"),
    ("line_billing_model", "Line billing model"),
]


class ConnectorBackend(models.Model):
    """Salesforce and HubSpot backends: credentials, deal fields, mappings, and the jobs that
    turn deals into engagements and write their status back. Type-specific calls live in
    connector_backend_salesforce.py / connector_backend_hubspot.py (methods ``_sf_*`` /
    ``_hs_*``), reached through ``_crm()``."""

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
        if backend_type == "salesforce":
            deal_fields, writeback = deal_shapes.SF_DEAL_FIELD_DEFAULTS, SF_WRITEBACK_DEFAULTS
            values = {"crm_auth_flow": "jwt", "auth_base_url": "https://login.salesforce.com"}
        elif backend_type == "hubspot":
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
        if self.backend_type == "salesforce":
            labels = {
                "client_secret": _("Consumer secret"),
                "private_key": _("JWT private key"),
                "refresh_token": _("Refresh token (Connect)"),
                "webhook_secret": _("Flow callout shared secret"),
            }
        elif self.backend_type == "hubspot":
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

    # ------------------------------------------------------------------------------------------
    # Dispatch to the CRM type
    # ------------------------------------------------------------------------------------------

    def _crm(self, name, *args, **kwargs):
        """Call ``_sf_<name>`` or ``_hs_<name>`` for this backend's type."""
        self.ensure_one()
        prefix = {"salesforce": "_sf_", "hubspot": "_hs_"}.get(self.backend_type)
        if not prefix:
            raise BusinessError(_("Backend %s is not a Salesforce or HubSpot backend.", self.name))
        return getattr(self, prefix + name)(*args, **kwargs)

    def _crm_label(self):
        return dict(self._fields["backend_type"].selection).get(
            self.backend_type, self.backend_type
        )

    def _crm_token_cache_key(self, *parts):
        return (self.env.cr.dbname, self.id, *parts)

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

    def _crm_deal_remote_names(self):
        """Normalized deal field -> CRM field name, for deal fields Odoo may push."""
        standard = {
            "salesforce": {"name": "Name", "close_date": "CloseDate", "description": "Description"},
            "hubspot": {
                "name": "dealname",
                "close_date": "closedate",
                "description": "description",
            },
        }.get(self.backend_type, {})
        po_number = self._crm_deal_field_names()["po_number"]
        return dict(standard, po_number=po_number) if po_number else standard

    def _crm_remote_field_label(self, obj, key):
        if self.backend_type not in CRM_TYPES:
            return ""
        if obj == "deal":
            return self._crm_deal_remote_names().get(key, key)
        if self.backend_type == "salesforce":
            table = (
                deal_shapes.SF_ACCOUNT_FIELDS if obj == "account" else deal_shapes.SF_CONTACT_FIELDS
            )
        else:
            table = (
                deal_shapes.HS_COMPANY_FIELDS if obj == "account" else deal_shapes.HS_CONTACT_FIELDS
            )
        if obj == "contact" and key == "name":
            return f"{table['first_name']} + {table['last_name']}"
        return table.get(key, key)

    def _crm_rules(self, obj):
        return {rule.field_key: rule.mode for rule in self.crm_field_rule_ids if rule.object == obj}

    def _crm_on_limits(self, used, limit):
        """Keep the API usage shown on the backend: every call reports it, the backend row is
        written at most once a minute per process (runners would otherwise contend on it)."""
        key = (self.env.cr.dbname, self.id)
        now = time.monotonic()
        if now - _USAGE_WRITTEN.get(key, -USAGE_WRITE_INTERVAL) < USAGE_WRITE_INTERVAL:
            return
        _USAGE_WRITTEN[key] = now
        text = f"{used:,} / {limit:,}"
        self.env.cr.execute(
            "UPDATE connector_backend SET crm_api_usage = %s WHERE id = %s", (text, self.id)
        )
        self.invalidate_recordset(["crm_api_usage"])
        if limit and used / limit >= 0.9 and self.health == "ok":
            self._set_health(
                "degraded",
                _(
                    "%(crm)s API usage is at %(used)s of %(limit)s requests today: syncing stops "
                    "when the limit is reached.",
                    crm=self._crm_label(),
                    used=used,
                    limit=limit,
                ),
            )

    def _connector_after_failure(self, job_row, state, message):
        super()._connector_after_failure(job_row, state, message)
        if self.backend_type == "salesforce" and "REQUEST_LIMIT_EXCEEDED" in (message or ""):
            self._set_health(
                "degraded",
                _(
                    "Salesforce's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED): "
                    "jobs are retried in an hour. Raise the org's limit or lower the sync volume."
                ),
            )
        elif self.backend_type == "hubspot" and "policy DAILY" in (message or ""):
            self._set_health(
                "degraded",
                _(
                    "HubSpot's daily API limit of the portal is used up: jobs are retried in an "
                    "hour, and the limit resets at midnight in the portal's time zone. Raise the "
                    "portal's limit (API add-on) or lower the sync volume."
                ),
            )

    # ------------------------------------------------------------------------------------------
    # Test connection, Connect (OAuth authorization code)
    # ------------------------------------------------------------------------------------------

    def _connector_test_connection(self):
        if self.backend_type not in CRM_TYPES:
            return super()._connector_test_connection()
        self._crm_forget_tokens()
        message = self._crm("test_connection")
        self.sudo().with_context(**{CTX_NO_AUDIT: True}).write({"crm_connected_as": message[:1000]})
        return message

    def action_crm_connect(self):
        """Start the OAuth authorization-code flow: the browser goes to the CRM's login page."""
        self.ensure_one()
        self._check_manager()
        if self.crm_auth_flow not in ("web_server", "oauth"):
            raise UserError(
                _(
                    "Connect is for the 'Connect' authentication flows: choose one first, save, then Connect."
                )
            )
        if not self.sudo().crm_client_id:
            raise UserError(_("Set the client ID (consumer key) first."))
        nonce = secrets.token_urlsafe(32)
        state = f"{self.id}.{nonce}"
        self.sudo().with_context(**{CTX_NO_AUDIT: True}).write(
            {
                "crm_oauth_state_hash": hashlib.sha256(state.encode()).hexdigest(),
                "crm_oauth_state_expiry": fields.Datetime.now() + OAUTH_STATE_TTL,
            }
        )
        url = self._crm("authorize_url", state, self.crm_redirect_uri)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _crm_check_oauth_state(self, state):
        """The state came back unchanged, within its lifetime, and only once."""
        self.ensure_one()
        backend = self.sudo()
        expected = backend.crm_oauth_state_hash
        expiry = backend.crm_oauth_state_expiry
        backend.with_context(**{CTX_NO_AUDIT: True}).write(
            {"crm_oauth_state_hash": False, "crm_oauth_state_expiry": False}
        )
        given = hashlib.sha256((state or "").encode()).hexdigest()
        if not expected or not secrets.compare_digest(expected, given):
            raise UserError(
                _(
                    "The login answer does not match the Connect request (state mismatch): click Connect again."
                )
            )
        if not expiry or expiry < fields.Datetime.now():
            raise UserError(_("The Connect request expired: click Connect again."))

    def _crm_oauth_callback(self, code, state):
        """Called by the callback route: check the state, exchange the code, keep the tokens."""
        self.ensure_one()
        self._check_manager()
        self._crm_check_oauth_state(state)
        token = self._crm("exchange_code", code, self.crm_redirect_uri)
        if not token.refresh_token:
            raise UserError(
                _(
                    "The CRM did not return a refresh token: check the app's scopes (refresh_token / offline access)."
                )
            )
        self._set_secret("refresh_token", token.refresh_token)
        values = {}
        if token.instance_url:
            values["crm_instance_url"] = token.instance_url
        if values:
            self.sudo().write(values)
        self._crm_forget_tokens()
        self.message_post(body=_("Connected to %s: refresh token stored.", self._crm_label()))
        return True

    def _crm_store_rotated_refresh_token(self, token):
        """HubSpot may return a new refresh token with each refresh: keep the latest."""
        if token.refresh_token and token.refresh_token != self._get_secret("refresh_token"):
            self.sudo()._set_secret("refresh_token", token.refresh_token)

    def _webhook_verify(self, method, url, headers, body, now):
        if self.backend_type in CRM_TYPES:
            return self._crm("webhook_verify", method, url, headers, body, now)
        return super()._webhook_verify(method, url, headers, body, now)

    def _webhook_events(self, payload, headers):
        if self.backend_type in CRM_TYPES:
            return self._crm("webhook_events", payload, headers)
        return super()._webhook_events(payload, headers)

    # ------------------------------------------------------------------------------------------
    # Pulls (streams) and inbound jobs
    # ------------------------------------------------------------------------------------------

    def _crm_stream_since(self, stream):
        """Where a pull starts: the cursor minus the overlap, or None for a first pull."""
        if not stream.cursor_date:
            return None
        return stream.cursor_date - timedelta(seconds=self.crm_overlap_seconds or 0)

    def _crm_start_date(self):
        return self.crm_start_date or fields.Date.context_today(self)

    def _crm_deal_specs(self, deals, source="pull"):
        """Job specs for normalized deals: keyed by deal and version, ordered per deal."""
        return [
            {
                "operation": "crm.deal.sync",
                "payload": {"deal_id": deal["id"], "deal": deal},
                "idempotency_key": f"deal:{deal['id']}:{deal.get('modified') or deal_shapes.fingerprint(deal)[:16]}",
                "record_key": f"deal:{deal['id']}",
                "direction": "inbound",
                "source": source,
            }
            for deal in deals
        ]

    def _pull_crm_deals(self, stream, job):
        return self._crm("pull_deals", stream, job)

    def _pull_crm_accounts(self, stream, job):
        return self._crm("pull_partners", stream, job, "account")

    def _pull_crm_contacts(self, stream, job):
        return self._crm("pull_partners", stream, job, "contact")

    def _crm_wanted(self, deal, bound_ids):
        """Deals a pull queues: already converted ones (amendments) and won ones since the start
        date; everything else (open deals, old wins) is history this backend ignores."""
        if deal["id"] in bound_ids:
            return True
        if not deal.get("is_won") or deal.get("deleted"):
            return False
        return bool(deal.get("close_date")) and deal["close_date"] >= fields.Date.to_string(
            self._crm_start_date()
        )

    def _crm_bound_ids(self, remote_type, remote_ids):
        if not remote_ids:
            return set()
        self.env.cr.execute(
            """SELECT remote_id FROM connector_binding
               WHERE backend_id = %s AND remote_type = %s AND remote_id = ANY(%s)""",
            (self.id, remote_type, list(remote_ids)),
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _crm_queue_deals(self, deals, stream=None, source="pull"):
        """Queue what the pulled deals need: a deal sync (amendment check) for converted deals,
        the engagement job for new won ones. Returns the deals queued."""
        bound = self._crm_bound_ids("deal", [deal["id"] for deal in deals])
        wanted = [deal for deal in deals if self._crm_wanted(deal, bound)]
        syncs = [deal for deal in wanted if deal["id"] in bound]
        self.env["connector.job"]._enqueue_many(self, self._crm_deal_specs(syncs, source))
        new = [deal for deal in wanted if deal["id"] not in bound]
        self.env["connector.crm.engagement"]._queue_engagements(self, new, source)
        return wanted

    # Pulls page by page ----------------------------------------------------------------------

    def _crm_cursor_state(self, stream):
        """The stream's cursor token: a JSON object (the deleted-records window, the position
        of a pull in progress)."""
        try:
            state = json.loads(stream.cursor_value or "{}")
        except ValueError:
            state = {}
        return state if isinstance(state, dict) else {}

    def _crm_pull_next_page(self, stream, job, state, count):
        """Keep the position of the pull in progress on the stream and queue the job of its
        next page (same stream: it runs after this one, before the deals queued meanwhile)."""
        stream._record_pull_result(new_cursor_value=json.dumps(state, default=str), count=count)
        progress = state["pull"]
        position = hashlib.sha256(
            json.dumps(progress, sort_keys=True, default=str).encode()
        ).hexdigest()[:24]
        return self.sudo()._enqueue(
            "stream.pull",
            {"stream_id": stream.id, "code": stream.code, "next_page": True},
            idempotency_key=f"pull:{stream.id}:page:{position}",
            record_key=f"stream:{stream.id}",
            direction="inbound",
            source=job.source,
            priority=PULL_PRIORITY,
        )

    def _crm_pull_done(self, stream, state, cursor_date, count):
        """The pull read its last page: the cursor moves to the newest change it saw."""
        state.pop("pull", None)
        stream._record_pull_result(
            new_cursor_date=cursor_date,
            new_cursor_value=json.dumps(state, default=str) if state else "",
            count=count,
        )
        return stream

    def _job_crm_deal_sync(self, job):
        return self.env["connector.crm.engagement"]._sync_deal(self, job)

    def _job_crm_engagement_create(self, job):
        return self.env["connector.crm.engagement"]._create_engagement(self, job)

    def _job_crm_amendment_review(self, job):
        return self.env["connector.crm.engagement"]._review_refused_amendment(self, job)

    def _job_crm_partner_sync(self, job):
        payload = job._payload()
        values = payload.get("values")
        if values is None:
            values = self._crm("fetch_partner", payload["object"], payload["remote_id"])
        if values is None:
            return None  # deleted remotely: the Odoo partner stays
        return self.env["res.partner"]._crm_apply_remote(self, payload["object"], values)

    def _crm_partner_specs(self, obj, records, source="pull"):
        return [
            {
                "operation": "crm.partner.sync",
                "payload": {"object": obj, "remote_id": values["id"], "values": values},
                "idempotency_key": f"{obj}:{values['id']}:{deal_shapes.record_fingerprint(values)[:24]}",
                "record_key": f"{obj}:{values['id']}",
                "direction": "inbound",
                "source": source,
            }
            for values in records
        ]

    # ------------------------------------------------------------------------------------------
    # Outbound: write-back of deal status and Odoo-owned partner fields
    # ------------------------------------------------------------------------------------------

    def _crm_request_push(self):
        """Make sure one push job is pending for these backends (changes are flagged on the
        bindings; the job pushes all flagged records in batches)."""
        Job = self.env["connector.job"].sudo()
        for backend in self.filtered(lambda b: b.backend_type in CRM_TYPES):
            pending = Job.search_count(
                [
                    ("backend_id", "=", backend.id),
                    ("operation", "=", "crm.push"),
                    ("state", "=", "pending"),
                ],
                limit=1,
            )
            if not pending:
                backend.sudo()._enqueue("crm.push", {}, direction="outbound", source="system")

    def _job_crm_push(self, job):
        return self.env["connector.crm.engagement"]._push(self, job)

    @api.model
    def _cron_crm_refresh_writeback(self):
        """Daily: every converted deal's status is recomputed (overdue amounts move with the
        calendar); only what changed is pushed."""
        backends = self._runnable_backends().filtered(lambda b: b.backend_type in CRM_TYPES)
        for backend in backends:
            bindings = (
                self.env["connector.binding"]
                .sudo()
                .search([("backend_id", "=", backend.id), ("remote_type", "=", "deal")])
            )
            bindings.write({"crm_push_pending": True})
            if bindings:
                backend._crm_request_push()
        return True

    # ------------------------------------------------------------------------------------------
    # Mappings as a file (sandbox -> production)
    # ------------------------------------------------------------------------------------------

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

    def action_crm_open_conflicts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_crm.action_connector_crm_conflict"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_crm_open_attention(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_crm.action_connector_crm_attention"
        )
        action["domain"] = [
            ("backend_id", "=", self.id),
            ("state", "in", ("needs_attention", "dead")),
        ]
        return action

    def action_crm_open_engagements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("crm_backend_id", "=", self.id)]
        return action
