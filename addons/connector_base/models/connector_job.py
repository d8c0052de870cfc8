import json
import logging
import time
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index

from ..const import (
    BLOCKING_STATES,
    CANCELLABLE_STATES,
    CTX_CORRELATION_ID,
    CTX_JOB_ID,
    JOB_DEAD,
    JOB_NEEDS_ATTENTION,
    JOB_PENDING,
    JOB_STATES,
    PURGE_BATCH_SIZE,
    RETRYABLE_STATES,
)
from ..engine.errors import BusinessError
from ..engine.redaction import redact_mapping

_logger = logging.getLogger(__name__)

ENQUEUE_CHUNK = 1000
ERROR_CLASSES = [
    ("transient", "Transient"),
    ("business", "Business"),
    ("auth", "Authentication / configuration"),
    ("unexpected", "Unexpected (bug)"),
]


class ConnectorJob(models.Model):
    """One unit of integration work in the durable queue (inbound, outbound or internal).

    Jobs are inserted with an idempotency key unique per backend (insert-or-ignore), claimed by
    the queue-runner crons with SKIP LOCKED and a lease, run each in its own savepoint and
    committed one by one (see connector_job_runner.py). A job about a remote record (record_key)
    never runs before or beside an earlier unfinished job about the same record.
    """

    _name = "connector.job"
    _description = "Connector Job"
    _order = "id desc"
    _connector_technical = True  # never audited as a business write of a job

    name = fields.Char(compute="_compute_name")
    backend_id = fields.Many2one(
        "connector.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    operation = fields.Char(required=True, index=True, readonly=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound"), ("internal", "Internal")],
        required=True,
        default="internal",
        readonly=True,
    )
    source = fields.Selection(
        [
            ("webhook", "Webhook"),
            ("pull", "Scheduled pull"),
            ("user", "User"),
            ("system", "System"),
            ("replay", "Replay"),
        ],
        default="system",
        readonly=True,
    )
    state = fields.Selection(
        JOB_STATES, required=True, default=JOB_PENDING, index=True, readonly=True
    )
    idempotency_key = fields.Char(required=True, readonly=True)
    record_key = fields.Char(
        readonly=True,
        help="The remote record this job is about: jobs with the same key run one at a time, "
        "in the order they were queued.",
    )
    payload = fields.Text(readonly=True, help="JSON. Never holds credentials.")
    priority = fields.Integer(default=10, readonly=True, help="Lower runs first.")
    eta = fields.Datetime(
        string="Not before", required=True, readonly=True, default=fields.Datetime.now
    )
    attempts = fields.Integer(string="Attempts made", readonly=True, default=0)
    max_attempts = fields.Integer(readonly=True, default=8)
    lease_until = fields.Datetime(readonly=True)
    claimed_by = fields.Char(
        readonly=True, help="Runner (host:pid:thread/claim) holding the lease."
    )
    started_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(string="Finished at", readonly=True)
    duration_ms = fields.Float(string="Last run (ms)", readonly=True, aggregator="avg")
    latency_s = fields.Float(
        string="Latency (s)",
        readonly=True,
        aggregator="avg",
        help="From queued to done, in seconds.",
    )
    error_class = fields.Selection(ERROR_CLASSES, readonly=True)
    last_error = fields.Text(readonly=True)
    correlation_id = fields.Char(readonly=True, index=True)
    parent_id = fields.Many2one(
        "connector.job", string="Queued by job", readonly=True, ondelete="set null", index=True
    )
    result_model = fields.Char(readonly=True)
    result_id = fields.Integer(string="Result record ID", readonly=True, aggregator=None)
    result_ref = fields.Char(compute="_compute_result_ref", string="Result")
    attempt_ids = fields.One2many("connector.job.attempt", "job_id", string="Attempt history")
    blocked_by_id = fields.Many2one(
        "connector.job",
        compute="_compute_blocked_by_id",
        string="Waiting for job",
        help="An earlier unfinished job about the same record: this one runs after it.",
    )
    payload_display = fields.Text(compute="_compute_payload_display", string="Payload (JSON)")

    _sql_constraints = [
        (
            "idempotency_uniq",
            "unique(backend_id, idempotency_key)",
            "A job with this idempotency key is already queued for this backend.",
        ),
    ]

    def init(self):
        # What the runners' claim query scans: due pending jobs, by priority then age.
        create_index(
            self.env.cr,
            "connector_job_claimable_idx",
            self._table,
            ["backend_id", "priority", "id"],
            where="state = 'pending'",
        )
        # Per-record order: "is there an earlier unfinished job about the same record?"
        create_index(
            self.env.cr,
            "connector_job_record_order_idx",
            self._table,
            ["backend_id", "record_key", "id"],
            where="state IN ('pending', 'running', 'needs_attention', 'dead') "
            "AND record_key IS NOT NULL",
        )
        create_index(
            self.env.cr,
            "connector_job_lease_idx",
            self._table,
            ["lease_until"],
            where="state = 'running'",
        )
        create_index(
            self.env.cr,
            "connector_job_done_at_idx",
            self._table,
            ["done_at"],
            where="done_at IS NOT NULL",
        )

    # ------------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------------

    @api.depends("operation", "record_key")
    def _compute_name(self):
        for job in self:
            job.name = f"{job.operation} {job.record_key}" if job.record_key else job.operation

    @api.depends("result_model", "result_id")
    def _compute_result_ref(self):
        for job in self:
            if job.result_model in self.env and job.result_id:
                record = self.env[job.result_model].browse(job.result_id).exists()
                job.result_ref = record.display_name if record else _("(deleted)")
            else:
                job.result_ref = False

    @api.depends("payload")
    def _compute_payload_display(self):
        for job in self:
            try:
                job.payload_display = json.dumps(json.loads(job.payload or "{}"), indent=2)
            except ValueError:
                job.payload_display = job.payload

    def _compute_blocked_by_id(self):
        waiting = self.filtered(lambda j: j.record_key and j.state == JOB_PENDING)
        (self - waiting).blocked_by_id = False
        for job in waiting:
            self.env.cr.execute(
                """SELECT id FROM connector_job
                   WHERE backend_id = %s AND record_key = %s AND id < %s AND state IN %s
                   ORDER BY id LIMIT 1""",
                (job.backend_id.id, job.record_key, job.id, BLOCKING_STATES),
            )
            row = self.env.cr.fetchone()
            job.blocked_by_id = row[0] if row else False

    def _payload(self):
        """The payload as Python data (a BusinessError when an edit made it invalid JSON)."""
        self.ensure_one()
        try:
            return json.loads(self.payload or "{}")
        except ValueError as exc:
            raise BusinessError(
                _(
                    "The payload of job %(job)s is not valid JSON (%(error)s): edit it and retry.",
                    job=self.id,
                    error=exc,
                )
            ) from None

    # ------------------------------------------------------------------------------------------
    # Enqueue: durable first, deduplicated by the database
    # ------------------------------------------------------------------------------------------

    @api.model
    def _enqueue_many(self, backend, specs, trigger=True):
        """Insert jobs in the current transaction; existing idempotency keys are ignored.

        Each spec: ``operation`` (required), ``payload`` (JSON-serialisable; values under
        credential-like keys are redacted), ``idempotency_key`` (default: a new UUID, i.e. no
        dedup), ``record_key``, ``direction``, ``source``, ``priority``, ``eta``,
        ``correlation_id``, ``max_attempts``, ``parent_id``, ``state`` (only ``needs_attention``
        for items that need a person from the start, with ``last_error``).

        Returns the jobs, in the order of the specs (existing ones for duplicate keys). The
        unique index makes two transactions racing on one key create one job: the second waits
        for the first, then (Odoo runs REPEATABLE READ) fails with a serialization error that
        Odoo's request layer and the queue runner retry; the retry finds the existing job.
        """
        backend.ensure_one()
        if not specs:
            return self.browse()
        now = fields.Datetime.now()
        uid = self.env.uid
        default_correlation = self.env.context.get(CTX_CORRELATION_ID)
        parent = self.env.context.get(CTX_JOB_ID)
        keys = []
        rows = []
        for spec in specs:
            key = spec.get("idempotency_key") or f"uuid:{uuid.uuid4()}"
            keys.append(key)
            state = spec.get("state") or JOB_PENDING
            if state not in (JOB_PENDING, JOB_NEEDS_ATTENTION):
                raise ValueError(f"a job cannot be queued in state {state}")
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s, %s, %s, "
                    "%s, %s, %s, %s)",
                    backend.id,
                    backend.company_id.id,
                    spec["operation"],
                    spec.get("direction") or "internal",
                    spec.get("source") or "system",
                    state,
                    key,
                    spec.get("record_key"),
                    json.dumps(redact_mapping(spec.get("payload") or {}), default=str),
                    spec.get("priority", 10),
                    spec.get("eta") or now,
                    spec.get("max_attempts") or backend.max_attempts,
                    spec.get("correlation_id") or default_correlation or uuid.uuid4().hex,
                    spec.get("parent_id") or parent,
                    spec.get("last_error"),
                    "business" if state == JOB_NEEDS_ATTENTION else None,
                    uid,
                    now,
                    uid,
                    now,
                )
            )
        created = 0
        for start in range(0, len(rows), ENQUEUE_CHUNK):
            self.env.cr.execute(
                SQL(
                    """INSERT INTO connector_job (backend_id, company_id, operation, direction,
                           source, state, idempotency_key, record_key, payload, priority, eta,
                           attempts, max_attempts, correlation_id, parent_id, last_error,
                           error_class, create_uid, create_date, write_uid, write_date)
                       VALUES %s
                       ON CONFLICT (backend_id, idempotency_key) DO NOTHING""",
                    SQL(", ").join(rows[start : start + ENQUEUE_CHUNK]),
                )
            )
            created += self.env.cr.rowcount
        self.env.cr.execute(
            "SELECT idempotency_key, id FROM connector_job "
            "WHERE backend_id = %s AND idempotency_key = ANY(%s)",
            (backend.id, keys),
        )
        ids_by_key = dict(self.env.cr.fetchall())
        if created and trigger:
            self._trigger_runners()
        return self.browse([ids_by_key[key] for key in keys])

    @api.model
    def _trigger_runners(self):
        """Wake every queue-runner cron (several runners drain the queue in parallel)."""
        for cron in self._runner_crons():
            cron._trigger()

    @api.model
    def _runner_crons(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .search([*self._runner_cron_domain(), ("active", "=", True)], order="id")
        )

    @api.model
    def _sync_runner_crons(self, count):
        """Keep exactly ``count`` active queue-runner crons (copies of the first one)."""
        crons = self._runner_crons_all()
        if not crons:
            return
        template = crons[0]
        while len(crons) < count:
            crons |= template.copy(
                {"name": _("Connector: queue runner #%s", len(crons) + 1), "active": True}
            )
        to_activate = crons[:count].filtered(lambda cron: not cron.active)
        to_deactivate = crons[count:].filtered("active")
        if to_activate:
            to_activate.write({"active": True})
        if to_deactivate:
            to_deactivate.write({"active": False})

    @api.model
    def _runner_crons_all(self):
        return (
            self.env["ir.cron"]
            .sudo()
            .with_context(active_test=False)
            .search(self._runner_cron_domain(), order="id")
        )

    @api.model
    def _runner_cron_domain(self):
        return [
            ("ir_actions_server_id.model_id.model", "=", "connector.job"),
            ("ir_actions_server_id.code", "=", "model._cron_process_queue()"),
        ]

    # ------------------------------------------------------------------------------------------
    # User actions: retry, cancel, edit payload (all audited)
    # ------------------------------------------------------------------------------------------

    def action_retry(self):
        """Run again now, with a fresh set of attempts (dead, needs attention or cancelled)."""
        jobs = self.filtered(lambda j: j.state in RETRYABLE_STATES)
        if not jobs:
            raise UserError(
                _("Only jobs that are dead, need attention or were cancelled can be retried.")
            )
        now = fields.Datetime.now()
        self.env.cr.execute(
            """UPDATE connector_job
               SET state = 'pending', eta = %s, attempts = 0, lease_until = NULL,
                   claimed_by = NULL, write_uid = %s, write_date = %s
               WHERE id = ANY(%s) AND state IN %s""",
            (now, self.env.uid, now, jobs.ids, RETRYABLE_STATES),
        )
        jobs.invalidate_recordset()
        self.env["connector.audit.log"]._log_many(
            [
                {
                    "action": "replay",
                    "record": job,
                    "backend": job.backend_id,
                    "message": _("Retried by hand"),
                }
                for job in jobs
            ]
        )
        self._trigger_runners()
        return self._notify(_("%s job(s) queued again.", len(jobs)))

    def action_cancel(self):
        jobs = self.filtered(lambda j: j.state in CANCELLABLE_STATES)
        if not jobs:
            raise UserError(
                _(
                    "Only pending, dead or needs-attention jobs can be cancelled (running jobs end by "
                    "themselves)."
                )
            )
        now = fields.Datetime.now()
        self.env.cr.execute(
            """UPDATE connector_job SET state = 'cancelled', done_at = %s, write_uid = %s,
                   write_date = %s
               WHERE id = ANY(%s) AND state IN %s""",
            (now, self.env.uid, now, jobs.ids, CANCELLABLE_STATES),
        )
        jobs.invalidate_recordset()
        self.env["connector.audit.log"]._log_many(
            [{"action": "cancel", "record": job, "backend": job.backend_id} for job in jobs]
        )
        return self._notify(_("%s job(s) cancelled.", len(jobs)))

    def action_edit_payload(self):
        self.ensure_one()
        if not self.env.user.has_group("connector_base.group_connector_manager"):
            raise UserError(_("Only a Connector Manager can edit the payload of a job."))
        if self.state not in (JOB_DEAD, JOB_NEEDS_ATTENTION):
            raise UserError(_("Only the payload of a dead or needs-attention job can be edited."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Edit payload and replay"),
            "res_model": "connector.job.payload.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_job_id": self.id},
        }

    def _replace_payload(self, new_payload, reason):
        """Store an edited payload (valid JSON, redacted) and audit old -> new."""
        self.ensure_one()
        data = json.loads(new_payload)
        text = json.dumps(redact_mapping(data), default=str)
        old = self.payload
        self.env.cr.execute(
            "UPDATE connector_job SET payload = %s, write_uid = %s, write_date = %s WHERE id = %s",
            (text, self.env.uid, fields.Datetime.now(), self.id),
        )
        self.invalidate_recordset()
        self.env["connector.audit.log"]._log(
            "payload_edit",
            record=self,
            backend=self.backend_id,
            changes={"payload": [old, text]},
            message=reason,
        )

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "sticky": False,
                # Reload the list or form so the new state shows (and close a dialog).
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _action_open(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "connector_base.action_connector_job"
        )
        if len(self) == 1:
            action.update({"res_id": self.id, "view_mode": "form", "views": [(False, "form")]})
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action

    def action_open_result(self):
        self.ensure_one()
        if not (self.result_model and self.result_id):
            raise UserError(_("This job did not produce a record."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.result_model,
            "res_id": self.result_id,
            "view_mode": "form",
        }

    @api.model
    def _count_by_state(self, backend_ids=None):
        domain = [("backend_id", "in", backend_ids)] if backend_ids else []
        return dict(self._read_group(domain, ["state"], ["__count"]))

    # ------------------------------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_purge(self, now=None, time_budget=60):
        """Delete old finished jobs (their payloads hold personal data) and old audit entries,
        in batches, committing between batches; reports what remains so the cron comes back."""
        now = now or fields.Datetime.now()
        deadline = time.monotonic() + time_budget
        finished_limit = now - timedelta(days=self._queue_setting("job_retention_days"))
        failed_limit = now - timedelta(days=self._queue_setting("failed_job_retention_days"))
        audit_days = self._queue_setting("audit_retention_days")
        steps = [
            (
                "finished jobs",
                """DELETE FROM connector_job WHERE id IN (
                       SELECT id FROM connector_job
                       WHERE state IN ('done', 'cancelled') AND done_at < %s LIMIT %s)""",
                finished_limit,
            ),
            (
                "failed jobs",
                """DELETE FROM connector_job WHERE id IN (
                       SELECT id FROM connector_job
                       WHERE state IN ('dead', 'needs_attention')
                         AND COALESCE(done_at, write_date, create_date) < %s LIMIT %s)""",
                failed_limit,
            ),
        ]
        deleted = 0
        unfinished = False
        for label, query, limit_date in steps:
            while True:
                if time.monotonic() >= deadline:
                    unfinished = True
                    break
                self.env.cr.execute(query, (limit_date, PURGE_BATCH_SIZE))
                count = self.env.cr.rowcount
                deleted += count
                self.env["ir.cron"]._commit_progress()
                if count:
                    _logger.info("connector purge: %s %s deleted", count, label)
                if count < PURGE_BATCH_SIZE:
                    break
        Audit = self.env["connector.audit.log"]
        while not unfinished:
            if time.monotonic() >= deadline:
                unfinished = True
                break
            count = Audit._purge_expired(audit_days, now)
            deleted += count
            self.env["ir.cron"]._commit_progress()
            if count < PURGE_BATCH_SIZE:
                break
        self.env["ir.cron"]._commit_progress(done=deleted, remaining=1 if unfinished else 0)
        return deleted
