import hashlib
import hmac

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..const import DEFAULTS, PARAM_PREFIX
from ..engine.redaction import SECRETS

METRICS_TOKEN_PARAM = PARAM_PREFIX + "metrics_token_sha256"


def _param(key):
    return PARAM_PREFIX + key


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    connector_runner_count = fields.Integer(
        string="Queue runners",
        config_parameter=_param("runner_count"),
        default=DEFAULTS["runner_count"],
        help="Number of queue-runner crons. Each runs in one cron thread at a time: more runners "
        "than the server's max_cron_threads (times the number of servers) do not add speed.",
    )
    connector_runner_time_budget = fields.Integer(
        string="Runner time budget (s)",
        config_parameter=_param("runner_time_budget"),
        default=DEFAULTS["runner_time_budget"],
        help="Seconds a runner works before handing back to Odoo's cron scheduler. Odoo calls a "
        "busy runner up to 10 times in a row: keep 10 x this below limit_time_real_cron.",
    )
    connector_lease_seconds = fields.Integer(
        string="Job lease (s)",
        config_parameter=_param("lease_seconds"),
        default=DEFAULTS["lease_seconds"],
        help="A job claimed by a runner that died comes back after this long. Live runners renew "
        "it every few seconds (also during a long job), so it need not cover the slowest job.",
    )
    connector_job_retention_days = fields.Integer(
        string="Keep finished jobs (days)",
        config_parameter=_param("job_retention_days"),
        default=DEFAULTS["job_retention_days"],
    )
    connector_failed_job_retention_days = fields.Integer(
        string="Keep failed jobs (days)",
        config_parameter=_param("failed_job_retention_days"),
        default=DEFAULTS["failed_job_retention_days"],
    )
    connector_audit_retention_days = fields.Integer(
        string="Keep audit entries (days)",
        config_parameter=_param("audit_retention_days"),
        default=DEFAULTS["audit_retention_days"],
    )
    connector_alert_dead_jobs = fields.Integer(
        string="Alert from dead jobs",
        config_parameter=_param("alert_dead_jobs"),
        default=DEFAULTS["alert_dead_jobs"],
    )
    connector_alert_backlog_minutes = fields.Integer(
        string="Alert when a job waits (min)",
        config_parameter=_param("alert_backlog_minutes"),
        default=DEFAULTS["alert_backlog_minutes"],
    )
    connector_alert_failure_rate = fields.Integer(
        string="Alert from failure rate (%)",
        config_parameter=_param("alert_failure_rate"),
        default=DEFAULTS["alert_failure_rate"],
    )
    connector_alert_stale_stream_factor = fields.Integer(
        string="Alert when a stream misses (intervals)",
        config_parameter=_param("alert_stale_stream_factor"),
        default=DEFAULTS["alert_stale_stream_factor"],
    )
    connector_alert_runner_stale_minutes = fields.Integer(
        string="Alert when a runner is late (min)",
        config_parameter=_param("alert_runner_stale_minutes"),
        default=DEFAULTS["alert_runner_stale_minutes"],
    )
    connector_metrics_token = fields.Char(
        compute="_compute_connector_metrics_token",
        inverse="_inverse_connector_metrics_token",
        string="Metrics token",
        help="Write-only. Prometheus scrapes /connector/metrics/<database> with the header "
        "'Authorization: Bearer <token>'. Only its SHA-256 is stored.",
    )
    connector_metrics_token_set = fields.Boolean(compute="_compute_connector_metrics_token_set")

    def _compute_connector_metrics_token(self):
        # Write-only and never stored in this (persisted) wizard table: only its hash is kept.
        self.connector_metrics_token = False

    def _inverse_connector_metrics_token(self):
        for settings in self:
            if settings.connector_metrics_token:
                SECRETS.register(settings.connector_metrics_token)
                digest = hashlib.sha256(settings.connector_metrics_token.encode()).hexdigest()
                self.env["ir.config_parameter"].sudo().set_param(METRICS_TOKEN_PARAM, digest)
        self.invalidate_recordset(["connector_metrics_token"])

    def _compute_connector_metrics_token_set(self):
        stored = self.env["ir.config_parameter"].sudo().get_param(METRICS_TOKEN_PARAM)
        for settings in self:
            settings.connector_metrics_token_set = bool(stored)

    @api.constrains(
        "connector_runner_count",
        "connector_runner_time_budget",
        "connector_lease_seconds",
    )
    def _check_connector_settings(self):
        for settings in self:
            if not 1 <= settings.connector_runner_count <= 32:
                raise ValidationError(_("Queue runners: between 1 and 32."))
            if settings.connector_runner_time_budget < 1:
                raise ValidationError(_("The runner time budget must be at least 1 second."))
            if settings.connector_lease_seconds < 3 * settings.connector_runner_time_budget:
                raise ValidationError(
                    _(
                        "The job lease must be at least three times the runner time budget, or "
                        "a slow but alive runner would lose its jobs to another one."
                    )
                )

    def set_values(self):
        super().set_values()
        self.env["connector.job"].sudo()._sync_runner_crons(self.connector_runner_count)

    @api.model
    def _connector_check_metrics_token(self, token):
        stored = self.env["ir.config_parameter"].sudo().get_param(METRICS_TOKEN_PARAM)
        if not stored or not token:
            return False
        valid = hmac.compare_digest(stored, hashlib.sha256(token.encode()).hexdigest())
        if valid:  # known to be the secret now: redacted from any log line of this process
            SECRETS.register(token)
        return valid

    def action_connector_rotate_encryption(self):
        return self.env["connector.backend"].action_rotate_encryption()
