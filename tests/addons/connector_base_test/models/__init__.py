from . import connector_backend, connector_test_record
