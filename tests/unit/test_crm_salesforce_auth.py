"""The Salesforce client's authentication against the fake org, over real HTTP on loopback
(engine/salesforce.py): JWT bearer, client credentials, refresh token and Connect flows, the
token cache and session renewal. Data calls are in test_crm_salesforce_client.py."""

import base64
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from odoo.addons.connector_base.engine.errors import AuthError
from odoo.addons.connector_crm.engine import salesforce as sf
from odoo.addons.connector_crm.engine.oauth import TokenCache

from tests.fakes.salesforce import FakeSalesforce
from tests.unit import crm_client_fixtures
from tests.unit import salesforce_client_fixtures as sf_fixtures
from tests.unit.crm_client_fixtures import (
    Recorder,
    api_requests,
    b64url_json,
    token_requests,
)

http_clients = crm_client_fixtures.http_clients  # a fixture of both client test files

# Fixtures shared by the Salesforce client test files.
key_pair = sf_fixtures.key_pair
fake_sf = sf_fixtures.fake_sf
sf_settings = sf_fixtures.sf_settings
sf_client = sf_fixtures.sf_client
client = sf_fixtures.client


def test_jwt_bearer_flow(fake_sf, sf_client, sf_settings):
    on_token = Recorder()
    client = sf_client(sf_settings(), on_token=on_token)
    assert client.limits()["DailyApiRequests"]["Max"] == fake_sf.api_limit
    identity = client.identity()
    assert identity["username"] == fake_sf.username

    [token_request] = token_requests(fake_sf.server)
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert "Authorization" not in token_request.headers
    claims = b64url_json(form["assertion"][0].split(".")[1])
    assert claims["iss"] == fake_sf.client_id
    assert claims["sub"] == fake_sf.username
    assert claims["aud"] == fake_sf.url
    assert 0 < claims["exp"] - time.time() <= 180
    [(token,)] = on_token.calls
    assert token.instance_url == fake_sf.url
    assert token.identity_url.endswith(f"/id/{fake_sf.org_id}/{fake_sf.user_id}")
    assert api_requests(fake_sf)[0].headers["Authorization"] == f"Bearer {token.access_token}"


@pytest.mark.parametrize(
    ("setting", "remote_message"),
    [
        ("untrusted_key", "invalid_grant: invalid assertion"),
        ("unknown_user", "invalid_grant: user hasn't approved this consumer"),
        ("wrong_client_id", "invalid_client_id: client identifier invalid"),
    ],
)
def test_refused_jwt_flow_is_an_auth_error_with_the_server_message(
    fake_sf, sf_client, sf_settings, setting, remote_message
):
    overrides = {
        "untrusted_key": {"private_key": FakeSalesforce.generate_key_pair()[0].decode()},
        "unknown_user": {"username": "someone.else@example.com"},
        "wrong_client_id": {"client_id": "not-the-consumer-key"},
    }[setting]
    client = sf_client(sf_settings(**overrides))
    with pytest.raises(AuthError) as error:
        client.limits()
    assert remote_message in error.value.message
    assert error.value.message.startswith("Salesforce refused to issue an access token (HTTP 400)")
    assert "pre-authorized" in error.value.message  # what to check, for the JWT flow
    assert error.value.http_status == 400
    assert fake_sf.token_requests == 1
    assert api_requests(fake_sf) == []


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"private_key": None}, "needs the integration user's username and the private key"),
        ({"username": ""}, "needs the integration user's username and the private key"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key"}, "not an unencrypted PEM"),
        ({"client_id": ""}, "No consumer key"),
        ({"flow": "password"}, "Unknown Salesforce authentication flow 'password'"),
    ],
)
def test_incomplete_salesforce_settings_fail_before_any_request(
    fake_sf, sf_client, sf_settings, overrides, match
):
    client = sf_client(sf_settings(**overrides))
    with pytest.raises(AuthError, match=match):
        client.limits()
    assert fake_sf.server.requests == []


def test_client_credentials_flow(fake_sf, sf_client, sf_settings):
    client = sf_client(sf_settings(sf.FLOW_CLIENT_CREDENTIALS))
    assert "DailyApiRequests" in client.limits()
    [token_request] = token_requests(fake_sf.server)
    assert parse_qs(token_request.body.decode()) == {"grant_type": ["client_credentials"]}
    basic = token_request.headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(basic).decode() == f"{fake_sf.client_id}:{fake_sf.client_secret}"


def test_client_credentials_flow_with_a_bad_secret(fake_sf, sf_client, sf_settings):
    client = sf_client(sf_settings(sf.FLOW_CLIENT_CREDENTIALS, client_secret="wrong"))
    with pytest.raises(AuthError) as error:
        client.limits()
    assert "invalid_client: authentication failure - invalid client credentials" in str(error.value)
    assert "Run As user" in str(error.value)
    assert api_requests(fake_sf) == []


def test_client_credentials_flow_needs_the_secret(fake_sf, sf_client, sf_settings):
    client = sf_client(sf_settings(sf.FLOW_CLIENT_CREDENTIALS, client_secret=None))
    with pytest.raises(AuthError, match="needs the consumer secret"):
        client.limits()
    assert fake_sf.server.requests == []


def test_refresh_token_flow(fake_sf, sf_client, sf_settings):
    refresh_token = fake_sf.issue_refresh_token()
    client = sf_client(sf_settings(sf.FLOW_WEB_SERVER, refresh_token=refresh_token))
    assert "DailyApiRequests" in client.limits()
    [token_request] = token_requests(fake_sf.server)
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == [refresh_token]
    assert form["client_id"] == [fake_sf.client_id]
    assert "client_secret" not in form


def test_refresh_token_flow_with_a_revoked_token(fake_sf, sf_client, sf_settings):
    client = sf_client(
        sf_settings(sf.FLOW_WEB_SERVER, refresh_token="5Aep-revoked", client_secret="wrong")
    )
    with pytest.raises(AuthError) as error:
        client.limits()
    assert "invalid_client" in error.value.message
    assert "click Connect on the backend again" in error.value.message

    client = sf_client(sf_settings(sf.FLOW_WEB_SERVER, refresh_token="5Aep-revoked"))
    with pytest.raises(AuthError, match="invalid_grant: expired access/refresh token"):
        client.limits()


def test_web_server_flow_not_connected_yet(fake_sf, sf_client, sf_settings):
    with pytest.raises(AuthError, match="not connected yet"):
        sf_client(sf_settings(sf.FLOW_WEB_SERVER)).limits()
    assert fake_sf.server.requests == []


def test_exchange_code_after_the_authorize_redirect(fake_sf, sf_client, sf_settings, http_clients):
    settings = sf_settings(sf.FLOW_WEB_SERVER, client_secret=fake_sf.client_secret)
    redirect_uri = "https://odoo.example.com/connector_crm/oauth/callback"
    params = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": redirect_uri,
        "state": "backend-7.nonce-abc",
        "scope": "api refresh_token",
    }
    answer = requests.get(
        f"{settings.login_url}/services/oauth2/authorize?{urlencode(params)}",
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["backend-7.nonce-abc"]

    token_http = http_clients(settings.login_url)
    token = sf.exchange_code(token_http, settings, query["code"][0], redirect_uri)
    assert token.instance_url == fake_sf.url
    assert token.refresh_token
    assert token.identity_url.endswith(f"/{fake_sf.org_id}/{fake_sf.user_id}")
    form = parse_qs(token_requests(fake_sf.server)[-1].body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == [redirect_uri]

    # The refresh token it gave works for the web-server flow...
    connected = sf_settings(sf.FLOW_WEB_SERVER, refresh_token=token.refresh_token)
    assert "DailyApiRequests" in sf_client(connected).limits()
    # ...and a code is single use.
    with pytest.raises(AuthError, match="expired authorization code"):
        sf.exchange_code(token_http, settings, query["code"][0], redirect_uri)


def test_data_calls_go_to_the_instance_url_of_the_token_response(fake_sf, sf_client, sf_settings):
    login_host = f"localhost:{fake_sf.server.port}"  # same server, another name than the instance
    settings = sf_settings(sf.FLOW_CLIENT_CREDENTIALS, login_url=f"http://{login_host}")
    client = sf_client(settings)
    client.limits()
    list(client.query("SELECT Id FROM Account"))
    assert client.instance_url == fake_sf.url
    instance_host = urlsplit(fake_sf.url).netloc
    assert [request.headers["Host"] for request in token_requests(fake_sf.server)] == [login_host]
    assert {request.headers["Host"] for request in api_requests(fake_sf)} == {instance_host}
    assert client.data_url("limits") == f"{fake_sf.url}/services/data/v62.0/limits"


def test_expired_session_is_renewed_exactly_once(fake_sf, sf_client, sf_settings):
    on_token = Recorder()
    client = sf_client(sf_settings(), on_token=on_token)
    client.limits()
    fake_sf.expire_session_after(2)
    for _ in range(5):
        assert "DailyApiRequests" in client.limits()
    assert fake_sf.token_requests == 2
    assert [request.status for request in api_requests(fake_sf)] == [200, 200, 200, 401] + [200] * 3
    first, second = (token for (token,) in on_token.calls)
    assert first.access_token != second.access_token
    assert api_requests(fake_sf)[-1].headers["Authorization"] == f"Bearer {second.access_token}"


def test_token_cache_is_reused_across_calls_and_clients(fake_sf, sf_client, sf_settings):
    cache = TokenCache()
    settings = sf_settings()
    client = sf_client(settings, cache=cache)
    for _ in range(10):
        client.limits()
    assert fake_sf.token_requests == 1
    # A later job with the same backend settings (same cache key) reuses the token...
    sf_client(settings, cache=cache).limits()
    assert fake_sf.token_requests == 1
    # ...a fresh cache (another process) asks for its own.
    sf_client(settings).limits()
    assert fake_sf.token_requests == 2


def test_second_401_after_reauthentication_is_an_auth_error(fake_sf, client, monkeypatch):
    monkeypatch.setattr(fake_sf, "_token_valid", lambda headers: False)  # every session refused
    with pytest.raises(AuthError) as error:
        client.limits()
    assert "again after re-authenticating (HTTP 401)" in error.value.message
    assert "INVALID_SESSION_ID: Session expired or invalid" in error.value.message
    assert error.value.http_status == 401
    assert fake_sf.token_requests == 2  # the first token, then exactly one re-authentication
    assert [request.status for request in api_requests(fake_sf)] == [401, 401]
