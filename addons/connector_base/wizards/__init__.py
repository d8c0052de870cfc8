from . import (
    connector_audit_erasure_wizard,
    connector_job_payload_wizard,
    connector_stream_reset_wizard,
)
