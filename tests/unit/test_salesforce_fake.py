"""The Salesforce fake stands in for a real org: OAuth, sessions and limits."""

import base64
import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.salesforce import FakeSalesforce
from tests.unit import salesforce_fake_support as support
from tests.unit.salesforce_fake_support import (
    JWT_GRANT,
    api,
    jwt_token,
    oauth_error,
    token_request,
)

keys = support.keys  # a fixture
sf = support.sf  # a fixture


# OAuth -------------------------------------------------------------------------------------------


def test_jwt_bearer_flow_gives_a_working_token_and_no_refresh_token(sf, keys):
    (private_pem, public_pem), _stranger = keys
    sf.trust_public_key(public_pem)
    response = jwt_token(sf, private_pem)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["instance_url"] == sf.url, "data calls must go back to the fake"
    assert body["id"] == f"{sf.url}/id/{sf.org_id}/{sf.user_id}"
    assert body["token_type"] == "Bearer" and body["issued_at"].isdigit()
    assert "refresh_token" not in body, "the JWT flow never returns a refresh token"
    assert api(sf, "GET", "/limits", token=body["access_token"]).status_code == 200
    identity = requests.get(
        body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5
    )
    assert identity.json()["username"] == sf.username
    also_own_host = jwt_token(sf, private_pem, aud=sf.url)
    assert also_own_host.status_code == 200, "the org's own host is a valid audience too"
    assert sf.token_requests == 2


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"exp": int(time.time() * 1000) + 180_000}, "expired authorization code"),
        ({"exp": int(time.time()) - 5}, "expired authorization code"),
        ({"exp": int(time.time()) + 3600}, "expired authorization code"),
        ({"sub": "someone@example.com"}, "user hasn't approved this consumer"),
        ({"aud": "https://example.com"}, "audience is invalid"),
    ],
    ids=["exp-in-ms", "exp-past", "exp-too-far", "unknown-user", "bad-audience"],
)
def test_jwt_bearer_errors_use_salesforce_descriptions(sf, keys, overrides, expected):
    (private_pem, public_pem), _stranger = keys
    sf.trust_public_key(public_pem)
    assert oauth_error(jwt_token(sf, private_pem, **overrides)) == ("invalid_grant", expected)


def test_jwt_signed_by_an_untrusted_key_or_for_another_app_is_refused(sf, keys):
    (_private, public_pem), (stranger_private, _stranger_public) = keys
    sf.trust_public_key(public_pem)
    assert oauth_error(jwt_token(sf, stranger_private)) == ("invalid_grant", "invalid assertion")
    error = oauth_error(jwt_token(sf, stranger_private, iss="other-app"))
    assert error[0] == "invalid_client_id"
    garbage = token_request(sf, grant_type=JWT_GRANT, assertion="not.a.jwt")
    assert oauth_error(garbage) == ("invalid_grant", "invalid assertion")


def test_client_credentials_in_the_body_or_basic_auth(sf):
    in_body = token_request(
        sf,
        grant_type="client_credentials",
        client_id=sf.client_id,
        client_secret=sf.client_secret,
    )
    assert in_body.status_code == 200 and in_body.json()["instance_url"] == sf.url
    basic = base64.b64encode(f"{sf.client_id}:{sf.client_secret}".encode()).decode()
    with_basic = requests.post(
        f"{sf.url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert with_basic.status_code == 200
    bad = token_request(
        sf, grant_type="client_credentials", client_id=sf.client_id, client_secret="wrong"
    )
    assert oauth_error(bad) == (
        "invalid_client",
        "authentication failure - invalid client credentials",
    )


def test_refresh_token_flow(sf):
    refresh_token = sf.issue_refresh_token()
    response = token_request(
        sf, grant_type="refresh_token", refresh_token=refresh_token, client_id=sf.client_id
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json(), "no rotation: the old refresh token stays"
    unknown = token_request(
        sf, grant_type="refresh_token", refresh_token="5Aepnope", client_id=sf.client_id
    )
    assert oauth_error(unknown) == ("invalid_grant", "expired access/refresh token")


def test_authorize_redirect_then_single_use_code(sf):
    redirect_uri = "https://odoo.example.com/connector/salesforce/callback"
    authorize = requests.get(
        f"{sf.url}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": sf.client_id,
            "redirect_uri": redirect_uri,
            "state": "csrf-123",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert params["state"] == "csrf-123", "the state must come back unchanged"
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": redirect_uri,
        "client_id": sf.client_id,
        "client_secret": sf.client_secret,
    }
    first = token_request(sf, **exchange)
    assert first.status_code == 200 and first.json()["refresh_token"]
    assert oauth_error(token_request(sf, **exchange)) == (
        "invalid_grant",
        "expired authorization code",
    ), "codes are single use"
    unknown_client = requests.get(
        f"{sf.url}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": "nope", "redirect_uri": redirect_uri},
        allow_redirects=False,
        timeout=5,
    )
    assert unknown_client.status_code == 400


def test_disabled_flow_is_an_unsupported_grant_type(sf):
    sf.enabled_flows.discard("client_credentials")
    response = token_request(
        sf,
        grant_type="client_credentials",
        client_id=sf.client_id,
        client_secret=sf.client_secret,
    )
    assert oauth_error(response)[0] == "unsupported_grant_type"


# Sessions and limits -----------------------------------------------------------------------------


def test_api_calls_need_a_valid_session(sf):
    missing = requests.get(f"{sf.url}/services/data/v62.0/limits", timeout=5)
    assert missing.status_code == 401
    assert missing.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    versions = requests.get(f"{sf.url}/services/data/", timeout=5)
    assert "62.0" in [entry["version"] for entry in versions.json()], "no session needed"


def test_expire_session_after_gives_one_401_then_works_with_a_new_token(sf):
    token = sf.issue_access_token()
    sf.expire_session_after(2)
    statuses = [api(sf, "GET", "/limits", token=token).status_code for _ in range(4)]
    assert statuses == [200, 200, 401, 401], "the old token stays dead"
    fresh = token_request(
        sf,
        grant_type="client_credentials",
        client_id=sf.client_id,
        client_secret=sf.client_secret,
    ).json()["access_token"]
    assert [api(sf, "GET", "/limits", token=fresh).status_code for _ in range(3)] == [200] * 3
    sf.expire_tokens()
    assert api(sf, "GET", "/limits", token=fresh).status_code == 401


def test_limit_exceeded_and_sforce_limit_info(sf):
    token = sf.issue_access_token()
    sf.api_limit = 500
    first = api(sf, "GET", "/limits", token=token)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/500"
    assert first.json()["DailyApiRequests"] == {"Max": 500, "Remaining": 499}
    sf.limit_exceeded_next(1)
    refused = api(sf, "GET", "/limits", token=token)
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    after = api(sf, "GET", "/limits", token=token)
    assert after.headers["Sforce-Limit-Info"] == "api-usage=2/500", "refused calls don't count"
    sf.api_usage = 500
    assert api(sf, "GET", "/limits", token=token).status_code == 403, "the daily limit is hard"


def test_generic_failure_switches_still_apply(sf):
    sf.server.fail_next(1, status=503)
    assert api(sf, "GET", "/limits").status_code == 503
    assert api(sf, "GET", "/limits").status_code == 200


def test_fixed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeSalesforce(port=port) as fake:
        assert fake.url == f"http://127.0.0.1:{port}"
