"""Fixtures and helpers of the fake HubSpot's unit tests."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.fakes.hubspot import FakeHubSpot

START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SECRET = "fake-hs-secret"
DEALS = "/crm/v3/objects/deals"


class Clock:
    """A clock the test moves by hand (token expiry, stamps, rate-limit window)."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def hubspot():
    with FakeHubSpot() as fake:
        yield fake


@pytest.fixture
def clock(hubspot):
    hubspot.clock = Clock()
    return hubspot.clock


def api(hubspot, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token or hubspot.private_app_token}"}
    return requests.request(method, f"{hubspot.url}{path}", headers=headers, timeout=5, **kwargs)


def post(hubspot, path, body):
    return api(hubspot, "POST", path, json=body)


def where(name, operator, value=None, **extra):
    """One search filter; ``extra`` carries highValue or values."""
    search_filter = {"propertyName": name, "operator": operator, **extra}
    if value is not None:
        search_filter["value"] = value
    return search_filter


def search(hubspot, object_type, *groups, **body):
    """POST a search; each positional argument is a filter group (a list of filters)."""
    if groups:
        body["filterGroups"] = [{"filters": list(group)} for group in groups]
    return post(hubspot, f"/crm/v3/objects/{object_type}/search", body)


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))
