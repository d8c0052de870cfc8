"""The queue runner: what every queue-runner cron executes.

One run: reclaim expired leases, then, until the time budget is spent, claim a batch per runnable
backend (``FOR UPDATE SKIP LOCKED``, committed with a lease so other runners skip it and a dead
runner's jobs come back), and run each job in its own savepoint, committing after each job.
Every commit goes through ``ir.cron._commit_progress`` (addon cron_commit_progress: commit unless
under tests, report progress to the cron so that Odoo calls the runner again while work remains).
"""

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..const import (
    BLOCKING_STATES,
    CTX_BACKEND_ID,
    CTX_CORRELATION_ID,
    CTX_JOB_ID,
    DEFAULTS,
    HEALTH_DOWN,
    JOB_DEAD,
    JOB_NEEDS_ATTENTION,
    JOB_PENDING,
    OUTCOME_LEASE_EXPIRED,
    PARAM_PREFIX,
)
from ..engine import backoff
from ..engine.errors import AUTH, BUSINESS, TRANSIENT, UNEXPECTED, ConnectorError, classify
from ..engine.redaction import SECRETS

_logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 4000
ATTEMPT_COLUMNS = (
    "job_id",
    "company_id",
    "number",
    "started_at",
    "ended_at",
    "duration_ms",
    "outcome",
    "error_message",
    "traceback",
    "http_status",
    "retry_after",
    "next_eta",
    "worker",
)


class LeaseLost(Exception):
    """Another runner reclaimed this job after our lease expired: our work must not count."""


class ConnectorJobRunner(models.Model):
    _inherit = "connector.job"

    # ------------------------------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------------------------------

    @api.model
    def _queue_setting(self, key):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        try:
            return int(value) if value not in (None, False, "") else DEFAULTS[key]
        except ValueError:
            return DEFAULTS[key]

    # ------------------------------------------------------------------------------------------
    # Cron entry point
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_process_queue(self, time_budget=None, now=None):
        """Run queued jobs until none is ready or the time budget (seconds) is spent.

        Never raises: Odoo deactivates a cron that fails repeatedly, and a runner must stay up
        whatever one job does. ``now`` (tests) fixes the clock used for leases and due dates.
        """
        budget = (
            time_budget if time_budget is not None else self._queue_setting("runner_time_budget")
        )
        deadline = time.monotonic() + budget
        worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        done = 0
        try:
            self._reclaim_expired_leases(now or fields.Datetime.now())
            self.env["ir.cron"]._commit_progress()
            while time.monotonic() < deadline:
                backends = self.env["connector.backend"]._runnable_backends()
                self.env["ir.cron"]._commit_progress()
                claimed_any = False
                for backend in backends:
                    if time.monotonic() >= deadline:
                        break
                    count = self._run_batch(backend, worker, deadline, now)
                    claimed_any = claimed_any or count > 0
                    done += count
                if not claimed_any:
                    break
            remaining = self._count_ready(now or fields.Datetime.now())
            if not remaining:
                self._schedule_next_wakeup(now or fields.Datetime.now())
        except Exception:
            # A runner-level failure (not a job's: those are caught per job). Log and stop this
            # run cleanly; leases bring back whatever was claimed.
            _logger.exception("connector queue runner %s stopped after an error", worker)
            if self.env["ir.cron"]._can_commit():
                self.env.cr.rollback()
            remaining = 0
        self.env["ir.cron"]._commit_progress(done=done, remaining=remaining)
        return done

    # ------------------------------------------------------------------------------------------
    # Claiming
    # ------------------------------------------------------------------------------------------

    @api.model
    def _claim_batch(self, backend, worker, limit, now):
        """Claim up to ``limit`` due jobs of ``backend`` for ``worker``; returns their rows.

        ``SKIP LOCKED`` lets several runners claim concurrently without waiting on each other;
        a job whose record key has an earlier unfinished job is not claimable (per-record
        order). The attempt is counted at claim time, so a runner killed mid-job still burns
        the attempt when its lease expires.
        """
        lease_until = now + timedelta(seconds=self._queue_setting("lease_seconds"))
        claim = f"{worker}:{uuid.uuid4().hex[:8]}"
        self.env.cr.execute(
            """
            WITH claimable AS (
                SELECT j.id FROM connector_job j
                WHERE j.backend_id = %(backend)s
                  AND j.state = 'pending'
                  AND j.eta <= %(now)s
                  AND (j.record_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM connector_job e
                        WHERE e.backend_id = j.backend_id AND e.record_key = j.record_key
                          AND e.id < j.id AND e.state IN %(blocking)s))
                ORDER BY j.priority, j.id
                LIMIT %(limit)s
                FOR UPDATE OF j SKIP LOCKED
            )
            UPDATE connector_job j
               SET state = 'running', attempts = j.attempts + 1, lease_until = %(lease)s,
                   claimed_by = %(claim)s, started_at = %(now)s
              FROM claimable
             WHERE j.id = claimable.id
            RETURNING j.id, j.operation, j.attempts, j.max_attempts, j.correlation_id,
                      j.create_date, j.record_key, j.company_id
            """,
            {
                "backend": backend.id,
                "now": now,
                "blocking": BLOCKING_STATES,
                "limit": limit,
                "lease": lease_until,
                "claim": claim,
            },
        )
        rows = self.env.cr.dictfetchall()
        rows.sort(key=lambda row: row["id"])
        self.browse([row["id"] for row in rows]).invalidate_recordset()
        return claim, rows

    @api.model
    def _reclaim_expired_leases(self, now):
        """Jobs of a runner that died (lease expired): back to pending, or dead when out of
        attempts. The attempt that was running counts."""
        self.env.cr.execute(
            """
            WITH expired AS (
                SELECT id FROM connector_job
                WHERE state = 'running' AND lease_until < %(now)s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE connector_job j
               SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'pending' END,
                   eta = %(now)s, lease_until = NULL, error_class = 'transient',
                   last_error = 'The runner ' || COALESCE(j.claimed_by, '?')
                       || ' stopped before finishing this job (lease expired); it was '
                       || CASE WHEN j.attempts >= j.max_attempts THEN 'out of attempts.'
                               ELSE 'queued again.' END,
                   done_at = CASE WHEN j.attempts >= j.max_attempts THEN %(now)s END,
                   claimed_by = NULL
              FROM expired
             WHERE j.id = expired.id
            RETURNING j.id, j.attempts, j.started_at, j.company_id
            """,
            {"now": now},
        )
        rows = self.env.cr.fetchall()
        if rows:
            _logger.warning("connector queue: %s job(s) reclaimed after lease expiry", len(rows))
            self._insert_attempts(
                [
                    {
                        "job_id": job_id,
                        "company_id": company_id,
                        "number": attempts,
                        "started_at": started_at or now,
                        "ended_at": now,
                        "duration_ms": None,
                        "outcome": OUTCOME_LEASE_EXPIRED,
                        "error_message": "lease expired: the runner stopped (killed, crashed "
                        "or timed out) before finishing",
                        "worker": None,
                    }
                    for job_id, attempts, started_at, company_id in rows
                ]
            )
        return len(rows)

    @api.model
    def _schedule_next_wakeup(self, now):
        """Wake the runners when the next lease expires or retry falls due, so that a dead
        runner's jobs and backed-off retries do not wait for the next regular cron interval."""
        self.env.cr.execute(
            """SELECT LEAST(
                   (SELECT min(lease_until) FROM connector_job WHERE state = 'running'),
                   (SELECT min(eta) FROM connector_job WHERE state = 'pending' AND eta > %s))""",
            (now,),
        )
        wake_at = self.env.cr.fetchone()[0]
        if not wake_at:
            return
        wake_at = max(wake_at, now) + timedelta(seconds=1)
        for cron in self._runner_crons():
            has_trigger = (
                self.env["ir.cron.trigger"]
                .sudo()
                .search_count(
                    [("cron_id", "=", cron.id), ("call_at", ">", now), ("call_at", "<=", wake_at)],
                    limit=1,
                )
            )
            if not has_trigger:
                cron._trigger(at=wake_at)

    @api.model
    def _count_ready(self, now):
        """Jobs a runner could claim right now (what the cron reports as remaining)."""
        backends = (
            self.env["connector.backend"]
            .sudo()
            .search([("state", "=", "active"), ("health", "!=", HEALTH_DOWN)])
        )
        if not backends:
            return 0
        self.env.cr.execute(
            """SELECT count(*) FROM connector_job j
               WHERE j.state = 'pending' AND j.eta <= %s AND j.backend_id = ANY(%s)
                 AND (j.record_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM connector_job e
                        WHERE e.backend_id = j.backend_id AND e.record_key = j.record_key
                          AND e.id < j.id AND e.state IN %s))""",
            (now, backends.ids, BLOCKING_STATES),
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------------------------------

    @api.model
    def _run_batch(self, backend, worker, deadline, now=None):
        """Claim one batch of ``backend`` and run it; returns the number of jobs run."""
        claim, rows = self._claim_batch(
            backend, worker, backend.batch_size, now or fields.Datetime.now()
        )
        self.env["ir.cron"]._commit_progress()
        if not rows:
            return 0
        handler_backend = self._handler_backend(backend)
        lease_seconds = self._queue_setting("lease_seconds")
        lease_renewed_at = time.monotonic()
        ran = 0
        for index, row in enumerate(rows):
            if time.monotonic() >= deadline:
                self._release_unstarted(claim, [r["id"] for r in rows[index:]])
                self.env["ir.cron"]._commit_progress()
                break
            if time.monotonic() - lease_renewed_at > lease_seconds / 2:
                self._renew_lease(claim, [r["id"] for r in rows[index:]], now)
                lease_renewed_at = time.monotonic()
            error_class = self._run_claimed_job(handler_backend, claim, row, now)
            ran += 1
            self.env["ir.cron"]._commit_progress()
            if error_class == AUTH:
                # Auth/config failure: the rest of the batch would fail the same way.
                self._release_unstarted(claim, [r["id"] for r in rows[index + 1 :]])
                self.env["ir.cron"]._commit_progress()
                break
        return ran

    @api.model
    def _handler_backend(self, backend):
        """The backend in the environment job handlers run in: the integration user, its
        companies (default first)."""
        backend = backend.sudo()
        companies = backend.company_id | backend.company_ids
        env = self.env(user=backend.user_id.id, su=False)
        return backend.with_env(env).with_context(
            allowed_company_ids=companies.ids, **{CTX_BACKEND_ID: backend.id}
        )

    @api.model
    def _run_claimed_job(self, handler_backend, claim, row, now=None):
        """Run one claimed job in its own savepoint and record the outcome.

        Returns the error class of a failure, None on success. Nothing here reads ORM fields
        per job: after each commit the cache is empty and a read would cost a query.
        """
        job_id = row["id"]
        started_at = now or fields.Datetime.now()
        clock = time.monotonic()
        backend = handler_backend.with_context(
            **{CTX_JOB_ID: job_id, CTX_CORRELATION_ID: row["correlation_id"]}
        )
        # Handlers get the job sudo (the integration user needs no access to the queue) and
        # the backend as the integration user, both with the job's context.
        job = self.sudo().with_context(backend.env.context).browse(job_id)
        try:
            with self.env.cr.savepoint():
                handler = backend._job_handler(row["operation"])
                result = handler(job)
                backend.env.flush_all()
                self._finish_done(job_id, claim, started_at, clock, result, row, now)
        except LeaseLost:
            _logger.warning("connector job %s: lease lost, result discarded", job_id)
            return None
        except Exception as exc:  # every failure is recorded on the job, none escapes
            outcome = self._classify(exc)
            outcome["traceback"] = traceback.format_exc()
            self._finish_failed(backend, job_id, claim, started_at, clock, row, exc, outcome, now)
            return outcome["error_class"]
        finally:
            # The queue is updated in SQL: drop what the ORM cached of this job.
            self.browse(job_id).invalidate_recordset()
        return None

    @api.model
    def _classify(self, exc):
        """Map an exception to the queue's error classes (Odoo's own errors are business)."""
        if isinstance(exc, (UserError, ValidationError, AccessError)) and not isinstance(
            exc, ConnectorError
        ):
            return {"error_class": BUSINESS, "retry_after": None}
        error_class, retry_after = classify(exc)
        return {"error_class": error_class, "retry_after": retry_after}

    @api.model
    def _finish_done(self, job_id, claim, started_at, clock, result, row, now=None):
        """Mark the job done and record its attempt, in one statement; fenced by the claim."""
        now = now or fields.Datetime.now()
        result_model = result_id = None
        if isinstance(result, models.BaseModel) and result:
            result_model, result_id = result._name, result[:1].id
        latency = (now - row["create_date"]).total_seconds() if row.get("create_date") else None
        duration = (time.monotonic() - clock) * 1000
        self.env.cr.execute(
            """WITH finished AS (
                   UPDATE connector_job
                   SET state = 'done', done_at = %(now)s, lease_until = NULL,
                       duration_ms = %(duration)s, latency_s = %(latency)s,
                       result_model = %(result_model)s, result_id = %(result_id)s,
                       error_class = NULL, last_error = NULL
                   WHERE id = %(job)s AND claimed_by = %(claim)s AND state = 'running'
                   RETURNING id, company_id, attempts)
               INSERT INTO connector_job_attempt (job_id, company_id, number, started_at,
                   ended_at, duration_ms, outcome, worker)
               SELECT id, company_id, attempts, %(started)s, %(now)s, %(duration)s, 'done', %(claim)s
               FROM finished""",
            {
                "now": now,
                "duration": duration,
                "latency": latency,
                "result_model": result_model,
                "result_id": result_id,
                "job": job_id,
                "claim": claim,
                "started": started_at,
            },
        )
        if self.env.cr.rowcount != 1:
            raise LeaseLost(job_id)

    @api.model
    def _finish_failed(
        self, backend, job_id, claim, started_at, clock, row, exc, outcome, now=None
    ):
        """Record a failure: retry later (transient), wait for a person (business, unexpected),
        or wait for the backend to be fixed without burning the attempt (auth)."""
        now = now or fields.Datetime.now()
        error_class = outcome["error_class"]
        message = self._error_message(exc)
        attempts, max_attempts = row["attempts"], row["max_attempts"]
        next_eta = None
        if error_class == TRANSIENT and attempts < max_attempts:
            delay = backoff.next_delay(
                attempts,
                base=backend.retry_base_seconds,
                cap=backend.retry_cap_seconds,
                retry_after=outcome.get("retry_after"),
            )
            next_eta = now + timedelta(seconds=delay)
            state, attempts_after = JOB_PENDING, attempts
        elif error_class == TRANSIENT:
            state, attempts_after = JOB_DEAD, attempts
            message = f"{message}\n(gave up after {attempts} attempts)"
        elif error_class == AUTH:
            # The backend is down; the job waits for it without using an attempt.
            next_eta = now
            state, attempts_after = JOB_PENDING, attempts - 1
        else:
            state, attempts_after = JOB_NEEDS_ATTENTION, attempts
        self.env.cr.execute(
            """UPDATE connector_job
               SET state = %s, attempts = %s, eta = COALESCE(%s, eta), lease_until = NULL,
                   claimed_by = NULL, error_class = %s, last_error = %s, duration_ms = %s,
                   done_at = %s
               WHERE id = %s AND claimed_by = %s AND state = 'running'""",
            (
                state,
                attempts_after,
                next_eta,
                error_class,
                message,
                (time.monotonic() - clock) * 1000,
                now if state == JOB_DEAD else None,
                job_id,
                claim,
            ),
        )
        if self.env.cr.rowcount != 1:
            _logger.warning("connector job %s: lease lost before its failure was recorded", job_id)
            return
        self._insert_attempts(
            [
                {
                    "job_id": job_id,
                    "company_id": row["company_id"],
                    "number": row["attempts"],
                    "started_at": started_at,
                    "ended_at": now,
                    "duration_ms": (time.monotonic() - clock) * 1000,
                    "outcome": error_class,
                    "error_message": message,
                    "traceback": SECRETS.redact(outcome.get("traceback") or "")[-MAX_ERROR_LENGTH:]
                    if error_class == UNEXPECTED
                    else None,
                    "http_status": getattr(exc, "http_status", None),
                    "retry_after": outcome.get("retry_after"),
                    "next_eta": next_eta if state == JOB_PENDING else None,
                    "worker": claim,
                }
            ]
        )
        log = _logger.warning if error_class in (UNEXPECTED, AUTH) else _logger.info
        log(
            "connector job %s (%s) failed [%s] -> %s: %s",
            job_id,
            row["operation"],
            error_class,
            state,
            message.splitlines()[0] if message else "",
        )
        root_backend = backend.sudo().with_context(**{CTX_JOB_ID: False, CTX_CORRELATION_ID: False})
        if error_class == AUTH:
            root_backend._set_health(HEALTH_DOWN, message)
            backend.invalidate_recordset(["health"])
        root_backend._connector_after_failure(row, state, message)

    @api.model
    def _error_message(self, exc):
        if isinstance(exc, ConnectorError):
            text = exc.message
        elif isinstance(exc, UserError):
            text = exc.args[0] if exc.args else str(exc)
        else:
            text = f"{type(exc).__name__}: {exc}"
        return SECRETS.redact(str(text))[:MAX_ERROR_LENGTH]

    @api.model
    def _release_unstarted(self, claim, job_ids):
        """Give back claimed jobs this run will not start (time budget spent, backend down):
        the attempt counted at claim time is returned."""
        if not job_ids:
            return
        self.env.cr.execute(
            """UPDATE connector_job
               SET state = 'pending', attempts = attempts - 1, lease_until = NULL,
                   claimed_by = NULL
               WHERE id = ANY(%s) AND claimed_by = %s AND state = 'running'""",
            (job_ids, claim),
        )

    @api.model
    def _renew_lease(self, claim, job_ids, now=None):
        lease_until = (now or fields.Datetime.now()) + timedelta(
            seconds=self._queue_setting("lease_seconds")
        )
        self.env.cr.execute(
            """UPDATE connector_job SET lease_until = %s
               WHERE id = ANY(%s) AND claimed_by = %s AND state = 'running'""",
            (lease_until, job_ids, claim),
        )
        self.env["ir.cron"]._commit_progress()

    @api.model
    def _insert_attempts(self, attempts):
        """Attempt bookkeeping in one INSERT (this runs once per job on the hot path)."""
        if not attempts:
            return
        columns = ATTEMPT_COLUMNS
        rows = [
            SQL("(%s)", SQL(", ").join(attempt.get(c) for c in columns)) for attempt in attempts
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO connector_job_attempt (%s) VALUES %s",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(rows),
            )
        )
