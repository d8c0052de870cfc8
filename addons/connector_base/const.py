"""Names shared by the models, controllers and tests of connector_base (defined once)."""

# Context keys set on the environment a job handler runs in.
CTX_JOB_ID = "connector_job_id"
CTX_CORRELATION_ID = "connector_correlation_id"
CTX_BACKEND_ID = "connector_backend_id"
# Set while the ORM writes an audit entry or technical queue data: never audit those writes.
CTX_NO_AUDIT = "connector_no_audit"

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

# Attempt outcomes (what happened to one execution of a job).
OUTCOME_LEASE_EXPIRED = "lease_expired"

HEALTH_OK = "ok"
HEALTH_DEGRADED = "degraded"
HEALTH_DOWN = "down"

# ir.config_parameter keys of the settings (res.config.settings) and their defaults.
PARAM_PREFIX = "connector_base."
DEFAULTS = {
    "runner_count": 2,
    "runner_time_budget": 10,  # seconds per runner call; Odoo calls a busy runner up to 10 times
    "lease_seconds": 300,
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
