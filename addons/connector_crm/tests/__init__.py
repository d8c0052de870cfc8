from . import test_amendments, test_salesforce
