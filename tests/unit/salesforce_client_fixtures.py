"""Fixtures of the Salesforce client tests (test_crm_salesforce_auth.py,
test_crm_salesforce_client.py): the fake org, settings per flow, clients built as
``SalesforceAdapter.client()`` builds them, each with its own token cache."""

import pytest

from odoo.addons.connector_crm.engine import salesforce as sf
from odoo.addons.connector_crm.engine.oauth import TokenCache

from tests.fakes.salesforce import FakeSalesforce
from tests.unit.crm_client_fixtures import TIMEOUT


@pytest.fixture(scope="module")
def key_pair():
    private_pem, public_pem = FakeSalesforce.generate_key_pair()
    return private_pem.decode(), public_pem


@pytest.fixture
def fake_sf(key_pair):
    with FakeSalesforce() as fake:
        fake.trust_public_key(key_pair[1])
        yield fake
        assert not fake.server.errors, fake.server.errors


@pytest.fixture
def sf_settings(fake_sf, key_pair):
    def build(flow=sf.FLOW_JWT, **overrides):
        values = {"flow": flow, "login_url": fake_sf.url, "client_id": fake_sf.client_id}
        if flow == sf.FLOW_JWT:
            values.update(username=fake_sf.username, private_key=key_pair[0])
        elif flow == sf.FLOW_CLIENT_CREDENTIALS:
            values.update(client_secret=fake_sf.client_secret)
        values.update(overrides)
        return sf.SalesforceSettings(**values)

    return build


@pytest.fixture
def sf_client(http_clients):
    """As ``SalesforceAdapter.client()`` builds it: token HTTP on the login host, data HTTP
    with the auth, absolute URLs."""

    def build(settings, *, cache=None, on_limits=None, on_token=None, timeout=TIMEOUT):
        auth = sf.SalesforceAuth(
            settings,
            http_clients(settings.login_url, timeout=timeout),
            ("db", 1, settings.flow, settings.client_id, settings.login_url),
            cache=TokenCache() if cache is None else cache,
            on_token=on_token,
        )
        http = http_clients(settings.login_url, timeout=timeout, auth=auth)
        return sf.SalesforceClient(http, auth, settings.api_version, on_limits=on_limits)

    return build


@pytest.fixture
def client(sf_client, sf_settings):
    """A JWT client that already holds its token: failure switches hit the data call."""
    client = sf_client(sf_settings())
    client.auth.token()
    return client
