"""Old import path of the fake HubSpot portal: the package ``tests.fakes.hubspot``."""

from tests.fakes.hubspot import *  # noqa: F403
from tests.fakes.hubspot import __all__  # noqa: F401
