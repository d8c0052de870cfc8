from . import (
    test_audit,
    test_bindings,
    test_http,
    test_monitoring,
    test_queue,
    test_queue_errors,
    test_security,
    test_staging,
    test_tour,
    test_vault,
    test_webhook,
)
