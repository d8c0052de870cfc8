from . import (
    test_amendments,
    test_auth,
    test_faults,
    test_hubspot,
    test_mappings_and_access,
    test_ownership,
    test_remote_failures,
    test_salesforce,
    test_tour,
    test_writeback,
)
