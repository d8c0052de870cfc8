# ruff: noqa: I001 - Odoo registers models in import order: mixins before the models using them.
from . import (
    base,
    connector_audited_mixin,
    connector_audit_log,
    connector_secret,
    connector_backend,
    connector_backend_monitoring,
    connector_stream,
    connector_binding,
    connector_binding_mixin,
    connector_job,
    connector_job_runner,
    connector_job_attempt,
    res_config_settings,
)
