import json
import logging
import uuid

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, create_index

from ..const import (
    BLOCKING_STATES,
    CTX_CORRELATION_ID,
    CTX_JOB_ID,
    DIRECTION_INTERNAL,
    DIRECTIONS,
    JOB_NEEDS_ATTENTION,
    JOB_PENDING,
    JOB_RUNNING,
    JOB_STATES,
    MAX_KEY_LENGTH,
    SOURCE_SYSTEM,
    SOURCES,
)
from ..engine.errors import AUTH, BUSINESS, TRANSIENT, UNEXPECTED, BusinessError
from ..engine.keys import storable_key
from ..engine.redaction import redact_mapping

_logger = logging.getLogger(__name__)

ENQUEUE_CHUNK = 1000
ERROR_CLASSES = [
    (TRANSIENT, "Transient"),
    (BUSINESS, "Business"),
    (AUTH, "Authentication / configuration"),
    (UNEXPECTED, "Unexpected (bug)"),
]
# What a job is about and where it came from: fixed when it is queued. Changing them would run
# other work than what was queued, as the integration user (cancel the job and queue another).
IMMUTABLE_FIELDS = frozenset(
    {
        "backend_id",
        "company_id",
        "operation",
        "direction",
        "source",
        "idempotency_key",
        "record_key",
        "correlation_id",
        "parent_id",
    }
)


class ConnectorJob(models.Model):
    """One unit of integration work in the durable queue (inbound, outbound or internal).

    Jobs are inserted with an idempotency key unique per backend (insert-or-ignore), claimed by
    the queue-runner crons with SKIP LOCKED and a lease, run each in its own savepoint and
    committed one by one (see connector_job_runner.py). A job about a remote record (record_key)
    never runs before or beside an earlier unfinished job about the same record.

    Nobody changes a job through the ORM (no group has write access, and ``write`` refuses its
    identity fields even to the superuser): its state moves through the runner and the audited
    actions Retry, Cancel and Edit payload (connector_job_actions.py).
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
        DIRECTIONS, required=True, default=DIRECTION_INTERNAL, readonly=True
    )
    source = fields.Selection(SOURCES, default=SOURCE_SYSTEM, readonly=True)
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
    lease_until = fields.Datetime(
        string="Lease until",
        readonly=True,
        help="When the claim of the runner running this job expires unless it is renewed (the "
        "runner's heartbeat renews it while the runner is alive).",
    )
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
            where=f"state = '{JOB_PENDING}'",
        )
        # Per-record order: "is there an earlier unfinished job about the same record?"
        create_index(
            self.env.cr,
            "connector_job_record_order_idx",
            self._table,
            ["backend_id", "record_key", "id"],
            where=f"state IN {BLOCKING_STATES!r} AND record_key IS NOT NULL",
        )
        create_index(
            self.env.cr,
            "connector_job_lease_idx",
            self._table,
            ["lease_until"],
            where=f"state = '{JOB_RUNNING}'",
        )
        # The jobs of one claim (lease renewal by the heartbeat, release, fencing).
        create_index(
            self.env.cr,
            "connector_job_claim_idx",
            self._table,
            ["claimed_by"],
            where=f"state = '{JOB_RUNNING}'",
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
    # Least privilege: a job is not edited through the ORM
    # ------------------------------------------------------------------------------------------

    def write(self, vals):
        """Refuse what would let a user make the integration user run other work.

        The identity of a job (backend, operation, keys...) never changes. Its payload changes
        only through the audited edit of a Connector Manager (``_replace_payload``), here too
        when it arrives through the ORM, JSON-RPC or an import. Everything else is the queue's
        bookkeeping, which the runner writes in SQL: through the ORM, superuser only.
        """
        immutable = sorted(IMMUTABLE_FIELDS & set(vals))
        if immutable:
            raise AccessError(
                _(
                    "The %(fields)s of a job cannot be changed: cancel the job and queue the "
                    "work again.",
                    fields=", ".join(immutable),
                )
            )
        vals = dict(vals)
        if "payload" in vals:
            payload = vals.pop("payload")
            for job in self:
                job._replace_payload(payload or "{}", _("Payload written directly"))
        if vals and not self.env.su:
            raise AccessError(
                _(
                    "Jobs change only through Retry, Cancel and Edit payload (fields: %s).",
                    ", ".join(sorted(vals)),
                )
            )
        return super().write(vals) if vals else True

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
        for items that need a person from the start, with ``last_error``). Keys that are too
        long or hold characters PostgreSQL cannot store are replaced by a digest form
        (``engine/keys.py``), so any remote id is a valid key.

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
            key = storable_key(
                spec.get("idempotency_key") or f"uuid:{uuid.uuid4()}", MAX_KEY_LENGTH
            )
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
                    spec.get("direction") or DIRECTION_INTERNAL,
                    spec.get("source") or SOURCE_SYSTEM,
                    state,
                    key,
                    storable_key(spec.get("record_key"), MAX_KEY_LENGTH),
                    json.dumps(redact_mapping(spec.get("payload") or {}), default=str),
                    spec.get("priority", 10),
                    spec.get("eta") or now,
                    spec.get("max_attempts") or backend.max_attempts,
                    storable_key(
                        spec.get("correlation_id") or default_correlation or uuid.uuid4().hex,
                        MAX_KEY_LENGTH,
                    ),
                    spec.get("parent_id") or parent,
                    spec.get("last_error"),
                    BUSINESS if state == JOB_NEEDS_ATTENTION else None,
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
