"""Names shared by the models, controllers, adapters and tests of connector_base (defined once).

Plain Python: the pure ``engine`` package imports it too.
"""

# Context keys set on the environment a job handler runs in.
CTX_JOB_ID = "connector_job_id"
CTX_CORRELATION_ID = "connector_correlation_id"
CTX_BACKEND_ID = "connector_backend_id"
# Set while the ORM writes an audit entry or technical queue data: never audit those writes.
CTX_NO_AUDIT = "connector_no_audit"

# Security groups.
GROUP_USER = "connector_base.group_connector_user"
GROUP_MANAGER = "connector_base.group_connector_manager"

# Job states. "Blocking" states keep later jobs of the same record key waiting (per-record order).
JOB_PENDING = "pending"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_NEEDS_ATTENTION = "needs_attention"
JOB_DEAD = "dead"
JOB_CANCELLED = "cancelled"
JOB_STATES = [
    (JOB_PENDING, "Pending"),
    (JOB_RUNNING, "Running"),
    (JOB_DONE, "Done"),
    (JOB_NEEDS_ATTENTION, "Needs attention"),
    (JOB_DEAD, "Dead"),
    (JOB_CANCELLED, "Cancelled"),
]
BLOCKING_STATES = (JOB_PENDING, JOB_RUNNING, JOB_NEEDS_ATTENTION, JOB_DEAD)
RETRYABLE_STATES = (JOB_NEEDS_ATTENTION, JOB_DEAD, JOB_CANCELLED)
CANCELLABLE_STATES = (JOB_PENDING, JOB_NEEDS_ATTENTION, JOB_DEAD)
EDITABLE_STATES = (JOB_DEAD, JOB_NEEDS_ATTENTION)  # a Connector Manager may fix their payload
FINISHED_STATES = (JOB_DONE, JOB_CANCELLED)
FAILED_STATES = (JOB_DEAD, JOB_NEEDS_ATTENTION)

DIRECTION_INBOUND = "inbound"
DIRECTION_OUTBOUND = "outbound"
DIRECTION_INTERNAL = "internal"
DIRECTIONS = [
    (DIRECTION_INBOUND, "Inbound"),
    (DIRECTION_OUTBOUND, "Outbound"),
    (DIRECTION_INTERNAL, "Internal"),
]
SOURCE_WEBHOOK = "webhook"
SOURCE_PULL = "pull"
SOURCE_USER = "user"
SOURCE_SYSTEM = "system"
SOURCE_REPLAY = "replay"
SOURCES = [
    (SOURCE_WEBHOOK, "Webhook"),
    (SOURCE_PULL, "Scheduled pull"),
    (SOURCE_USER, "User"),
    (SOURCE_SYSTEM, "System"),
    (SOURCE_REPLAY, "Replay"),
]

# Operations every backend handles itself (see connector.backend._generic_job_handlers).
OP_STREAM_PULL = "stream.pull"
OP_NOOP = "noop"
OP_WEBHOOK_UNPARSEABLE = "webhook.unparseable"
OP_GENERIC_EVENT = "generic.event"

# Attempt outcomes (what happened to one execution of a job); failures use the error classes.
OUTCOME_DONE = "done"
OUTCOME_LEASE_EXPIRED = "lease_expired"

BACKEND_TYPE_GENERIC = "generic"
BACKEND_PAUSED = "paused"
BACKEND_ACTIVE = "active"
HEALTH_OK = "ok"
HEALTH_DEGRADED = "degraded"
HEALTH_DOWN = "down"

# Keys the database indexes (idempotency and record keys) longer than this, or holding characters
# PostgreSQL cannot store, are replaced by a digest form (see engine/keys.py).
MAX_KEY_LENGTH = 200
# Webhook bodies: size limits, and JSON nesting beyond which a body is stored for review instead
# of parsed (remote systems send a few levels; thousands exhaust Python's stack).
WEBHOOK_DEFAULT_MAX_BYTES = 1024 * 1024
WEBHOOK_HARD_MAX_BYTES = 32 * 1024 * 1024
MAX_JSON_DEPTH = 64
WEBHOOK_EVENT_ID_HEADER = "X-Connector-Event-Id"

# ir.config_parameter keys of the settings (res.config.settings) and their defaults.
PARAM_PREFIX = "connector_base."
DEFAULTS = {
    "runner_count": 2,
    "runner_time_budget": 10,  # seconds per runner call; Odoo calls a busy runner up to 10 times
    # A dead runner's jobs come back after this; live runners renew it (heartbeat), so it only
    # has to cover a stalled process, not the slowest job.
    "lease_seconds": 30,
    "job_retention_days": 30,
    "failed_job_retention_days": 90,
    "audit_retention_days": 730,
    "alert_dead_jobs": 1,
    "alert_backlog_minutes": 30,
    "alert_failure_rate": 20,  # percent of attempts over the last hour
    "alert_failure_min_attempts": 20,
    "alert_stale_stream_factor": 3,  # times the backend's sync interval
    "alert_runner_stale_minutes": 15,
}
PURGE_BATCH_SIZE = 5000
