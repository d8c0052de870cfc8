"""Monitoring of connector.backend: the dashboard figures and the Prometheus metrics."""

import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..const import (
    BACKEND_ACTIVE,
    BLOCKING_STATES,
    HEALTH_DEGRADED,
    HEALTH_DOWN,
    HEALTH_OK,
    JOB_DEAD,
    JOB_DONE,
    JOB_NEEDS_ATTENTION,
    JOB_PENDING,
    JOB_RUNNING,
    OUTCOME_DONE,
)
from ..engine import prometheus

_logger = logging.getLogger(__name__)


class ConnectorBackendMonitoring(models.Model):
    _inherit = "connector.backend"

    job_pending_count = fields.Integer(compute="_compute_monitoring", string="Pending")
    job_running_count = fields.Integer(compute="_compute_monitoring", string="Running")
    job_attention_count = fields.Integer(compute="_compute_monitoring", string="Needs attention")
    job_dead_count = fields.Integer(compute="_compute_monitoring", string="Dead")
    job_failed_count = fields.Integer(compute="_compute_monitoring", string="Failed")
    oldest_pending_minutes = fields.Float(
        compute="_compute_monitoring", string="Oldest pending (min)", digits=(16, 1)
    )
    done_1h = fields.Integer(compute="_compute_monitoring", string="Done (1 h)")
    done_24h = fields.Integer(compute="_compute_monitoring", string="Done (24 h)")
    failure_rate_1h = fields.Float(
        compute="_compute_monitoring", string="Failure rate (1 h, %)", digits=(16, 1)
    )
    failure_rate_24h = fields.Float(
        compute="_compute_monitoring", string="Failure rate (24 h, %)", digits=(16, 1)
    )
    latency_p50 = fields.Float(
        compute="_compute_monitoring", string="Latency p50 (s)", digits=(16, 1)
    )
    latency_p95 = fields.Float(
        compute="_compute_monitoring", string="Latency p95 (s)", digits=(16, 1)
    )
    last_sync_summary = fields.Text(compute="_compute_monitoring", string="Last successful sync")

    @api.depends_context("uid")
    def _compute_monitoring(self):
        stats = self._monitoring_stats(self.ids, fields.Datetime.now())
        for backend in self:
            data = stats.get(backend.id, {})
            backend.job_pending_count = data.get(JOB_PENDING, 0)
            backend.job_running_count = data.get(JOB_RUNNING, 0)
            backend.job_attention_count = data.get(JOB_NEEDS_ATTENTION, 0)
            backend.job_dead_count = data.get(JOB_DEAD, 0)
            backend.job_failed_count = data.get(JOB_NEEDS_ATTENTION, 0) + data.get(JOB_DEAD, 0)
            backend.oldest_pending_minutes = data.get("oldest_pending_minutes", 0.0)
            backend.done_1h = data.get("done_1h", 0)
            backend.done_24h = data.get("done_24h", 0)
            backend.failure_rate_1h = data.get("failure_rate_1h", 0.0)
            backend.failure_rate_24h = data.get("failure_rate_24h", 0.0)
            backend.latency_p50 = data.get("latency_p50", 0.0)
            backend.latency_p95 = data.get("latency_p95", 0.0)
            lines = [
                _(
                    "%(stream)s: %(when)s",
                    stream=stream.name,
                    when=fields.Datetime.to_string(stream.last_success_at)
                    if stream.last_success_at
                    else _("never"),
                )
                for stream in backend.stream_ids
            ]
            backend.last_sync_summary = "\n".join(lines) or _("No stream")

    @api.model
    def _monitoring_stats(self, backend_ids, now):
        """Figures per backend id, in four aggregate queries whatever the number of backends."""
        stats = {backend_id: {} for backend_id in backend_ids}
        if not backend_ids:
            return stats
        cr = self.env.cr
        cr.execute(
            """SELECT backend_id, state, count(*),
                      EXTRACT(EPOCH FROM (%s - min(create_date))) / 60
               FROM connector_job
               WHERE backend_id = ANY(%s)
                 AND state IN %s
               GROUP BY backend_id, state""",
            (now, backend_ids, BLOCKING_STATES),
        )
        for backend_id, state, count, oldest in cr.fetchall():
            stats[backend_id][state] = count
            if state == JOB_PENDING:
                stats[backend_id]["oldest_pending_minutes"] = round(float(oldest or 0), 1)
        cr.execute(
            """SELECT backend_id,
                      count(*) FILTER (WHERE done_at >= %(h1)s),
                      count(*),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_s),
                      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_s)
               FROM connector_job
               WHERE backend_id = ANY(%(ids)s) AND state = %(done)s AND done_at >= %(h24)s
               GROUP BY backend_id""",
            {
                "h1": now - timedelta(hours=1),
                "h24": now - timedelta(hours=24),
                "ids": backend_ids,
                "done": JOB_DONE,
            },
        )
        for backend_id, done_1h, done_24h, p50, p95 in cr.fetchall():
            stats[backend_id].update(
                done_1h=done_1h,
                done_24h=done_24h,
                latency_p50=round(float(p50 or 0), 3),
                latency_p95=round(float(p95 or 0), 3),
            )
        cr.execute(
            """SELECT j.backend_id,
                      count(*) FILTER (WHERE a.ended_at >= %(h1)s),
                      count(*) FILTER (WHERE a.ended_at >= %(h1)s AND a.outcome != %(done)s),
                      count(*),
                      count(*) FILTER (WHERE a.outcome != %(done)s)
               FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
               WHERE j.backend_id = ANY(%(ids)s) AND a.ended_at >= %(h24)s
               GROUP BY j.backend_id""",
            {
                "h1": now - timedelta(hours=1),
                "h24": now - timedelta(hours=24),
                "ids": backend_ids,
                "done": OUTCOME_DONE,
            },
        )
        for backend_id, total_1h, failed_1h, total_24h, failed_24h in cr.fetchall():
            stats[backend_id].update(
                attempts_1h=total_1h,
                failure_rate_1h=round(100.0 * failed_1h / total_1h, 1) if total_1h else 0.0,
                failure_rate_24h=round(100.0 * failed_24h / total_24h, 1) if total_24h else 0.0,
            )
        return stats

    # ------------------------------------------------------------------------------------------
    # Dashboard actions
    # ------------------------------------------------------------------------------------------

    def _open_jobs(self, filter_name, title):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_base.action_connector_job"
        )
        action["name"] = title
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {filter_name: 1, "default_backend_id": self.id}
        return action

    def action_open_failed_jobs(self):
        return self._open_jobs("search_default_failed", _("Failed jobs of %s", self.name))

    def action_open_pending_jobs(self):
        return self._open_jobs("search_default_pending", _("Pending jobs of %s", self.name))

    def action_open_streams(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Streams of %s", self.name),
            "res_model": "connector.stream",
            "view_mode": "list,form",
            "domain": [("backend_id", "=", self.id)],
            "context": {"default_backend_id": self.id},
        }

    # ------------------------------------------------------------------------------------------
    # Prometheus
    # ------------------------------------------------------------------------------------------

    @api.model
    def _metrics_text(self, now_ts):
        """Prometheus text exposition of every backend's figures (superuser)."""
        now = fields.Datetime.now()
        backends = self.sudo().with_context(active_test=False).search([])
        stats = self._monitoring_stats(backends.ids, now)
        states = [JOB_PENDING, JOB_RUNNING, JOB_NEEDS_ATTENTION, JOB_DEAD]
        health_value = {HEALTH_OK: 0, HEALTH_DEGRADED: 1, HEALTH_DOWN: 2}

        def labels(backend, **extra):
            return {
                "backend": backend.name,
                "backend_id": str(backend.id),
                "type": backend.backend_type,
                **extra,
            }

        metrics = [
            (
                "connector_jobs",
                "gauge",
                "Jobs not finished, by state.",
                [
                    (labels(b, state=state), stats[b.id].get(state, 0))
                    for b in backends
                    for state in states
                ],
            ),
            (
                "connector_oldest_pending_job_age_seconds",
                "gauge",
                "Age of the oldest pending job.",
                [(labels(b), stats[b.id].get("oldest_pending_minutes", 0) * 60) for b in backends],
            ),
            (
                "connector_jobs_done_last_hour",
                "gauge",
                "Jobs finished in the last hour.",
                [(labels(b), stats[b.id].get("done_1h", 0)) for b in backends],
            ),
            (
                "connector_attempt_failure_ratio_last_hour",
                "gauge",
                "Share of failed attempts in the last hour.",
                [(labels(b), stats[b.id].get("failure_rate_1h", 0) / 100) for b in backends],
            ),
            (
                "connector_job_latency_seconds",
                "gauge",
                "Queued-to-done latency of jobs finished in the last 24 h, by quantile.",
                [
                    (labels(b, quantile=q), stats[b.id].get(key, 0))
                    for b in backends
                    for q, key in (("0.5", "latency_p50"), ("0.95", "latency_p95"))
                ],
            ),
            (
                "connector_backend_health",
                "gauge",
                "0 ok, 1 degraded, 2 down.",
                [(labels(b), health_value[b.health]) for b in backends],
            ),
            (
                "connector_backend_active",
                "gauge",
                "1 when the backend is active (not paused).",
                [(labels(b), 1 if b.state == BACKEND_ACTIVE else 0) for b in backends],
            ),
            (
                "connector_stream_last_success_timestamp_seconds",
                "gauge",
                "Unix time of the last successful pull of each stream.",
                [
                    (
                        labels(b, stream=s.code),
                        s.last_success_at.timestamp() if s.last_success_at else 0,
                    )
                    for b in backends
                    for s in b.stream_ids
                ],
            ),
            (
                "connector_runner_last_run_timestamp_seconds",
                "gauge",
                "Unix time of the last run of each queue-runner cron (0: never).",
                [
                    (
                        {"cron": c.name, "active": str(c.active).lower()},
                        c.lastcall.timestamp() if c.lastcall else 0,
                    )
                    for c in self.env["connector.job"]._runner_crons_all()
                ],
            ),
        ]
        return prometheus.render(metrics)
