from . import (
    test_amendments,
    test_auth,
    test_hubspot,
    test_ownership,
    test_salesforce,
    test_writeback,
)
from . import test_tour
