"""Health from failure rates, and alerts of connector.backend: raised as activities for the
Connector Managers when a threshold is crossed, closed by the same cron once it has cleared."""

import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..const import (
    BACKEND_ACTIVE,
    HEALTH_DEGRADED,
    HEALTH_DOWN,
    HEALTH_OK,
    JOB_DEAD,
    OUTCOME_DONE,
)

_logger = logging.getLogger(__name__)

DEGRADED_FAILURE_RATE = 0.2  # share of failed attempts over 15 min that marks a backend degraded
DEGRADED_MIN_ATTEMPTS = 10
ALERT_ACTIVITY_TYPE = "connector_base.mail_activity_type_connector_alert"


class ConnectorBackendAlerts(models.Model):
    _inherit = "connector.backend"

    @api.model
    def _refresh_degraded_health(self, now):
        """Degraded when many recent attempts failed; OK again when they stop failing."""
        backends = self.sudo().search(
            [("state", "=", BACKEND_ACTIVE), ("health", "!=", HEALTH_DOWN)]
        )
        if not backends:
            return
        self.env.cr.execute(
            """SELECT j.backend_id, count(*), count(*) FILTER (WHERE a.outcome != %s)
               FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
               WHERE j.backend_id = ANY(%s) AND a.ended_at >= %s
               GROUP BY j.backend_id""",
            (OUTCOME_DONE, backends.ids, now - timedelta(minutes=15)),
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
        """Raise an activity for connector managers when a threshold is crossed, and close the
        activities whose condition has cleared (the manager's counter shows today's problems).

        Returns the current problems per active backend: [(title, detail)].
        """
        now = fields.Datetime.now()
        Job = self.env["connector.job"]
        self._refresh_degraded_health(now)
        self._probe_down_backends()
        backends = self.sudo().search([("state", "=", BACKEND_ACTIVE)])
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
                            when=stream.last_success_at
                            or _("never since %s", stream._expected_since()),
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
            backend._close_cleared_alerts({title for title, _detail in problems})
        # Backends no longer monitored (paused, archived): nothing of theirs is a problem today.
        idle = self.sudo().with_context(active_test=False).search([("id", "not in", backends.ids)])
        for backend in idle.filtered("activity_ids"):
            backend._close_cleared_alerts(set(), _("The backend is paused or archived."))
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
        down = [("state", "=", BACKEND_ACTIVE), ("health", "=", HEALTH_DOWN)]
        for backend in self.sudo().search(down):
            try:
                with self.env.cr.savepoint():
                    message = backend._adapter().test_connection()
            except Exception as exc:
                _logger.info("connector backend %s still down: %s", backend.id, exc)
                continue
            backend._set_health(HEALTH_OK, _("Reachable again: %s", message))

    def _alert_summary(self, title):
        return _("Connector alert: %s", title)[:250]

    def _open_alerts(self):
        """The open alert activities of this backend (all managers)."""
        self.ensure_one()
        activity_type = self.env.ref(ALERT_ACTIVITY_TYPE)
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )

    def _close_cleared_alerts(self, current_titles, reason=None):
        """Mark done the alert activities whose problem is not among ``current_titles`` (dead
        jobs retried or cancelled, backlog drained, backend healthy again...): the activity
        leaves the managers' counters, and the chatter keeps when and why it closed."""
        self.ensure_one()
        current = {self._alert_summary(title) for title in current_titles}
        by_summary = {}
        for activity in self._open_alerts():
            if activity.summary not in current:
                by_summary.setdefault(activity.summary, activity.browse())
                by_summary[activity.summary] |= activity
        for summary, activities in sorted(by_summary.items()):
            activities.action_feedback(
                feedback=reason or _("Cleared: the monitoring no longer sees this problem.")
            )
            _logger.info("connector backend %s: alert closed: %s", self.id, summary)

    def _raise_alert(self, title, detail):
        """One open activity per manager and kind of problem: not repeated while it is open
        (its note is refreshed with the latest figures)."""
        self.ensure_one()
        summary = self._alert_summary(title)
        activity_type = self.env.ref(ALERT_ACTIVITY_TYPE)
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
                    ("summary", "=", summary),
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
                summary=summary,
                note=detail,
                user_id=user.id,
            )
