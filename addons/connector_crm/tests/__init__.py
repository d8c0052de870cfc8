from . import test_amendments, test_ownership, test_salesforce, test_writeback
from . import test_tour
