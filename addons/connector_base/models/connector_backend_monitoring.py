"""Monitoring of connector.backend: the dashboard figures, health from failure rates, alerts."""

import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..const import (
    HEALTH_DEGRADED,
    HEALTH_DOWN,
    HEALTH_OK,
    JOB_DEAD,
    JOB_NEEDS_ATTENTION,
    JOB_PENDING,
    JOB_RUNNING,
)
from ..engine import prometheus

_logger = logging.getLogger(__name__)

DEGRADED_FAILURE_RATE = 0.2  # share of failed attempts over 15 min that marks a backend degraded
DEGRADED_MIN_ATTEMPTS = 10


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
                 AND state IN ('pending', 'running', 'needs_attention', 'dead')
               GROUP BY backend_id, state""",
            (now, backend_ids),
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
               WHERE backend_id = ANY(%(ids)s) AND state = 'done' AND done_at >= %(h24)s
               GROUP BY backend_id""",
            {"h1": now - timedelta(hours=1), "h24": now - timedelta(hours=24), "ids": backend_ids},
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
                      count(*) FILTER (WHERE a.ended_at >= %(h1)s AND a.outcome != 'done'),
                      count(*),
                      count(*) FILTER (WHERE a.outcome != 'done')
               FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
               WHERE j.backend_id = ANY(%(ids)s) AND a.ended_at >= %(h24)s
               GROUP BY j.backend_id""",
            {"h1": now - timedelta(hours=1), "h24": now - timedelta(hours=24), "ids": backend_ids},
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
    # Health from failure rates, and alerts
    # ------------------------------------------------------------------------------------------

    @api.model
    def _refresh_degraded_health(self, now):
        """Degraded when many recent attempts failed; OK again when they stop failing."""
        backends = self.sudo().search([("state", "=", "active"), ("health", "!=", HEALTH_DOWN)])
        if not backends:
            return
        self.env.cr.execute(
            """SELECT j.backend_id, count(*), count(*) FILTER (WHERE a.outcome != 'done')
               FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
               WHERE j.backend_id = ANY(%s) AND a.ended_at >= %s
               GROUP BY j.backend_id""",
            (backends.ids, now - timedelta(minutes=15)),
        )
        rates = {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}
        for backend in backends:
            total, failed = rates.get(backend.id, (0, 0))
            rate = failed / total if total else 0.0
            if total >= DEGRADED_MIN_ATTEMPTS and rate >= DEGRADED_FAILURE_RATE:
                backend._set_health(
                    HEALTH_DEGRADED,
                    _(
                        "%(failed)s of %(total)s attempts failed in the last 15 minutes.",
                        failed=failed,
                        total=total,
                    ),
                )
            elif backend.health == HEALTH_DEGRADED and rate < DEGRADED_FAILURE_RATE / 2:
                backend._set_health(HEALTH_OK, _("Failure rate back to normal."))

    @api.model
    def _cron_check_alerts(self):
        """Raise an activity for connector managers when a threshold is crossed."""
        now = fields.Datetime.now()
        Job = self.env["connector.job"]
        self._refresh_degraded_health(now)
        self._probe_down_backends()
        backends = self.sudo().search([("state", "=", "active")])
        stats = self._monitoring_stats(backends.ids, now)
        factor = Job._queue_setting("alert_stale_stream_factor")
        problems_by_backend = {}
        for backend in backends:
            data = stats.get(backend.id, {})
            problems = []
            dead = data.get(JOB_DEAD, 0)
            if dead >= Job._queue_setting("alert_dead_jobs"):
                problems.append(
                    (
                        _("Dead jobs"),
                        _("%s dead job(s) wait for a decision (retry or cancel).", dead),
                    )
                )
            backlog_limit = Job._queue_setting("alert_backlog_minutes")
            oldest = data.get("oldest_pending_minutes", 0)
            if oldest >= backlog_limit:
                problems.append(
                    (
                        _("Backlog"),
                        _(
                            "The oldest pending job has waited %(minutes)s minutes (limit %(limit)s).",
                            minutes=int(oldest),
                            limit=backlog_limit,
                        ),
                    )
                )
            rate_limit = Job._queue_setting("alert_failure_rate")
            if (
                data.get("attempts_1h", 0) >= Job._queue_setting("alert_failure_min_attempts")
                and data.get("failure_rate_1h", 0) >= rate_limit
            ):
                problems.append(
                    (
                        _("Failure rate"),
                        _(
                            "%(rate)s%% of attempts failed in the last hour (limit %(limit)s%%).",
                            rate=data["failure_rate_1h"],
                            limit=rate_limit,
                        ),
                    )
                )
            stale = backend.stream_ids.filtered("is_stale")
            for stream in stale:
                problems.append(
                    (
                        _("Stale stream %s", stream.name),
                        _(
                            "Stream %(stream)s has not synced successfully for more than %(factor)s "
                            "sync intervals (last success: %(when)s).",
                            stream=stream.name,
                            factor=factor,
                            when=stream.last_success_at or _("never"),
                        ),
                    )
                )
            if backend.health == HEALTH_DOWN:
                problems.append(
                    (_("Backend down"), _("The backend is down: %s", backend.health_reason or ""))
                )
            problems_by_backend[backend] = problems
        runner_problems = self._runner_problems(now)
        for backend, problems in problems_by_backend.items():
            problems.extend(runner_problems)
            for title, detail in problems:
                backend._raise_alert(title, detail)
        return problems_by_backend

    @api.model
    def _runner_problems(self, now):
        """A queue-runner cron that is inactive or has not run recently stops all syncing."""
        problems = []
        limit = timedelta(
            minutes=self.env["connector.job"]._queue_setting("alert_runner_stale_minutes")
        )
        crons = self.env["connector.job"]._runner_crons_all()
        if not crons.filtered("active"):
            problems.append(
                (
                    _("Queue runners stopped"),
                    _("No queue-runner cron is active: no job runs. Reactivate them in Settings."),
                )
            )
        for cron in crons:
            if not cron.active:
                problems.append(
                    (
                        _("Queue runner %s inactive", cron.name),
                        _(
                            "Queue runner '%(cron)s' is inactive (Odoo deactivates a cron that fails "
                            "repeatedly; check the server log, then reactivate it).",
                            cron=cron.name,
                        ),
                    )
                )
            elif not cron.lastcall or now - cron.lastcall > limit:
                problems.append(
                    (
                        _("Queue runner %s late", cron.name),
                        _(
                            "Queue runner '%(cron)s' has not run since %(when)s: check that the server "
                            "runs cron workers (max_cron_threads > 0).",
                            cron=cron.name,
                            when=cron.lastcall or _("it was created"),
                        ),
                    )
                )
        return problems

    @api.model
    def _probe_down_backends(self):
        """Backends down for an auth/config reason are probed again with Test connection."""
        for backend in self.sudo().search([("state", "=", "active"), ("health", "=", HEALTH_DOWN)]):
            try:
                with self.env.cr.savepoint():
                    message = backend._connector_test_connection()
            except Exception as exc:
                _logger.info("connector backend %s still down: %s", backend.id, exc)
                continue
            backend._set_health(HEALTH_OK, _("Reachable again: %s", message))

    def _raise_alert(self, title, detail):
        """One open activity per manager and kind of problem: not repeated while it is open
        (its note is refreshed with the latest figures)."""
        self.ensure_one()
        summary = _("Connector alert: %s", title)
        activity_type = self.env.ref("connector_base.mail_activity_type_connector_alert")
        managers = self.env.ref("connector_base.group_connector_manager").users.filtered(
            lambda u: not u.share and u.active and self.company_id in u.company_ids
        ) - self.env.ref("base.user_root")
        existing = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("activity_type_id", "=", activity_type.id),
                    ("summary", "=", summary[:250]),
                ]
            )
        )
        existing.write({"note": detail})
        already = set(existing.mapped("user_id").ids)
        for user in managers:
            if user.id in already:
                continue
            self.sudo().activity_schedule(
                activity_type_id=activity_type.id,
                summary=summary[:250],
                note=detail,
                user_id=user.id,
            )

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
                [(labels(b), 1 if b.state == "active" else 0) for b in backends],
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
