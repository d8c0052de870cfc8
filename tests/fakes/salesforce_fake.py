"""Old import path of the fake Salesforce org: the package ``tests.fakes.salesforce``."""

from tests.fakes.salesforce import *  # noqa: F403
from tests.fakes.salesforce import __all__  # noqa: F401
