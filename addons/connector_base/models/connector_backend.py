import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..adapters import GenericAdapter, LegacyHooksAdapter
from ..const import (
    BACKEND_ACTIVE,
    BACKEND_PAUSED,
    BACKEND_TYPE_GENERIC,
    GROUP_MANAGER,
    GROUP_USER,
    HEALTH_DEGRADED,
    HEALTH_DOWN,
    HEALTH_OK,
    OP_GENERIC_EVENT,
    OP_NOOP,
    OP_STREAM_PULL,
    OP_WEBHOOK_UNPARSEABLE,
)
from ..engine.errors import BusinessError

_logger = logging.getLogger(__name__)


class ConnectorBackend(models.Model):
    """One remote system (a Salesforce org, a HubSpot portal, a Harvest account...).

    What is specific to a remote system lives in its adapter (``adapters/``): a plain class the
    backend obtains from its type with ``_adapter()``. Connector addons add their type to
    ``backend_type`` and map it to their adapter class in ``_adapter_class()``.

    This file: the fields, the adapter, the jobs API. The other concerns extend the model in
    files of their own: credentials (connector_backend_vault.py), HTTP and Test connection
    (connector_backend_http.py), webhook intake (connector_backend_webhook.py), state, health
    and staging safety (connector_backend_state.py), monitoring and alerts, demo data.
    """

    _name = "connector.backend"
    _description = "Connector Backend"
    _inherit = ["mail.thread", "mail.activity.mixin", "connector.audited.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    backend_type = fields.Selection(
        [(BACKEND_TYPE_GENERIC, "Generic (HMAC-signed JSON)")],
        string="Type",
        required=True,
        default=BACKEND_TYPE_GENERIC,
        tracking=True,
        help="Which remote system this is; connector addons add their types.",
    )
    state = fields.Selection(
        [(BACKEND_PAUSED, "Paused"), (BACKEND_ACTIVE, "Active")],
        required=True,
        default=BACKEND_PAUSED,
        tracking=True,
        copy=False,
        help="Only active backends run jobs, pulls and pushes. Webhooks are still received "
        "and queued while paused: nothing is lost.",
    )
    pause_reason = fields.Text(readonly=True, copy=False)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        required=True,
        default="sandbox",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        string="Default company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    company_ids = fields.Many2many(
        "res.company",
        "connector_backend_company_rel",
        "backend_id",
        "company_id",
        string="Companies",
        default=lambda self: self.env.company,
        help="Companies the jobs of this backend may write to (the default company included).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Integration user",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        help="Jobs run with this user's access rights. Use a dedicated user with only the "
        "rights the integration needs.",
    )
    api_base_url = fields.Char(
        string="API base URL",
        tracking=True,
        help="Base URL of the remote API; point it at a fake server, a sandbox or production.",
    )
    auth_base_url = fields.Char(
        string="Login / token URL",
        tracking=True,
        help="Base URL of the remote login or OAuth token endpoint, when it differs from the API.",
    )
    batch_size = fields.Integer(
        default=50, help="Jobs claimed at once by a runner, and records per page in pulls."
    )
    rate_limit = fields.Float(
        string="Rate limit (requests/s)",
        default=10.0,
        help="Maximum requests per second to the remote API from one Odoo process (0: none).",
    )
    timeout_connect = fields.Float(string="Connect timeout (s)", default=5.0)
    timeout_read = fields.Float(string="Read timeout (s)", default=30.0)
    sync_interval = fields.Integer(
        string="Sync interval (min)", default=5, help="Minutes between two pulls of each stream."
    )
    max_attempts = fields.Integer(
        default=8, help="Attempts of a job failing with transient errors before it is dead."
    )
    retry_base_seconds = fields.Integer(string="First retry after (s)", default=30)
    retry_cap_seconds = fields.Integer(string="Longest retry delay (s)", default=3600)
    health = fields.Selection(
        [(HEALTH_OK, "OK"), (HEALTH_DEGRADED, "Degraded"), (HEALTH_DOWN, "Down")],
        default=HEALTH_OK,
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    health_reason = fields.Text(readonly=True, copy=False)
    health_since = fields.Datetime(readonly=True, copy=False)
    stream_ids = fields.One2many("connector.stream", "backend_id", string="Streams")
    _sql_constraints = [
        ("webhook_key_uniq", "unique(webhook_key)", "Two backends cannot share a webhook URL."),
        ("batch_size_positive", "CHECK(batch_size > 0)", "The batch size must be positive."),
        ("max_attempts_positive", "CHECK(max_attempts > 0)", "Max attempts must be positive."),
    ]

    # ------------------------------------------------------------------------------------------
    # Computes and constraints
    # ------------------------------------------------------------------------------------------

    @api.constrains("company_id", "company_ids")
    def _check_default_company_allowed(self):
        for backend in self:
            if backend.company_id not in backend.company_ids:
                raise ValidationError(
                    _(
                        "Backend %(backend)s: its default company %(company)s must be one of its "
                        "companies. Add it to Companies.",
                        backend=backend.name,
                        company=backend.company_id.name,
                    )
                )

    @api.constrains("rate_limit", "timeout_connect", "timeout_read", "sync_interval")
    def _check_positive_settings(self):
        for backend in self:
            if backend.rate_limit < 0 or backend.sync_interval <= 0:
                raise ValidationError(
                    _("The rate limit cannot be negative and the sync interval must be positive.")
                )
            if backend.timeout_connect <= 0 or backend.timeout_read <= 0:
                raise ValidationError(
                    _("Timeouts must be positive: a call without a timeout can hang a runner.")
                )

    @api.constrains("user_id", "company_ids", "company_id")
    def _check_integration_user(self):
        for backend in self:
            user = backend.user_id
            if not user.has_group(GROUP_USER):
                raise ValidationError(
                    _(
                        "The integration user %(user)s of backend %(backend)s must be a Connector "
                        "User (Settings > Users > %(user)s > Connectors): jobs run with its rights.",
                        user=user.name,
                        backend=backend.name,
                    )
                )
            missing = (backend.company_ids | backend.company_id) - user.company_ids
            if missing:
                raise ValidationError(
                    _(
                        "The integration user %(user)s of backend %(backend)s has no access to "
                        "%(companies)s: allow these companies on the user, or remove them from "
                        "the backend.",
                        user=user.name,
                        backend=backend.name,
                        companies=", ".join(missing.mapped("name")),
                    )
                )

    @api.onchange("company_id")
    def _onchange_company_id(self):
        if self.company_id and self.company_id not in self.company_ids:
            self.company_ids |= self.company_id

    @api.ondelete(at_uninstall=False)
    def _unlink_except_audited(self):
        Audit = self.env["connector.audit.log"].sudo()
        for backend in self:
            if Audit.search_count([("backend_id", "=", backend.id)], limit=1):
                raise UserError(
                    _(
                        "Backend %(backend)s has an audit trail and cannot be deleted: archive it "
                        "instead (Action > Archive). Its history stays readable.",
                        backend=backend.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("company_id") and not vals.get("company_ids"):
                vals["company_ids"] = [(6, 0, [vals["company_id"]])]
        return super().create(vals_list)

    def _check_manager(self):
        """Actions that change what a connector does or reveal configuration: managers only."""
        if not self.env.su and not self.env.user.has_group(GROUP_MANAGER):
            raise AccessError(_("This action is reserved to Connector Managers."))

    # ------------------------------------------------------------------------------------------
    # The adapter: what is specific to the remote system
    # ------------------------------------------------------------------------------------------

    def _adapter_class(self):
        """The adapter class of this backend's type.

        Each connector addon maps its own types and leaves the others to ``super()``::

            def _adapter_class(self):
                if self.backend_type == "harvest":
                    return HarvestAdapter
                return super()._adapter_class()

        Being a model method, the mapping is per database: only the addons installed there
        contribute to it.
        """
        self.ensure_one()
        if self.backend_type == BACKEND_TYPE_GENERIC:
            return GenericAdapter
        # TRANSITION: types whose addon has no adapter class yet (connector_crm today) keep
        # working through the hook methods they override; remove with LegacyHooksAdapter.
        return LegacyHooksAdapter

    def _adapter(self):
        """The adapter of this backend, in this backend's environment (user, context)."""
        self.ensure_one()
        return self._adapter_class()(self)

    # ------------------------------------------------------------------------------------------
    # Jobs: the API other addons use, and the handlers every backend has
    # ------------------------------------------------------------------------------------------

    def _enqueue(self, operation, payload=None, **options):
        """Queue one job durably (see connector.job._enqueue_many for the options).

        Returns the job (the existing one when the idempotency key was already queued).
        """
        self.ensure_one()
        options.update(operation=operation, payload=payload or {})
        return self.env["connector.job"]._enqueue_many(self, [options])

    def _job_handler(self, operation, adapter=None):
        """The callable running jobs of ``operation``: ``handler(job)``.

        Looked up in the handlers every backend has (pulls, no-ops, stored webhooks, generic
        events) and in those of the backend's adapter (``adapter.job_handlers()``), by name.
        """
        self.ensure_one()
        adapter = adapter or self._adapter()
        handlers = {**adapter.job_handlers(), **self._generic_job_handlers()}
        handler = handlers.get(operation)
        if handler is None:
            # TRANSITION: the ``_job_<operation>`` methods of addons without adapters yet.
            handler = self._legacy_job_handler(operation)
        if handler is None:
            raise BusinessError(
                _(
                    "No handler for operation '%(operation)s' on %(type)s backend '%(backend)s': "
                    "install or upgrade the connector addon that provides it, then retry the job.",
                    operation=operation,
                    type=self.backend_type,
                    backend=self.name,
                )
            )
        return handler

    def _generic_job_handlers(self):
        """Operations every backend handles, whatever its type."""
        return {
            OP_STREAM_PULL: self._handle_stream_pull,
            OP_NOOP: self._handle_noop,
            OP_WEBHOOK_UNPARSEABLE: self._handle_unparseable_webhook,
            OP_GENERIC_EVENT: self._handle_generic_event,
        }

    def _handle_stream_pull(self, job):
        """A scheduled or manual pull of one stream: the adapter reads from the stream's cursor."""
        payload = job._payload()
        stream = self.env["connector.stream"].browse(payload["stream_id"]).exists()
        if not stream:
            raise BusinessError(
                _("Stream %s no longer exists: cancel this job.", payload.get("stream_id"))
            )
        return stream._run_pull(job)

    def _handle_noop(self, job):
        """Does nothing: queue self-tests and benchmarks measure the queue's own cost with it."""
        return None

    def _handle_generic_event(self, job):
        """A generic event goes to the adapter's handler of its type (``event_handlers()``)."""
        event = job._payload()
        event_type = str(event.get("type"))
        handler = self._adapter().event_handlers().get(event_type)
        if handler is None:
            raise BusinessError(
                _(
                    "No handler for generic event type '%(type)s' on %(backend)s: install the "
                    "addon that handles it, or cancel the job.",
                    type=event_type,
                    backend=self.name,
                )
            )
        return handler(event, job)

    def _after_job_failure(self, job_row, state, message):
        """Called by the runner (outside the failed job's savepoint) after a job failed: a
        failed pull shows its error on its stream; then the adapter's ``after_failure``."""
        if job_row["operation"] == OP_STREAM_PULL:
            self.env.cr.execute(
                """UPDATE connector_stream SET last_error = %s
                   WHERE id = (SELECT (payload::jsonb ->> 'stream_id')::int
                               FROM connector_job WHERE id = %s)""",
                (message, job_row["id"]),
            )
        self._adapter().after_failure(job_row, state, message)
