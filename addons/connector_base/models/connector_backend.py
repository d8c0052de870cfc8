import base64
import hashlib
import json
import logging
import os
import secrets as pysecrets
import threading
import time
from urllib.parse import urlsplit

import requests

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from ..const import (
    CTX_CORRELATION_ID,
    CTX_NO_AUDIT,
    HEALTH_DEGRADED,
    HEALTH_DOWN,
    HEALTH_OK,
    JOB_NEEDS_ATTENTION,
)
from ..engine import signatures
from ..engine.errors import AuthError, BusinessError, ConnectorError
from ..engine.http_client import BearerTokenAuth, HttpClient
from ..engine.ratelimit import bucket_for
from ..engine.redaction import SECRETS
from ..engine.vault import SecretDecryptError, Vault, VaultKeyInvalid, VaultKeyMissing, parse_keys

_logger = logging.getLogger(__name__)

WEBHOOK_DEFAULT_MAX_BYTES = 1024 * 1024
WEBHOOK_HARD_MAX_BYTES = 32 * 1024 * 1024
CONFIG_KEYS_OPTION = "connector_encryption_keys"
ENV_KEYS_VARIABLE = "ODOO_CONNECTOR_KEYS"


_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()


def _backend_session(dbname, backend_id):
    """One requests session per backend and process: connections are reused between jobs."""
    key = (dbname, backend_id)
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = requests.Session()
        return session


def _normalized_origin(url):
    """scheme://host[:port] of a URL, lower-cased: what identifies the server a database runs on."""
    parts = urlsplit((url or "").strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme else ""


class ConnectorBackend(models.Model):
    """One remote system (a Salesforce org, a HubSpot portal, a Harvest account...).

    Connector addons add their type to ``backend_type`` and implement the ``_connector_*`` and
    ``_webhook_*`` hooks for it; job handlers are methods named ``_job_<operation>``.
    """

    _name = "connector.backend"
    _description = "Connector Backend"
    _inherit = ["mail.thread", "mail.activity.mixin", "connector.audited.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    backend_type = fields.Selection(
        [("generic", "Generic (HMAC-signed JSON)")],
        string="Type",
        required=True,
        default="generic",
        tracking=True,
        help="Which remote system this is; connector addons add their types.",
    )
    state = fields.Selection(
        [("paused", "Paused"), ("active", "Active")],
        required=True,
        default="paused",
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
    public_base_url = fields.Char(
        string="Public URL of this Odoo",
        tracking=True,
        help="The URL under which remote systems reach this Odoo (e.g. behind a reverse proxy). "
        "Webhook signatures are verified against it. Empty: the web.base.url parameter.",
    )
    webhook_key = fields.Char(
        readonly=True,
        copy=False,
        index=True,
        default=lambda self: pysecrets.token_urlsafe(24),
        groups="connector_base.group_connector_manager",
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", string="Webhook URL")
    webhook_max_bytes = fields.Integer(
        string="Webhook size limit (bytes)",
        default=1024 * 1024,
        help="Larger bodies are refused with HTTP 413.",
    )
    webhook_tolerance = fields.Integer(
        string="Webhook timestamp tolerance (s)",
        default=300,
        help="Signed webhooks whose timestamp is further from now are refused as stale.",
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
    guard_db_uuid = fields.Char(
        string="Activated on database", readonly=True, copy=False, groups="base.group_system"
    )
    guard_base_url = fields.Char(string="Activated on server", readonly=True, copy=False)
    stream_ids = fields.One2many("connector.stream", "backend_id", string="Streams")
    webhook_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_webhook_secret",
        string="Webhook signing secret",
        groups="connector_base.group_connector_manager",
        help="Write-only: the value is encrypted and never shown again.",
    )
    api_token = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_api_token",
        string="API token",
        groups="connector_base.group_connector_manager",
        help="Write-only: the value is encrypted and never shown again.",
    )
    secret_summary = fields.Text(
        compute="_compute_secret_summary",
        string="Credentials",
        groups="connector_base.group_connector_manager",
    )

    _sql_constraints = [
        ("webhook_key_uniq", "unique(webhook_key)", "Two backends cannot share a webhook URL."),
        ("batch_size_positive", "CHECK(batch_size > 0)", "The batch size must be positive."),
        ("max_attempts_positive", "CHECK(max_attempts > 0)", "Max attempts must be positive."),
    ]

    # ------------------------------------------------------------------------------------------
    # Computes and constraints
    # ------------------------------------------------------------------------------------------

    @api.depends("public_base_url", "webhook_key")
    def _compute_webhook_url(self):
        default_base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            key = backend.sudo().webhook_key
            base = (backend.public_base_url or default_base).rstrip("/")
            backend.webhook_url = (
                f"{base}/connector/webhook/{self.env.cr.dbname}/{key}" if key else False
            )

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
            if not user.has_group("connector_base.group_connector_user"):
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

    # ------------------------------------------------------------------------------------------
    # Credentials vault: the only way to read a secret is _get_secret()
    # ------------------------------------------------------------------------------------------

    @api.model
    def _connector_vault(self):
        """The vault built from the configured keys (config option first, then env variable).

        Raises VaultKeyMissing / VaultKeyInvalid (their messages say how to configure keys):
        screens turn them into a UserError, jobs into an AuthError (the backend waits).
        """
        keys = parse_keys(config.get(CONFIG_KEYS_OPTION), os.environ.get(ENV_KEYS_VARIABLE))
        return Vault(keys)

    @api.model
    def _connector_vault_for_user(self):
        try:
            return self._connector_vault()
        except (VaultKeyMissing, VaultKeyInvalid) as exc:
            raise UserError(str(exc)) from None

    def _connector_secret_labels(self):
        """Secret name -> label, for the credentials summary. Connector addons extend it."""
        return {"webhook_secret": _("Webhook signing secret"), "api_token": _("API token")}

    def _compute_secret_fields(self):
        # Write-only fields: the stored value is never sent back to the client.
        for backend in self:
            backend.webhook_secret = False
            backend.api_token = False

    def _inverse_webhook_secret(self):
        self._store_secret_field("webhook_secret", "webhook_secret")

    def _inverse_api_token(self):
        self._store_secret_field("api_token", "api_token")

    def _store_secret_field(self, field_name, secret_name):
        """Inverse of a write-only credential field: encrypt, store, and forget the value."""
        for backend in self:
            value = backend[field_name]
            if value:
                backend._set_secret(secret_name, value)
        # Do not keep the plaintext in the ORM cache for the rest of the request.
        self.invalidate_recordset([field_name])

    @api.depends_context("uid")
    def _compute_secret_summary(self):
        labels_cache = {}
        secrets = self.env["connector.secret"].sudo().search([("backend_id", "in", self.ids)])
        for backend in self:
            labels = labels_cache.setdefault(
                backend.backend_type, backend._connector_secret_labels()
            )
            stored = {s.name: s for s in secrets if s.backend_id == backend}
            lines = []
            for name, label in labels.items():
                secret = stored.get(name)
                if secret:
                    lines.append(
                        _(
                            "%(label)s: set on %(date)s by %(user)s (key %(key)s)",
                            label=label,
                            date=fields.Datetime.to_string(secret.write_date),
                            user=secret.write_uid.name,
                            key=secret.key_fingerprint,
                        )
                    )
                else:
                    lines.append(_("%(label)s: not set", label=label))
            backend.secret_summary = "\n".join(lines)

    def _set_secret(self, name, value):
        """Encrypt and store one credential; audited without its value."""
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(
            "connector_base.group_connector_manager"
        ):
            raise UserError(_("Only a Connector Manager can set credentials."))
        vault = self._connector_vault_for_user()
        token = vault.encrypt(value)
        SECRETS.register(value)
        Secret = self.env["connector.secret"].sudo().with_context(**{CTX_NO_AUDIT: True})
        existing = Secret.search([("backend_id", "=", self.id), ("name", "=", name)])
        vals = {"ciphertext": token, "key_fingerprint": vault.primary_fingerprint}
        if existing:
            existing.write(vals)
        else:
            Secret.create(dict(vals, backend_id=self.id, name=name))
        self.env["connector.audit.log"]._log(
            "credential_set",
            record=self,
            backend=self,
            changes={name: ["***", "***"]},
            message=_("Credential %(name)s set", name=name),
        )
        if self.health == HEALTH_DOWN:
            self._set_health(HEALTH_OK, _("Credentials changed: jobs resume."))

    def _get_secret(self, name):
        """Decrypted value of a credential, or None when it is not set.

        The single read path of the vault: it runs sudo because nobody has access to
        connector.secret, and registers the value so that it is redacted from every log line.
        """
        self.ensure_one()
        secret = (
            self.env["connector.secret"]
            .sudo()
            .search([("backend_id", "=", self.id), ("name", "=", name)], limit=1)
        )
        if not secret:
            return None
        try:
            value = self._connector_vault().decrypt(secret.ciphertext)
        except (VaultKeyMissing, VaultKeyInvalid) as exc:
            # A configuration problem of the server: the backend waits, attempts are kept.
            raise AuthError(str(exc)) from None
        except SecretDecryptError as exc:
            raise AuthError(
                _(
                    "Credential %(name)s of backend %(backend)s cannot be decrypted: %(error)s "
                    "Set it again, or add the key it was encrypted with to the configured keys.",
                    name=name,
                    backend=self.name,
                    error=exc,
                )
            ) from None
        SECRETS.register(value)
        return value

    def action_clear_secrets(self):
        """Remove every stored credential of these backends (e.g. after a leak)."""
        self._check_manager()
        for backend in self:
            stored = self.env["connector.secret"].sudo().search([("backend_id", "=", backend.id)])
            if stored:
                self.env["connector.audit.log"]._log(
                    "credential_cleared",
                    record=backend,
                    backend=backend,
                    changes={name: ["***", None] for name in stored.mapped("name")},
                    message=_("All credentials removed"),
                )
                stored.with_context(**{CTX_NO_AUDIT: True}).unlink()
        return True

    @api.model
    def action_rotate_encryption(self):
        """Re-encrypt every stored credential with the first configured key."""
        self._check_manager()
        vault = self._connector_vault_for_user()
        rotated = 0
        for secret in self.env["connector.secret"].sudo().search([]):
            if vault.needs_rotation(secret.ciphertext):
                try:
                    token = vault.rotate(secret.ciphertext)
                except SecretDecryptError as exc:
                    raise UserError(
                        _(
                            "Credential %(name)s of backend %(backend)s decrypts with none of the "
                            "configured keys (%(error)s). Add its old key to the configured keys, "
                            "or set the credential again, then rotate.",
                            name=secret.name,
                            backend=secret.backend_id.name,
                            error=exc,
                        )
                    ) from None
                secret.with_context(**{CTX_NO_AUDIT: True}).write(
                    {"ciphertext": token, "key_fingerprint": vault.primary_fingerprint}
                )
                rotated += 1
        self.env["connector.audit.log"]._log(
            "credential_rotated",
            message=_(
                "%(count)s credential(s) re-encrypted with key %(key)s",
                count=rotated,
                key=vault.primary_fingerprint,
            ),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Credentials re-encrypted"),
                "message": _(
                    "%(count)s credential(s) now use key %(key)s. The old keys can be removed "
                    "from the configuration once every server runs with the new list.",
                    count=rotated,
                    key=vault.primary_fingerprint,
                ),
                "type": "success",
                "sticky": False,
            },
        }

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "connector_base.group_connector_manager"
        ):
            raise UserError(_("This action is reserved to Connector Managers."))

    # ------------------------------------------------------------------------------------------
    # State, health and staging safety
    # ------------------------------------------------------------------------------------------

    def _current_environment(self):
        ICP = self.env["ir.config_parameter"].sudo()
        return ICP.get_param("database.uuid"), _normalized_origin(ICP.get_param("web.base.url"))

    def action_activate(self):
        """Start running jobs; remember which database and server may talk to the remote."""
        self._check_manager()
        db_uuid, origin = self._current_environment()
        for backend in self:
            backend.sudo().write(
                {
                    "state": "active",
                    "pause_reason": False,
                    "guard_db_uuid": db_uuid,
                    "guard_base_url": origin,
                }
            )
        self.env["connector.job"]._trigger_runners()
        return True

    def action_pause(self):
        self._check_manager()
        self.write({"state": "paused", "pause_reason": _("Paused by %s", self.env.user.name)})
        return True

    def action_confirm_environment(self):
        """An admin confirms that this (copied) database may talk to the configured remote."""
        return self.action_activate()

    def action_reset_health(self):
        self._check_manager()
        for backend in self:
            backend._set_health(HEALTH_OK, _("Marked OK by %s", self.env.user.name))
        self.env["connector.job"]._trigger_runners()
        return True

    def _check_environment_guard(self):
        """Pause active backends whose database or server changed since they were activated.

        A restored copy of production (staging, a developer's laptop) has another database UUID
        or web.base.url: it must never talk to production systems until an admin confirms.
        Returns the backends that may run.
        """
        db_uuid, origin = self._current_environment()
        allowed = self.browse()
        for backend in self.filtered(lambda b: b.state == "active"):
            guard_uuid = backend.sudo().guard_db_uuid
            reasons = []
            if guard_uuid and guard_uuid != db_uuid:
                reasons.append(
                    _(
                        "the database UUID changed from %(old)s to %(new)s",
                        old=guard_uuid,
                        new=db_uuid,
                    )
                )
            if backend.guard_base_url and backend.guard_base_url != origin:
                reasons.append(
                    _(
                        "web.base.url changed from %(old)s to %(new)s",
                        old=backend.guard_base_url,
                        new=origin,
                    )
                )
            if reasons:
                reason = _(
                    "Paused automatically: this looks like a copy of the database (%(reasons)s). "
                    "Nothing is sent to or read from %(url)s until a Connector Manager clicks "
                    "'Confirm environment' on the backend.",
                    reasons="; ".join(reasons),
                    url=backend.api_base_url or backend.name,
                )
                backend.sudo().write({"state": "paused", "pause_reason": reason})
                backend.sudo().message_post(body=reason)
                _logger.warning("connector backend %s: %s", backend.id, reason)
            else:
                allowed |= backend
        return allowed

    def _set_health(self, health, reason):
        """Record a health change (only when it changes: runners call this concurrently)."""
        now = fields.Datetime.now()
        for backend in self:
            if backend.health == health and health == HEALTH_OK:
                continue
            if backend.health == health and backend.health_reason == reason:
                continue
            values = {"health": health, "health_reason": reason}
            if backend.health != health:
                values["health_since"] = now
            backend.sudo().with_context(**{CTX_NO_AUDIT: True}).write(values)
            if health == HEALTH_DOWN:
                backend.sudo().message_post(
                    body=_(
                        "Backend is down: %(reason)s Its jobs wait until it is fixed.",
                        reason=reason,
                    )
                )

    @api.model
    def _runnable_backends(self):
        """Active, not down, environment confirmed: the backends whose jobs may be claimed."""
        backends = self.sudo().search([("state", "=", "active"), ("health", "!=", HEALTH_DOWN)])
        return backends._check_environment_guard()

    # ------------------------------------------------------------------------------------------
    # Jobs: the API other addons use
    # ------------------------------------------------------------------------------------------

    def _enqueue(self, operation, payload=None, **options):
        """Queue one job durably (see connector.job._enqueue_many for the options).

        Returns the job (the existing one when the idempotency key was already queued).
        """
        self.ensure_one()
        options.update(operation=operation, payload=payload or {})
        return self.env["connector.job"]._enqueue_many(self, [options])

    def _job_handler(self, operation):
        """The method running ``operation``: ``_job_<operation with dots as underscores>``."""
        method_name = "_job_" + operation.replace(".", "_").replace("-", "_")
        handler = getattr(self, method_name, None)
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

    def _job_stream_pull(self, job):
        """A scheduled or manual pull of one stream (see connector.stream)."""
        payload = job._payload()
        stream = self.env["connector.stream"].browse(payload["stream_id"]).exists()
        if not stream:
            raise BusinessError(
                _("Stream %s no longer exists: cancel this job.", payload.get("stream_id"))
            )
        return stream._run_pull(job)

    def _connector_after_failure(self, job_row, state, message):
        """Called (outside the failed job's savepoint) after a job failed. Records the error of
        failed pulls on their stream so that monitoring shows it."""
        if job_row["operation"] == "stream.pull":
            self.env.cr.execute(
                """UPDATE connector_stream SET last_error = %s
                   WHERE id = (SELECT (payload::jsonb ->> 'stream_id')::int
                               FROM connector_job WHERE id = %s)""",
                (message, job_row["id"]),
            )

    def _job_noop(self, job):
        """Does nothing: queue self-tests and benchmarks measure the queue's own cost with it."""
        return None

    # ------------------------------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------------------------------

    def _http_client(self, base_url=None, auth=None, correlation_id=None, quick_retries=0):
        """A requests-based client with this backend's timeouts, rate limit and correlation id."""
        self.ensure_one()
        base = base_url or self.api_base_url
        if not base:
            raise AuthError(
                _(
                    "Backend %(backend)s has no API base URL: set it on the backend.",
                    backend=self.name,
                )
            )
        bucket = None
        if self.rate_limit:
            bucket = bucket_for((self.env.cr.dbname, self.id), self.rate_limit)
        correlation = correlation_id or self.env.context.get(CTX_CORRELATION_ID)
        return HttpClient(
            base,
            timeout=(self.timeout_connect, self.timeout_read),
            auth=auth,
            rate_limiter=bucket,
            correlation_id=correlation,
            session=_backend_session(self.env.cr.dbname, self.id),
            logger=logging.getLogger(f"odoo.addons.connector_base.http.{self.backend_type}"),
            quick_retries=quick_retries,
        )

    def action_test_connection(self):
        """Call the remote API for real and report what it answered."""
        self.ensure_one()
        self._check_manager()
        try:
            message = self._connector_test_connection()
        except ConnectorError as exc:
            # Not raised: a UserError would roll back the health this test just measured.
            health = HEALTH_DOWN if exc.error_class == "auth" else HEALTH_DEGRADED
            self._set_health(health, exc.message)
            failure = _(
                "Test connection of %(backend)s failed: %(error)s",
                backend=self.name,
                error=exc.message,
            )
            self.message_post(body=failure)
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "title": _("Connection failed"),
                    "message": failure,
                    "type": "danger",
                    "sticky": True,
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        self._set_health(HEALTH_OK, message)
        self.message_post(body=_("Test connection succeeded: %s", message))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Connection OK"),
                "message": message,
                "type": "success",
                "sticky": False,
            },
        }

    def _connector_test_connection(self):
        """Hook per backend type: call the API, return a one-line description of what answered."""
        self.ensure_one()
        if self.backend_type != "generic":
            raise ConnectorError(
                _("Test connection is not implemented for backend type %s.", self.backend_type)
            )
        token = self._get_secret("api_token")
        client = self._http_client(auth=BearerTokenAuth(token) if token else None)
        started = time.monotonic()
        response = client.get("")
        elapsed = (time.monotonic() - started) * 1000
        return _(
            "%(url)s answered HTTP %(status)s in %(ms)d ms",
            url=self.api_base_url,
            status=response.status_code,
            ms=elapsed,
        )

    # ------------------------------------------------------------------------------------------
    # Webhooks: hooks per backend type (the controller calls _webhook_receive)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _webhook_receive(self, key, *, method, path, request_url, headers, body, content_type, now):
        """Intake of one webhook request (superuser). Returns (HTTP status, JSON data).

        Verified events are queued in this transaction, which commits before the answer:
        durable first, then acknowledged.
        """
        backend = self.search([("webhook_key", "=", key)], limit=1) if key else None
        if not backend:
            _logger.warning("connector webhook: unknown key %s...", (key or "")[:4])
            return 404, {"error": "unknown webhook URL"}
        limit = min(backend.webhook_max_bytes or WEBHOOK_DEFAULT_MAX_BYTES, WEBHOOK_HARD_MAX_BYTES)
        if len(body) > limit:
            _logger.warning(
                "connector webhook: backend %s refused a body of %s bytes (limit %s)",
                backend.id,
                len(body),
                limit,
            )
            return 413, {"error": f"body larger than {limit} bytes"}
        url = backend._webhook_signed_url(path, request_url)
        try:
            backend._webhook_verify(method, url, headers, body, now)
        except signatures.SignatureError as exc:
            _logger.warning(
                "connector webhook: backend %s refused a request with a bad signature (%s) from %s",
                backend.id,
                exc.reason,
                headers.get("X-Forwarded-For") or headers.get("Host"),
            )
            return 401, {"error": "invalid signature", "reason": exc.reason}
        try:
            specs = backend._webhook_events(json.loads(body.decode("utf-8")), headers)
        except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            job = backend._enqueue(
                "webhook.unparseable",
                _raw_body_payload(body, content_type, headers),
                idempotency_key="body:" + hashlib.sha256(body).hexdigest(),
                state=JOB_NEEDS_ATTENTION,
                direction="inbound",
                source="webhook",
                last_error=_(
                    "A webhook passed the signature check but its body could not be read "
                    "(%(error)s). Fix the sender, or edit raw_body in the payload into valid JSON "
                    "and retry: the events it holds are then queued.",
                    error=exc,
                ),
            )
            _logger.warning(
                "connector webhook: backend %s stored an unparseable body as job %s",
                backend.id,
                job.id,
            )
            return 200, {"status": "stored for review", "jobs": job.ids}
        jobs = self.env["connector.job"]._enqueue_many(backend, specs)
        return 200, {"status": "queued", "jobs": jobs.ids}

    def _job_webhook_unparseable(self, job):
        """Replay of a stored unparseable webhook: parse raw_body again (after an edit) and
        queue the events it holds."""
        payload = job._payload()
        raw = payload.get("raw_body") or ""
        if payload.get("encoding") == "base64":
            raw = base64.b64decode(raw).decode("utf-8", errors="replace")
        try:
            headers = (
                {"X-Connector-Event-Id": payload["event_id"]} if payload.get("event_id") else {}
            )
            specs = self._webhook_events(json.loads(raw), headers)
        except (ValueError, KeyError, TypeError) as exc:
            raise BusinessError(
                _(
                    "raw_body is still not a valid event (%(error)s): edit the payload and "
                    "retry, or cancel the job.",
                    error=exc,
                )
            ) from None
        return self.env["connector.job"]._enqueue_many(self.sudo(), specs)

    def _webhook_signed_url(self, path_and_query, request_url):
        """The URL the sender signed: the public URL of this Odoo plus the request path."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + path_and_query
        return request_url

    def _webhook_verify(self, method, url, headers, body, now):
        """Hook per backend type: raise signatures.SignatureError when the request is not genuine."""
        secret = self._get_secret("webhook_secret")
        if not secret:
            raise signatures.SignatureError(
                f"backend {self.id} has no webhook signing secret: set one on the backend",
                reason="missing",
            )
        signatures.verify_generic(
            secret, headers, method, url, body, now=now, tolerance=self.webhook_tolerance
        )

    def _webhook_events(self, payload, headers):
        """Hook per backend type: turn a parsed webhook body into job specs.

        Generic format: one event object or a list of them, each
        ``{"id": <event id>, "type": <event type>, "object_id": <remote record id>, ...}``.
        The event id makes deliveries idempotent; the object id orders events of one record.
        """
        events = payload if isinstance(payload, list) else [payload]
        specs = []
        for event in events:
            if not isinstance(event, dict) or not event.get("type"):
                raise ValueError("each event must be a JSON object with a 'type'")
            event_id = event.get("id") or headers.get("X-Connector-Event-Id")
            specs.append(
                {
                    "operation": "generic.event",
                    "payload": event,
                    "idempotency_key": f"event:{event_id}" if event_id else None,
                    "record_key": (
                        f"{event.get('object_type', 'object')}:{event['object_id']}"
                        if event.get("object_id") is not None
                        else None
                    ),
                    "direction": "inbound",
                    "source": "webhook",
                }
            )
        return specs

    def _job_generic_event(self, job):
        """Generic events are handed to ``_on_generic_event_<type>`` (provided by an addon)."""
        event = job._payload()
        method = "_on_generic_event_" + str(event.get("type")).replace(".", "_").replace("-", "_")
        handler = getattr(self, method, None)
        if handler is None:
            raise BusinessError(
                _(
                    "No handler for generic event type '%(type)s' (method %(method)s): install "
                    "the addon that handles it, or cancel the job.",
                    type=event.get("type"),
                    method=method,
                )
            )
        return handler(event, job)


def _raw_body_payload(body, content_type, headers):
    """What is kept of a body that could not be parsed: all of it, as text or base64."""
    try:
        raw, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        raw, encoding = base64.b64encode(body).decode(), "base64"
    return {
        "raw_body": raw,
        "encoding": encoding,
        "content_type": content_type,
        "event_id": headers.get("X-Connector-Event-Id"),
    }


class ConnectorBackendDemo(models.Model):
    _inherit = "connector.backend"

    def _demo_populate(self):
        """Demo data only: activate, set a webhook secret if a key is configured, queue jobs."""
        Job = self.env["connector.job"]
        for backend in self:
            backend.action_activate()
            try:
                backend._set_secret("webhook_secret", "demo-webhook-secret")
            except UserError:
                _logger.info("demo: no encryption key configured, no demo webhook secret set")
            backend._enqueue("noop", {"demo": True}, idempotency_key="demo:noop:1")
            backend._enqueue("noop", {"demo": True}, idempotency_key="demo:noop:2")
            backend._enqueue(
                "generic.event",
                {
                    "id": "evt-demo-1",
                    "type": "contact.updated",
                    "object_id": "C-1001",
                    "data": {"name": "Ada Lovelace"},
                },
                idempotency_key="event:evt-demo-1",
                record_key="contact:C-1001",
                direction="inbound",
                source="webhook",
            )
            dead = backend._enqueue(
                "noop",
                {"demo": "an outbound call that kept failing"},
                idempotency_key="demo:dead:1",
                direction="outbound",
            )
            self.env.cr.execute(
                """UPDATE connector_job SET state = 'dead', attempts = max_attempts,
                       error_class = 'transient', done_at = create_date,
                       last_error = '503 Service Unavailable from http://127.0.0.1:8071/api '
                                    '(gave up after 8 attempts)'
                   WHERE id = %s""",
                (dead.id,),
            )
            Job.invalidate_model()
