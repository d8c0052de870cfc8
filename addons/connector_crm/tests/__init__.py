from . import test_salesforce
