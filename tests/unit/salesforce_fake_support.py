"""Fixtures and helpers of the fake Salesforce's unit tests."""

import time

import pytest
import requests

from tests.fakes.salesforce import FakeSalesforce

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def keys():
    """Two key pairs: the first is trusted by the org, the second is a stranger's."""
    return FakeSalesforce.generate_key_pair(), FakeSalesforce.generate_key_pair()


@pytest.fixture
def sf():
    with FakeSalesforce() as fake:
        yield fake


class FixedClock:
    """A clock the test moves by hand, so that SystemModstamp values are predictable."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now


def api(sf, method, path, token=None, headers=None, **kwargs):
    headers = {"Authorization": f"Bearer {token or sf.issue_access_token()}", **(headers or {})}
    url = f"{sf.url}/services/data/v62.0{path}"
    return requests.request(method, url, headers=headers, timeout=5, **kwargs)


def query(sf, soql, path="/query", **kwargs):
    return api(sf, "GET", path, params={"q": soql}, **kwargs)


def token_request(sf, **data):
    return requests.post(f"{sf.url}/services/oauth2/token", data=data, timeout=5)


def jwt_claims(sf, **overrides):
    claims = {
        "iss": sf.client_id,
        "sub": sf.username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    return {**claims, **overrides}


def jwt_token(sf, private_pem, **overrides):
    assertion = FakeSalesforce.sign_jwt(private_pem, jwt_claims(sf, **overrides))
    return token_request(sf, grant_type=JWT_GRANT, assertion=assertion)


def oauth_error(response):
    assert response.status_code == 400, response.text
    body = response.json()
    return body["error"], body["error_description"]
