"""Claims and leases of connector.job: how runners take jobs and how a dead runner's jobs return.

A runner claims a batch in one statement (``FOR UPDATE SKIP LOCKED``) and commits it with a
lease (a connector.job.lease row): other runners skip those jobs while it is valid. The runner's
process renews the lease from its heartbeat thread while it lives (heartbeat.py), and holds a row
lock on the job it is running, so a job is never taken from a live runner however long it runs.
When a process dies, its connection closes (the row lock goes), renewals stop, and once the lease
expires the unfinished jobs are reclaimed: by the next runner call or the next heartbeat of any
process, which then wakes the runners (see connector_job_wakeup.py).

Odoo runs transactions in REPEATABLE READ: a statement that locks or updates a row another
transaction changed after this one's snapshot fails with a serialization error. Claims and
reclaims therefore run in savepoints and turn such a conflict into "someone else took it" (a
claim is retried by the runner with a fresh transaction, or reported as remaining work).
"""

import logging
import uuid
from datetime import timedelta

from psycopg2.extensions import TransactionRollbackError

from odoo import api, models
from odoo.tools import SQL

from ..const import (
    BACKEND_ACTIVE,
    BLOCKING_STATES,
    HEALTH_DOWN,
    JOB_PENDING,
    JOB_RUNNING,
    OUTCOME_LEASE_EXPIRED,
)
from ..engine import job_outcome
from ..engine.errors import TRANSIENT

_logger = logging.getLogger(__name__)


class ClaimConflict(Exception):
    """A concurrent runner changed a claimable row after this transaction's snapshot."""


class ConnectorJobClaim(models.Model):
    _inherit = "connector.job"

    @api.model
    def _claim_batch(self, backend, worker, limit, now):
        """Claim up to ``limit`` due jobs of ``backend`` for ``worker``: (claim, rows).

        ``SKIP LOCKED`` lets several runners claim concurrently without waiting on each other;
        a job whose record key has an earlier unfinished job is not claimable (per-record
        order). The attempt is counted at claim time, so a runner killed mid-job still burns
        the attempt when its lease expires. Raises ClaimConflict on a serialization conflict.
        """
        lease_until = now + timedelta(seconds=self._queue_setting("lease_seconds"))
        claim = f"{worker}:{uuid.uuid4().hex[:8]}"
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    WITH claimable AS (
                        SELECT j.id FROM connector_job j
                        WHERE j.backend_id = %(backend)s
                          AND j.state = %(pending)s
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
                       SET state = %(running)s, attempts = j.attempts + 1,
                           lease_until = %(lease)s, claimed_by = %(claim)s, started_at = %(now)s
                      FROM claimable
                     WHERE j.id = claimable.id
                    RETURNING j.id, j.operation, j.attempts, j.max_attempts, j.correlation_id,
                              j.create_date, j.record_key, j.company_id
                    """,
                    {
                        "backend": backend.id,
                        "now": now,
                        "pending": JOB_PENDING,
                        "running": JOB_RUNNING,
                        "blocking": BLOCKING_STATES,
                        "limit": limit,
                        "lease": lease_until,
                        "claim": claim,
                    },
                )
                rows = self.env.cr.dictfetchall()
                if rows:
                    self.env.cr.execute(
                        """INSERT INTO connector_job_lease (name, lease_until, renewed_at)
                           VALUES (%s, %s, %s)""",
                        (claim, lease_until, now),
                    )
        except TransactionRollbackError as exc:
            raise ClaimConflict(str(exc)) from None
        rows.sort(key=lambda row: row["id"])
        self.browse([row["id"] for row in rows]).invalidate_recordset()
        return claim, rows

    @api.model
    def _lock_claimed_job(self, job_id, claim):
        """Lock the job about to run, if this claim still holds it (True), for as long as it runs.

        The lock is the proof that a live runner is on it: reclaiming skips locked rows, so a
        job longer than its lease is not run twice; and it fences a runner that lost its lease
        (another runner reclaimed the job) before the handler runs. It is the first statement
        after a commit: a serialization conflict (the job was reclaimed since our snapshot)
        rolls back an empty transaction. No savepoint: this runs once per job.
        """
        try:
            self.env.cr.execute(
                """SELECT 1 FROM connector_job
                   WHERE id = %s AND claimed_by = %s AND state = %s
                   FOR NO KEY UPDATE""",
                (job_id, claim, JOB_RUNNING),
                log_exceptions=False,
            )
        except TransactionRollbackError:
            if not self.env["ir.cron"]._can_commit():
                raise
            self.env.cr.rollback()
            return False
        return self.env.cr.rowcount == 1

    @api.model
    def _reclaim_expired_leases(self, now):
        """Jobs of a runner that died (lease expired, not locked by a live runner): back to
        pending, or dead when out of attempts (engine/job_outcome.py). The attempt counts."""
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """SELECT j.id, j.attempts, j.max_attempts, j.started_at, j.company_id,
                              j.claimed_by
                         FROM connector_job j
                         LEFT JOIN connector_job_lease l ON l.name = j.claimed_by
                        WHERE j.state = %s AND COALESCE(l.lease_until, j.lease_until) < %s
                        ORDER BY j.id
                          FOR UPDATE OF j SKIP LOCKED""",
                    (JOB_RUNNING, now),
                )
                expired = cr.fetchall()
                if expired:
                    self._requeue_expired(expired, now)
        except TransactionRollbackError:
            return 0  # another runner or heartbeat is reclaiming the same jobs
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """DELETE FROM connector_job_lease l
                        WHERE l.lease_until < %s AND NOT EXISTS (
                              SELECT 1 FROM connector_job j
                               WHERE j.claimed_by = l.name AND j.state = %s)""",
                    (now, JOB_RUNNING),
                )
        except TransactionRollbackError:
            pass  # renewed or deleted concurrently: the next pass cleans up
        if expired:
            _logger.warning(
                "connector queue: %s job(s) reclaimed after their runner's lease expired",
                len(expired),
            )
        return len(expired)

    @api.model
    def _requeue_expired(self, expired, now):
        values = []
        attempts = []
        for job_id, tries, max_attempts, started_at, company_id, claimed_by in expired:
            outcome = job_outcome.after_lease_expired(tries, max_attempts)
            message = (
                f"The runner {claimed_by or '?'} stopped before finishing this job (lease "
                f"expired); it was {outcome.note}"
            )
            values.append(SQL("(%s, %s, %s, %s)", job_id, outcome.state, message, outcome.finished))
            attempts.append(
                {
                    "job_id": job_id,
                    "company_id": company_id,
                    "number": tries,
                    "started_at": started_at or now,
                    "ended_at": now,
                    "duration_ms": None,
                    "outcome": OUTCOME_LEASE_EXPIRED,
                    "error_message": "lease expired: the runner stopped (killed, crashed or "
                    "timed out) before finishing",
                    "worker": claimed_by,
                }
            )
        self.env.cr.execute(
            SQL(
                """UPDATE connector_job j
                      SET state = v.state, eta = %(now)s, lease_until = NULL,
                          claimed_by = NULL, error_class = %(transient)s, last_error = v.message,
                          done_at = CASE WHEN v.finished THEN %(now)s END
                     FROM (VALUES %(values)s) AS v(id, state, message, finished)
                    WHERE j.id = v.id""",
                now=now,
                transient=TRANSIENT,
                values=SQL(", ").join(values),
            )
        )
        self._insert_attempts(attempts)

    @api.model
    def _release_unstarted(self, claim, job_ids):
        """Give back claimed jobs this run will not start (time budget spent, backend down):
        the attempt counted at claim time is returned."""
        if not job_ids:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """UPDATE connector_job
                       SET state = %s, attempts = attempts - 1, lease_until = NULL,
                           claimed_by = NULL
                       WHERE id = ANY(%s) AND claimed_by = %s AND state = %s""",
                    (JOB_PENDING, job_ids, claim, JOB_RUNNING),
                )
        except TransactionRollbackError:
            pass  # reclaimed meanwhile (our lease was lost): they are pending already

    @api.model
    def _renew_leases(self, claims, now):
        """Extend the leases of live claims (called by this process's heartbeat)."""
        lease_until = now + timedelta(seconds=self._queue_setting("lease_seconds"))
        self.env.cr.execute(
            """UPDATE connector_job_lease SET lease_until = %s, renewed_at = %s
               WHERE name = ANY(%s)""",
            (lease_until, now, list(claims)),
        )

    @api.model
    def _drop_leases(self, claims):
        """Forget the leases of finished claims (their jobs are done or back in the queue)."""
        self.env.cr.execute("DELETE FROM connector_job_lease WHERE name = ANY(%s)", (list(claims),))

    # ------------------------------------------------------------------------------------------
    # What is ready
    # ------------------------------------------------------------------------------------------

    @api.model
    def _ready_query(self, now, select, ready_before=None):
        backends = (
            self.env["connector.backend"]
            .sudo()
            .search([("state", "=", BACKEND_ACTIVE), ("health", "!=", HEALTH_DOWN)])
        )
        if not backends:
            return None
        return SQL(
            """SELECT %(select)s FROM connector_job j
                WHERE j.state = %(pending)s AND j.eta <= %(now)s AND j.backend_id = ANY(%(ids)s)
                  AND (%(before)s::timestamp IS NULL
                       OR GREATEST(j.eta, j.create_date) <= %(before)s)
                  AND (j.record_key IS NULL OR NOT EXISTS (
                         SELECT 1 FROM connector_job e
                         WHERE e.backend_id = j.backend_id AND e.record_key = j.record_key
                           AND e.id < j.id AND e.state IN %(blocking)s))""",
            select=select,
            pending=JOB_PENDING,
            now=now,
            ids=backends.ids,
            before=ready_before,
            blocking=BLOCKING_STATES,
        )

    @api.model
    def _count_ready(self, now):
        """Jobs a runner could claim right now (what the cron reports as remaining)."""
        query = self._ready_query(now, SQL("count(*)"))
        if query is None:
            return 0
        self.env.cr.execute(query)
        return self.env.cr.fetchone()[0]

    @api.model
    def _ready_unattended(self, now, ready_before):
        """Is some job claimable that has been ready since ``ready_before`` or earlier (so no
        runner is taking it: they sleep, or all are busy)?"""
        query = self._ready_query(now, SQL("1"), ready_before=ready_before)
        if query is None:
            return False
        self.env.cr.execute(SQL("%s LIMIT 1", query))
        return bool(self.env.cr.fetchone())
