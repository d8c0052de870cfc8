"""The queue runner: what every queue-runner cron executes.

One run: reclaim expired leases, then, until the time budget is spent, claim a batch per runnable
backend (connector_job_claim.py: ``SKIP LOCKED``, committed with a lease that this process's
heartbeat renews), and run each job in its own savepoint, committing after each job. Every
commit goes through ``ir.cron._commit_progress`` (addon cron_commit_progress: commit unless under
tests, report progress to the cron so that Odoo calls the runner again while work remains).
"""

import logging
import os
import random
import socket
import threading
import time
import traceback
from datetime import timedelta

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .. import heartbeat
from ..const import (
    CTX_BACKEND_ID,
    CTX_CORRELATION_ID,
    CTX_JOB_ID,
    DEFAULTS,
    HEALTH_DOWN,
    JOB_DONE,
    JOB_PENDING,
    JOB_RUNNING,
    OUTCOME_DONE,
    PARAM_PREFIX,
)
from ..engine import job_outcome
from ..engine.errors import AUTH, BUSINESS, UNEXPECTED, ConnectorError, classify
from ..engine.redaction import SECRETS
from .connector_job_claim import ClaimConflict

_logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 4000
CLAIM_TRIES = 4  # a claim that conflicts with another runner's is retried in a new transaction
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
        Reports to the cron how many jobs remain ready; a claim that kept conflicting with other
        runners counts as remaining work, so Odoo calls this runner again instead of parking it.
        """
        budget = (
            time_budget if time_budget is not None else self._queue_setting("runner_time_budget")
        )
        deadline = time.monotonic() + budget
        worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        IrCron = self.env["ir.cron"]
        done = 0
        conflicted = False
        try:
            self._reclaim_expired_leases(now or fields.Datetime.now())
            IrCron._commit_progress()
            # A pass always runs at least one ready job, even when its budget is spent before
            # (a loaded server): otherwise a slow start would make no progress at all.
            while not done or time.monotonic() < deadline:
                backends = self.env["connector.backend"]._runnable_backends()
                IrCron._commit_progress()
                claimed_any = False
                for backend in backends:
                    if done and time.monotonic() >= deadline:
                        break
                    count, conflict = self._run_batch(
                        backend, worker, deadline, now, run_first=not done
                    )
                    conflicted = conflicted or conflict
                    claimed_any = claimed_any or count > 0
                    done += count
                if not claimed_any:
                    break
            remaining = self._count_ready(now or fields.Datetime.now())
            if conflicted:
                remaining = max(remaining, 1)
            if remaining:
                # Odoo calls a busy runner again at most 10 times in a row, then leaves it due
                # but sleeps until the next notification: send one.
                self._wake_runners()
            else:
                self._schedule_next_wakeup(now or fields.Datetime.now())
        except Exception:
            # A runner-level failure (not a job's: those are caught per job). Log and stop this
            # run cleanly; leases bring back whatever was claimed. Report work as remaining so
            # that Odoo comes back instead of parking the runner until its next interval.
            _logger.exception("connector queue runner %s stopped after an error", worker)
            if IrCron._can_commit():
                self.env.cr.rollback()
            remaining = 1
        IrCron._commit_progress(done=done, remaining=remaining)
        return done

    # ------------------------------------------------------------------------------------------
    # Running a batch
    # ------------------------------------------------------------------------------------------

    @api.model
    def _claim_with_retries(self, backend, worker, now):
        """Claim a batch; on a serialization conflict with another runner, roll back (nothing
        else is in the transaction: the previous step committed) and claim again with a fresh
        snapshot. Returns (claim, rows), or None when it kept conflicting."""
        IrCron = self.env["ir.cron"]
        for attempt in range(CLAIM_TRIES):
            try:
                return self._claim_batch(
                    backend, worker, backend.batch_size, now or fields.Datetime.now()
                )
            except ClaimConflict:
                if not IrCron._can_commit():
                    break
                self.env.cr.rollback()
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        _logger.info("connector queue: claim on backend %s kept conflicting", backend.id)
        return None

    @api.model
    def _run_batch(self, backend, worker, deadline, now=None, run_first=False):
        """Claim one batch of ``backend`` and run it: (jobs run, whether the claim conflicted).
        Jobs not started by the deadline go back to the queue; with ``run_first``, the first
        job runs whatever the time."""
        claimed = self._claim_with_retries(backend, worker, now)
        IrCron = self.env["ir.cron"]
        IrCron._commit_progress()
        if claimed is None:
            return 0, True
        claim, rows = claimed
        if not rows:
            return 0, False
        dbname = self.env.cr.dbname
        heartbeat.HEARTBEAT.ensure_started()
        heartbeat.HEARTBEAT.hold(dbname, claim)
        ran = 0
        try:
            handler_backend = self._handler_backend(backend)
            # Read once per batch: after each job's commit the ORM cache is empty, and a field
            # read per job would cost a query per job.
            adapter_class = handler_backend._adapter_class()
            for index, row in enumerate(rows):
                if time.monotonic() >= deadline and (index or not run_first):
                    self._release_unstarted(claim, [r["id"] for r in rows[index:]])
                    IrCron._commit_progress()
                    break
                error_class = self._run_claimed_job(
                    handler_backend, claim, row, now, adapter_class=adapter_class
                )
                ran += 1
                IrCron._commit_progress()
                if error_class == AUTH:
                    # Auth/config failure: the rest of the batch would fail the same way.
                    self._release_unstarted(claim, [r["id"] for r in rows[index + 1 :]])
                    IrCron._commit_progress()
                    break
        finally:
            if not heartbeat.HEARTBEAT.release(dbname, claim):
                self._drop_leases([claim])
        return ran, False

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
    def _run_claimed_job(self, handler_backend, claim, row, now=None, adapter_class=None):
        """Run one claimed job in its own savepoint and record the outcome.

        Returns the error class of a failure, None otherwise. Nothing here reads ORM fields
        per job: after each commit the cache is empty and a read would cost a query.
        """
        job_id = row["id"]
        if not self._lock_claimed_job(job_id, claim):
            _logger.warning("connector job %s: lease lost before it started, skipped", job_id)
            return None
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
                adapter = (adapter_class or backend._adapter_class())(backend)
                handler = backend._job_handler(row["operation"], adapter)
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

    # ------------------------------------------------------------------------------------------
    # Recording outcomes
    # ------------------------------------------------------------------------------------------

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
                   SET state = %(done)s, done_at = %(now)s, lease_until = NULL,
                       duration_ms = %(duration)s, latency_s = %(latency)s,
                       result_model = %(result_model)s, result_id = %(result_id)s,
                       error_class = NULL, last_error = NULL
                   WHERE id = %(job)s AND claimed_by = %(claim)s AND state = %(running)s
                   RETURNING id, company_id, attempts)
               INSERT INTO connector_job_attempt (job_id, company_id, number, started_at,
                   ended_at, duration_ms, outcome, worker)
               SELECT id, company_id, attempts, %(started)s, %(now)s, %(duration)s,
                      %(outcome)s, %(claim)s
               FROM finished""",
            {
                "done": JOB_DONE,
                "running": JOB_RUNNING,
                "outcome": OUTCOME_DONE,
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
        """Record a failure with the outcome engine/job_outcome.py decides: retry later
        (transient), wait for a person (business, unexpected), or wait for the backend to be
        fixed without burning the attempt (auth)."""
        now = now or fields.Datetime.now()
        error_class = outcome["error_class"]
        message = self._error_message(exc)
        decision = job_outcome.after_failure(
            error_class,
            row["attempts"],
            row["max_attempts"],
            retry_after=outcome.get("retry_after"),
            base=backend.retry_base_seconds,
            cap=backend.retry_cap_seconds,
        )
        if decision.note:
            message = f"{message}\n{decision.note}"
        next_eta = (
            now + timedelta(seconds=decision.retry_in) if decision.retry_in is not None else None
        )
        duration = (time.monotonic() - clock) * 1000
        self.env.cr.execute(
            """UPDATE connector_job
               SET state = %s, attempts = %s, eta = COALESCE(%s, eta), lease_until = NULL,
                   claimed_by = NULL, error_class = %s, last_error = %s, duration_ms = %s,
                   done_at = %s
               WHERE id = %s AND claimed_by = %s AND state = %s""",
            (
                decision.state,
                decision.attempts,
                next_eta,
                error_class,
                message,
                duration,
                now if decision.finished else None,
                job_id,
                claim,
                JOB_RUNNING,
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
                    "duration_ms": duration,
                    "outcome": error_class,
                    "error_message": message,
                    "traceback": SECRETS.redact(outcome.get("traceback") or "")[-MAX_ERROR_LENGTH:]
                    if error_class == UNEXPECTED
                    else None,
                    "http_status": getattr(exc, "http_status", None),
                    "retry_after": outcome.get("retry_after"),
                    "next_eta": next_eta if decision.state == JOB_PENDING else None,
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
            decision.state,
            message.splitlines()[0] if message else "",
        )
        root_backend = backend.sudo().with_context(**{CTX_JOB_ID: False, CTX_CORRELATION_ID: False})
        if error_class == AUTH:
            self._tolerant(root_backend._set_health, HEALTH_DOWN, message)
            backend.invalidate_recordset(["health"])
        self._tolerant(root_backend._after_job_failure, row, decision.state, message)

    @api.model
    def _tolerant(self, function, *args):
        """Side effects of a failure (backend health, stream error, the adapter's hook) in a
        savepoint: a conflict with a concurrent runner or a bug there must not lose the job's
        own outcome, which is already recorded."""
        try:
            with self.env.cr.savepoint():
                function(*args)
        except TransactionRollbackError:
            _logger.info("connector queue: %s skipped (concurrent update)", function.__name__)
        except Exception:
            _logger.exception("connector queue: %s failed", function.__name__)

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
