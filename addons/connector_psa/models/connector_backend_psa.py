from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.connector_base.const import CTX_NO_AUDIT

from ..adapters import ADAPTERS, PSA_TYPES
from ..engine.validation import MISMATCH_IMPORT, MISMATCH_REJECT

STREAMS = [
    ("psa_time", "Approved time"),
    ("psa_expenses", "Approved expenses"),
    ("psa_people", "People and cost rates"),
    ("psa_deletions", "Deleted entries"),
    ("psa_milestones", "Milestones"),
]
# Streams a tool has (Harvest has no milestone object).
TOOL_STREAMS = {
    "harvest": ("psa_time", "psa_expenses", "psa_people", "psa_deletions"),
    "kantata": ("psa_time", "psa_expenses", "psa_people", "psa_deletions", "psa_milestones"),
}
# Stream -> backend field holding its interval in minutes.
STREAM_INTERVAL_FIELDS = {
    "psa_time": "psa_time_interval",
    "psa_expenses": "psa_time_interval",
    "psa_people": "psa_people_interval",
    "psa_deletions": "psa_deletion_interval",
    "psa_milestones": "psa_milestone_interval",
}
TYPE_DEFAULTS = {
    "harvest": {
        "api_base_url": "https://api.harvestapp.com",
        "auth_base_url": "https://id.getharvest.com",
        "psa_auth": "token",
        "psa_authorize_url": "https://id.getharvest.com/oauth2/authorize",
        "psa_token_url": "https://id.getharvest.com/api/v2/oauth2/token",
        "rate_limit": 6.0,  # 100 requests per 15 s
        "timeout_read": 60.0,
    },
    "kantata": {
        "api_base_url": "https://api.mavenlink.com/api/v1",
        "auth_base_url": "https://app.mavenlink.com",
        "psa_auth": "oauth",
        "psa_authorize_url": "https://app.mavenlink.com/oauth/authorize",
        "psa_token_url": "https://app.mavenlink.com/oauth/token",
        "rate_limit": 5.0,
        "timeout_read": 190.0,  # Kantata ends requests after 3 minutes itself
    },
}
CALLBACK_PATH = "/connector_psa/oauth/callback"


class ConnectorBackend(models.Model):
    """Harvest and Kantata backends: authentication, what to import and how, mappings.

    The protocol of each tool lives in its adapter (``adapters/``), which connector_base reaches
    through ``_adapter_class()`` (jobs, pulls, Test connection, Connect).
    """

    _inherit = "connector.backend"

    backend_type = fields.Selection(
        selection_add=[("harvest", "Harvest"), ("kantata", "Kantata OX")],
        ondelete={"harvest": "set default", "kantata": "set default"},
    )
    psa_account_id = fields.Char(
        string="Harvest account ID",
        tracking=True,
        help="Harvest: the account the token works in (Developers page of Harvest ID).",
    )
    psa_contact_email = fields.Char(
        string="Contact e-mail (User-Agent)",
        tracking=True,
        help="Harvest requires a User-Agent naming the application and a contact.",
    )
    psa_auth = fields.Selection(
        [
            ("token", "Access token (Harvest personal access token)"),
            ("oauth", "Connect (OAuth 2.0)"),
        ],
        string="PSA authentication",
        default="token",
        tracking=True,
    )
    psa_client_id = fields.Char(
        string="OAuth client ID", tracking=True, groups="connector_base.group_connector_manager"
    )
    psa_client_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_psa_client_secret",
        string="OAuth client secret",
        groups="connector_base.group_connector_manager",
        help="Write-only: the value is encrypted and never shown again.",
    )
    psa_authorize_url = fields.Char(string="Authorization URL", tracking=True)
    psa_token_url = fields.Char(
        string="Token URL", tracking=True, help="Where the Connect code is exchanged for tokens."
    )
    psa_refresh_url = fields.Char(
        string="Refresh URL",
        tracking=True,
        help="Where expired access tokens are renewed. Empty: the token URL.",
    )
    psa_redirect_uri = fields.Char(compute="_compute_psa_redirect_uri", string="PSA callback URL")
    psa_oauth_state_hash = fields.Char(copy=False, groups="base.group_system")
    psa_oauth_state_expiry = fields.Datetime(copy=False, groups="base.group_system")
    psa_token_expires_at = fields.Float(copy=False, groups="base.group_system")
    psa_connected_as = fields.Char(string="PSA connected as", readonly=True, copy=False)
    psa_web_url = fields.Char(
        string="PSA web address",
        help="Where PSA users open the tool (links on projects). Test connection fills it.",
    )
    psa_connection_report = fields.Text(string="Connection report", readonly=True, copy=False)
    psa_people_owner = fields.Selection(
        [("odoo", "Odoo (HR)"), ("psa", "The PSA")],
        string="People and cost rates owned by",
        default="odoo",
        required=True,
        tracking=True,
        help="The PSA: employees are created and updated from PSA users and their cost-rate "
        "history is imported. Odoo: PSA users are only linked to existing employees.",
    )
    psa_hours_used = fields.Selection(
        [("rounded", "Rounded hours (what the PSA invoices)"), ("exact", "Exact hours")],
        string="Hours imported",
        default="rounded",
        required=True,
        tracking=True,
    )
    psa_approved_only = fields.Boolean(
        string="Import approved time only",
        default=True,
        tracking=True,
        help="Off: time is imported as soon as it is logged, with its PSA approval state; "
        "only approved time is billed.",
    )
    psa_start_date = fields.Date(
        string="Import work from",
        tracking=True,
        help="Work done before this date is not imported (default: the first of the month the "
        "backend was activated in).",
    )
    psa_time_interval = fields.Integer(
        string="Time and expenses every (min)", default=15, tracking=True
    )
    psa_people_interval = fields.Integer(
        string="People and cost rates every (min)", default=1440, tracking=True
    )
    psa_deletion_interval = fields.Integer(
        string="Deletion check every (min)", default=60, tracking=True
    )
    psa_milestone_interval = fields.Integer(
        string="Milestones every (min)", default=60, tracking=True
    )
    psa_overlap_minutes = fields.Integer(
        string="Pull overlap (min)",
        default=10,
        tracking=True,
        help="Each pull re-reads this much before its cursor: entries saved while the previous "
        "pull ran are not missed (what is unchanged is skipped).",
    )
    psa_deletion_window_days = fields.Integer(
        string="Deletion window (days)",
        default=60,
        tracking=True,
        help="Harvest has no deleted feed: the entries of this many past days are listed again "
        "and compared with what Odoo imported. Kantata uses its event feed (9 days) and falls "
        "back to this window.",
    )
    psa_deletion_slice_days = fields.Integer(
        string="Days per deletion check job", default=7, tracking=True
    )
    psa_batch_entries = fields.Integer(
        string="Entries per import job",
        default=200,
        tracking=True,
        help="A page read from the PSA is imported by jobs of this many entries.",
    )
    psa_page_size = fields.Integer(
        string="Page size",
        help="Entries per request (0: the tool's maximum: Harvest 2000, Kantata 200).",
    )
    psa_billable_mismatch = fields.Selection(
        [
            (MISMATCH_IMPORT, "Import non-billable time on a billable line as non-billable"),
            (MISMATCH_REJECT, "Reject it (needs attention)"),
        ],
        string="Non-billable time on a billable line",
        default=MISMATCH_IMPORT,
        required=True,
        tracking=True,
        help="Billable time on a non-billable line always needs attention.",
    )
    psa_unknown_projects = fields.Selection(
        [
            ("attention", "Needs attention (to link or provision)"),
            ("ignore", "Ignored (internal projects)"),
        ],
        string="Entries of PSA projects without a contract",
        default="attention",
        required=True,
        tracking=True,
        help="A PSA project is linked when a confirmed contract carries its code. Ignored: the "
        "time and expenses of other projects (internal work, other entities) are not imported "
        "and raise nothing.",
    )
    psa_expense_posting = fields.Selection(
        [
            ("post", "Approve and post the expense reports"),
            ("draft", "Leave the reports to accounting (submitted)"),
        ],
        string="Expense reports",
        default="draft",
        required=True,
        tracking=True,
        help="Billing runs bill posted expenses only.",
    )
    psa_mark_billed = fields.Boolean(
        string="Mark billed entries in the PSA",
        default=True,
        tracking=True,
        help="When an invoice is posted, its time entries are marked in the PSA (Harvest "
        "external reference, Kantata external reference) with the invoice number.",
    )
    psa_provisioning = fields.Boolean(
        string="Create projects in the PSA",
        default=True,
        tracking=True,
        help="Confirmed governed contracts with a project are created in the PSA (client, "
        "project, tasks, people); amendments update the budget and tasks.",
    )
    psa_default_expense_product_id = fields.Many2one(
        "product.product",
        string="Default expense product",
        domain=[("can_be_expensed", "=", True)],
        help="For expense categories without a mapping.",
    )
    psa_person_ids = fields.One2many("connector.psa.person", "backend_id", string="People")
    psa_company_map_ids = fields.One2many(
        "connector.psa.company.map", "backend_id", string="Companies of people"
    )
    psa_task_map_ids = fields.One2many(
        "connector.psa.task.map", "backend_id", string="Tasks and services"
    )
    psa_category_map_ids = fields.One2many(
        "connector.psa.category.map", "backend_id", string="Expense categories"
    )
    psa_correction_count = fields.Integer(compute="_compute_psa_counts")
    psa_attention_count = fields.Integer(compute="_compute_psa_counts")
    psa_line_count = fields.Integer(compute="_compute_psa_counts")

    def _adapter_class(self):
        return ADAPTERS.get(self.backend_type) or super()._adapter_class()

    # ------------------------------------------------------------------------------------------
    # Defaults per type, setup, computes
    # ------------------------------------------------------------------------------------------

    @api.onchange("backend_type")
    def _onchange_psa_backend_type(self):
        for key, value in TYPE_DEFAULTS.get(self.backend_type, {}).items():
            self[key] = value
        if self.backend_type in PSA_TYPES:
            self.sync_interval = self.psa_time_interval or 15

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for key, value in TYPE_DEFAULTS.get(vals.get("backend_type"), {}).items():
                vals.setdefault(key, value)
            if vals.get("backend_type") in PSA_TYPES:
                vals.setdefault("sync_interval", vals.get("psa_time_interval") or 15)
        backends = super().create(vals_list)
        backends.filtered(lambda b: b.backend_type in PSA_TYPES)._psa_setup()
        return backends

    def write(self, vals):
        if "psa_time_interval" in vals and "sync_interval" not in vals:
            # The backend's interval is what monitoring reads for the time stream.
            vals = dict(vals, sync_interval=vals["psa_time_interval"] or 15)
        return super().write(vals)

    def _psa_setup(self):
        """The streams of the tool (pulled on their own intervals, see connector_stream.py)."""
        Stream = self.env["connector.stream"].sudo()
        for backend in self:
            existing = set(backend.with_context(active_test=False).stream_ids.mapped("code"))
            wanted = TOOL_STREAMS[backend.backend_type]
            Stream.create(
                [
                    {"backend_id": backend.id, "code": code, "name": name, "sequence": index}
                    for index, (code, name) in enumerate(STREAMS)
                    if code in wanted and code not in existing
                ]
            )

    @api.constrains("psa_time_interval", "psa_deletion_window_days", "psa_batch_entries")
    def _check_psa_settings(self):
        for backend in self.filtered(lambda b: b.backend_type in PSA_TYPES):
            if backend.psa_time_interval <= 0 or backend.psa_batch_entries <= 0:
                raise ValidationError(
                    _("The time interval and the entries per import job must be positive.")
                )
            if backend.psa_deletion_window_days < 1:
                raise ValidationError(_("The deletion window must be at least one day."))

    def _compute_psa_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            backend.psa_redirect_uri = (backend.public_base_url or base).rstrip("/") + CALLBACK_PATH

    def _compute_psa_counts(self):
        Correction = self.env["connector.psa.correction"]
        Job = self.env["connector.job"]
        Line = self.env["account.analytic.line"].sudo()  # a count on the backend form
        for backend in self:
            if not backend.id or backend.backend_type not in PSA_TYPES:
                backend.psa_correction_count = backend.psa_attention_count = 0
                backend.psa_line_count = 0
                continue
            backend.psa_correction_count = Correction.search_count(
                [("backend_id", "=", backend.id), ("state", "=", "open")]
            )
            backend.psa_attention_count = Job.search_count(
                [("backend_id", "=", backend.id), ("state", "in", ("needs_attention", "dead"))]
            )
            backend.psa_line_count = Line.search_count([("psa_backend_id", "=", backend.id)])

    def _compute_secret_fields(self):
        super()._compute_secret_fields()
        for backend in self:
            backend.psa_client_secret = False

    def _inverse_psa_client_secret(self):
        self._store_secret_field("psa_client_secret", "client_secret")

    def _connector_secret_labels(self):
        labels = super()._connector_secret_labels()
        if self.backend_type == "harvest":
            labels = {
                "api_token": _("Personal access token (or access token from Connect)"),
                "refresh_token": _("Refresh token (Connect)"),
                "client_secret": _("OAuth client secret"),
            }
        elif self.backend_type == "kantata":
            labels = {
                "api_token": _("Access token (from Connect, or pasted)"),
                "refresh_token": _("Refresh token (if Kantata issues one)"),
                "client_secret": _("OAuth client secret"),
            }
        return labels

    def _psa_record_connection(self, info, report, web_url=None):
        values = {
            "psa_connected_as": f"{info.user.name} <{info.user.email or '-'}>"[:250],
            "psa_connection_report": report,
        }
        if web_url and not self.psa_web_url:
            values["psa_web_url"] = web_url
        self.with_context(**{CTX_NO_AUDIT: True}).write(values)

    def _psa_user_agent(self):
        contact = self.psa_contact_email or self.env.company.email or "admin@example.com"
        return f"Odoo PSA connector ({contact})"

    def action_activate(self):
        for backend in self.filtered(lambda b: b.backend_type in PSA_TYPES):
            if not backend.psa_start_date:
                backend.psa_start_date = fields.Date.context_today(backend).replace(day=1)
        return super().action_activate()

    # ------------------------------------------------------------------------------------------
    # Screens
    # ------------------------------------------------------------------------------------------

    def _psa_action(self, xmlid, domain=None, context=None):
        self.ensure_one()
        self.check_access("read")  # the screens of a backend are for Connector Users
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain or [("backend_id", "=", self.id)]
        action["context"] = dict(context or {}, default_backend_id=self.id)
        return action

    def action_psa_open_corrections(self):
        return self._psa_action("connector_psa.action_connector_psa_correction")

    def action_psa_open_lines(self):
        return self._psa_action(
            "connector_psa.action_psa_time_import", [("psa_backend_id", "=", self.id)]
        )

    def action_psa_open_attention(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_base.action_connector_job"
        )
        action["domain"] = [
            ("backend_id", "=", self.id),
            ("state", "in", ("needs_attention", "dead")),
        ]
        return action

    def action_psa_open_projects(self):
        return self._psa_action(
            "connector_psa.connector_psa_project_binding_action",
            [("backend_id", "=", self.id), ("remote_type", "=", "project")],
        )

    def action_psa_open_people(self):
        return self._psa_action("connector_psa.action_connector_psa_person")

    def action_psa_provision_all(self):
        """Queue provisioning of every confirmed governed contract with a project."""
        self.ensure_one()
        self._check_manager()
        # Connector Managers need no sales rights to provision (checked above).
        orders = (
            self.env["sale.order"]
            .sudo()
            .search(
                [
                    ("state", "=", "sale"),
                    ("ps_governed", "=", True),
                    ("project_id", "!=", False),
                    ("company_id", "in", self.company_ids.ids),
                ]
            )
        )
        jobs = orders._psa_queue_provisioning(backends=self, source="user")
        return jobs._action_open() if jobs else True
