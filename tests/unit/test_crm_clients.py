"""Salesforce and HubSpot clients against the fake servers, over real HTTP on loopback.

The clients are built as the Odoo backends build them (``_sf_client`` / ``_hs_client``), each
test with its own token cache.
"""

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from odoo.addons.connector_base.engine.errors import (
    TRANSIENT,
    AuthError,
    BusinessError,
    TransientError,
)
from odoo.addons.connector_base.engine.http_client import HttpClient
from odoo.addons.connector_base.engine.signatures import SignatureError
from odoo.addons.connector_crm.engine import deals
from odoo.addons.connector_crm.engine import hubspot as hs
from odoo.addons.connector_crm.engine import salesforce as sf
from odoo.addons.connector_crm.engine.oauth import Token, TokenCache

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce

TIMEOUT = (2, 5)
API = "/services/data/v"


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def api_requests(fake):
    return [request for request in fake.server.requests if request.path.startswith(API)]


def token_requests(server, path="/services/oauth2/token"):
    return [request for request in server.requests if request.path == path]


class Recorder:
    """A callback that remembers its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)


@pytest.fixture
def http_clients():
    """Builds HttpClients and closes them after the test."""
    clients = []

    def build(base_url, **kwargs):
        client = HttpClient(base_url, **{"timeout": TIMEOUT, **kwargs})
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


# Salesforce ----------------------------------------------------------------------------------


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
    """``_sf_client``: token HTTP on the login host, data HTTP with the auth, absolute URLs."""

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


def test_query_pages_through_won_deals_and_normalizes_them(fake_sf, client):
    ids = fake_sf.seed_demo()
    fake_sf.page_size = 3
    fields = deals.sf_opportunity_fields(deals.SF_DEAL_FIELD_DEFAULTS, ["Odoo_Id__c"])
    soql = (
        f"SELECT {', '.join(fields)} FROM Opportunity "
        "WHERE IsWon = true AND CloseDate >= 2026-01-01 ORDER BY CloseDate, Id"
    )
    records = list(client.query(soql))

    pages = [r for r in api_requests(fake_sf) if "/query" in r.path]
    assert len(pages) == 3  # 7 won deals, 3 a page
    assert pages[0].query["q"] == soql
    assert pages[1].path.endswith("-3") and pages[2].path.endswith("-6")
    normalized = {
        record["Id"]: deals.sf_normalize_opportunity(
            record, deals.SF_DEAL_FIELD_DEFAULTS, ["Odoo_Id__c"]
        )
        for record in records
    }
    won = ["northwind_erp", "northwind_support", "globex_consulting", "globex_rollout"]
    won += ["initech_mixed", "umbrella_advisory", "initech_migration"]
    assert [record["Id"] for record in records] == [ids[key] for key in won]

    globex = normalized[ids["globex_consulting"]]
    assert globex["name"] == "Globex - Process consulting"
    assert (globex["is_won"], globex["is_closed"], globex["close_date"]) == (
        True,
        True,
        "2026-05-20",
    )
    assert globex["legal_entity"] == "Acme Consulting EU"
    assert globex["tax_treatment"] == "EU reverse charge"
    assert globex["po_number"] == "4500012345"
    assert globex["cap_amount"] == 30000.0
    assert globex["account"]["id"] == ids["globex"]
    assert globex["account"]["name"] == "Globex GmbH"
    assert globex["account"]["ref"] == "CUST-1002"
    assert globex["account"]["city"] == "Berlin"
    assert [(c["id"], c["first_name"], c["primary"]) for c in globex["contacts"]] == [
        (ids["greta"], "Greta", True),
        (ids["jonas"], "Jonas", False),
    ]
    assert globex["contacts"][0]["email"] == "greta.keller@globex.example.de"
    [consulting] = globex["lines"]
    assert consulting["product_ref"] == ids["CONS-H"]
    assert consulting["product_code"] == "CONS-H"
    assert (consulting["quantity"], consulting["price_unit"], consulting["discount"]) == (
        200.0,
        150.0,
        5.0,
    )
    assert consulting["billing_model"] == "Time and Materials"
    assert globex["writeback"] == {"Odoo_Id__c": None}

    mixed = normalized[ids["initech_mixed"]]
    assert mixed["billing_model"] == "Mixed"
    assert [(line["product_code"], line["billing_model"]) for line in mixed["lines"]] == [
        ("IMPL", "Fixed Fee"),
        ("CONS-H", "Time and Materials"),
        ("TRAIN", "Fixed Fee"),
    ]
    assert [line["id"] for line in mixed["lines"]] == sorted(line["id"] for line in mixed["lines"])
    assert normalized[ids["initech_migration"]]["lines"][0]["product_code"] == "NEW-SKU"


def test_query_with_batch_size_and_query_all(fake_sf, client):
    ids = [fake_sf.add_account(Name=f"Customer {n:03d}") for n in range(450)]
    fake_sf.delete("Account", ids[0])
    records = list(client.query("SELECT Id FROM Account ORDER BY Name", batch_size=200))
    assert [record["Id"] for record in records] == ids[1:]
    queries = [r for r in api_requests(fake_sf) if "/query" in r.path]
    assert len(queries) == 3
    assert {r.headers["Sforce-Query-Options"] for r in queries} == {"batchSize=200"}
    deleted = list(
        client.query("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
    )
    assert [record["Id"] for record in deleted] == [ids[0]]


def test_deleted_records_window(fake_sf, client):
    ids = fake_sf.seed_demo()
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    fake_sf.delete("Opportunity", ids["umbrella_phase2"])
    end = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=1)
    answer = client.deleted("Opportunity", start, end)
    assert [record["id"] for record in answer["deletedRecords"]] == [ids["umbrella_phase2"]]
    assert sf.parse_datetime(answer["earliestDateAvailable"]) <= start
    request = api_requests(fake_sf)[-1]
    assert request.path == "/services/data/v62.0/sobjects/Opportunity/deleted/"
    assert request.query == {"start": sf.iso_param(start), "end": sf.iso_param(end)}

    fake_sf.earliest_deleted_available = "2026-01-01T00:00:00.000+0000"
    old_start = datetime(2025, 12, 1)
    purged = client.deleted("Opportunity", old_start, end)
    assert sf.parse_datetime(purged["earliestDateAvailable"]) == datetime(2026, 1, 1)


def test_update_records_in_chunks_of_200_with_a_partial_failure(fake_sf, client):
    ids = fake_sf.seed_bulk(450, lines_per_deal=0)
    fake_sf.reject_fields = {"Description"}
    records = []
    for index, record_id in enumerate(ids):
        record = {"attributes": {"type": "Opportunity"}, "id": record_id}
        record["Odoo_Id__c"] = f"SO{index:04d}"
        if index in (5, 250):
            record["Description"] = "refused by the org"
        records.append(record)
    results = client.update_records(records)

    assert [result["id"] for result in results] == ids
    failed = [index for index, result in enumerate(results) if not result["success"]]
    assert failed == [5, 250]
    assert results[5]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert "Description" in results[5]["errors"][0]["message"]
    calls = [r for r in api_requests(fake_sf) if r.path.endswith("/composite/sobjects")]
    assert [r.method for r in calls] == ["PATCH"] * 3
    assert [len(r.json()["records"]) for r in calls] == [200, 200, 50]
    assert {r.json()["allOrNone"] for r in calls} == {False}
    assert fake_sf.get("Opportunity", ids[449])["Odoo_Id__c"] == "SO0449"
    assert fake_sf.get("Opportunity", ids[5]).get("Odoo_Id__c") is None
    assert len(fake_sf.writes) == 448


def test_update_records_with_an_unexpected_answer_is_a_business_error(fake_sf, client):
    fake_sf.server.fail_next(1, status=200, body={"unexpected": True})
    record = {"attributes": {"type": "Opportunity"}, "id": "006000000000000AAA", "Name": "x"}
    with pytest.raises(BusinessError, match="unexpected body"):
        client.update_records([record])


def test_limit_info_is_reported(fake_sf, sf_client, sf_settings):
    on_limits = Recorder()
    client = sf_client(sf_settings(), on_limits=on_limits)
    fake_sf.api_usage, fake_sf.api_limit = 41_000, 50_000
    client.limits()
    list(client.query("SELECT Id FROM Account"))
    assert on_limits.calls == [(41_001, 50_000), (41_002, 50_000)]
    assert client.api_usage == (41_002, 50_000)
    assert sf.limit_ratio(client.api_usage) == pytest.approx(0.82004)


def test_daily_limit_exceeded_is_transient_for_an_hour(fake_sf, client):
    fake_sf.limit_exceeded_next(1)
    with pytest.raises(TransientError) as error:
        client.limits()
    assert error.value.retry_after == 3600
    assert error.value.http_status == 403
    assert error.value.error_class == TRANSIENT
    assert "REQUEST_LIMIT_EXCEEDED" in error.value.message
    assert "DailyApiRequests" in client.limits()  # the next call goes through


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_sf, client, status):
    fake_sf.server.fail_next(1, status=status)
    with pytest.raises(TransientError) as error:
        list(client.query("SELECT Id FROM Account"))
    assert error.value.http_status == status
    assert error.value.retry_after is None


def test_server_error_on_the_token_endpoint_is_transient_not_auth(fake_sf, sf_client, sf_settings):
    fake_sf.server.fail_next(1, status=503)
    client = sf_client(sf_settings())
    with pytest.raises(TransientError) as error:
        client.limits()
    assert error.value.http_status == 503
    assert "DailyApiRequests" in client.limits()


def test_429_with_retry_after(fake_sf, client):
    fake_sf.server.fail_next(1, status=429, headers={"Retry-After": "17"})
    with pytest.raises(TransientError) as error:
        client.limits()
    assert error.value.retry_after == 17.0
    assert error.value.http_status == 429


def test_read_timeout_is_transient(fake_sf, sf_client, sf_settings):
    client = sf_client(sf_settings(), timeout=(2, 0.2))
    client.auth.token()
    fake_sf.server.delay_next(1, 3)
    started = time.monotonic()
    with pytest.raises(TransientError, match="timed out while waiting for the answer"):
        client.limits()
    assert time.monotonic() - started < 2


def test_malformed_json_on_a_data_call_is_transient(fake_sf, client):
    """A body cut short by a proxy is a transient fault (retried by the queue), not an item that
    needs a person and holds every later job of the deal."""
    fake_sf.add_account(Name="Globex GmbH")
    fake_sf.server.malformed_next(1)
    with pytest.raises(TransientError, match=r"not valid JSON .* cuts the answer short") as error:
        list(client.query("SELECT Id FROM Account"))
    assert error.value.http_status == 200


def test_malformed_json_is_sent_again_in_place_with_quick_retries(fake_sf, sf_client, sf_settings):
    client = sf_client(sf_settings())
    client.http.quick_retries, client.http.quick_retry_wait = 2, 0.01
    client.auth.token()
    fake_sf.add_account(Name="Globex GmbH")
    fake_sf.server.malformed_next(2)
    records = list(client.query("SELECT Name FROM Account"))
    assert [record["Name"] for record in records] == ["Globex GmbH"]
    assert [r.status for r in fake_sf.server.requests][-3:] == [200, 200, 200]


def test_sub_query_children_beyond_a_batch_are_read_from_their_next_records_url(fake_sf, client):
    """Salesforce pages an opportunity's line items too: the deal comes with all of them."""
    fake_sf.child_page_size = 2
    ids = fake_sf.seed_demo()
    product = ids["CONS-H"]
    account = ids["globex"]
    lines = [{"product_id": product, "quantity": 1 + n, "unit_price": 100.0 + n} for n in range(5)]
    opportunity = fake_sf.add_opportunity(account, name="Five lines", lines=lines)
    soql = (
        "SELECT Id, (SELECT Id, Quantity FROM OpportunityLineItems) FROM Opportunity "
        f"WHERE Id = '{opportunity}'"
    )
    [record] = list(client.query(soql))
    children = record["OpportunityLineItems"]
    assert children["done"] is True
    assert sorted(line["Quantity"] for line in children["records"]) == [1, 2, 3, 4, 5]
    nested = [r for r in fake_sf.server.requests if "/query/01g" in r.path]
    assert len(nested) == 2, "two more batches of two lines"


def test_query_page_returns_the_next_records_url_to_resume_with(fake_sf, sf_client, sf_settings):
    fake_sf.page_size = 200
    ids = fake_sf.seed_bulk(250, lines_per_deal=1)
    client = sf_client(sf_settings())
    records, locator = client.query_page("SELECT Id FROM Opportunity ORDER BY Id")
    assert len(records) == 200 and locator.startswith("/services/data/v62.0/query/")
    rest, locator = client.query_page(locator=locator)
    assert locator is None
    assert [r["Id"] for r in records + rest] == sorted(ids)


def test_malformed_token_answer_is_transient(fake_sf, sf_client, sf_settings):
    fake_sf.server.malformed_next(1)
    with pytest.raises(TransientError, match="not JSON"):
        sf_client(sf_settings()).limits()


def test_query_answer_without_records_is_a_business_error(fake_sf, client):
    fake_sf.server.fail_next(1, status=200, body={"totalSize": 0, "done": True})
    with pytest.raises(BusinessError, match="without 'records'"):
        list(client.query("SELECT Id FROM Account"))


# HubSpot -------------------------------------------------------------------------------------

SECRET = "fake-hs-secret"


@pytest.fixture
def fake_hs():
    with FakeHubSpot() as fake:
        yield fake
        assert not fake.server.errors, fake.server.errors


@pytest.fixture
def hs_client(fake_hs, http_clients):
    """``_hs_client``: token HTTP and API HTTP on the API host."""

    def build(settings, *, cache=None, on_token=None, on_rate=None):
        auth = hs.hubspot_auth(
            settings,
            http_clients(fake_hs.url),
            ("db", 1, settings.flow, settings.client_id),
            cache=TokenCache() if cache is None else cache,
            on_token=on_token,
        )
        http = http_clients(fake_hs.url, auth=auth)
        return hs.HubSpotClient(http, settings.path_prefix, on_rate=on_rate)

    return build


@pytest.fixture
def private_app(fake_hs, hs_client):
    settings = hs.HubSpotSettings(
        flow=hs.FLOW_PRIVATE_APP, private_app_token=fake_hs.private_app_token
    )
    return hs_client(settings)


def connect(fake, token_http, redirect_uri="https://odoo.example.com/hubspot/callback"):
    """Follow the authorize redirect and exchange the code: the Connect button."""
    params = {"client_id": fake.client_id, "redirect_uri": redirect_uri, "state": "s1"}
    answer = requests.get(
        f"{fake.url}/oauth/authorize?{urlencode(params)}", allow_redirects=False, timeout=5
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s1"]
    settings = hs.HubSpotSettings(
        flow=hs.FLOW_OAUTH, client_id=fake.client_id, client_secret=fake.client_secret
    )
    token = hs.exchange_code(token_http, settings, query["code"][0], redirect_uri)
    settings.refresh_token = token.refresh_token
    return settings


def search_bodies(fake):
    return [r.json() for r in fake.server.requests if r.path.endswith("/search")]


def test_private_app_token(fake_hs, hs_client):
    on_rate = Recorder()
    settings = hs.HubSpotSettings(
        flow=hs.FLOW_PRIVATE_APP, private_app_token=fake_hs.private_app_token
    )
    client = hs_client(settings, on_rate=on_rate)
    assert client.pipelines()[0]["id"] == "default"
    assert client.account_details()["portalId"] == fake_hs.portal_id
    assert client.daily_usage()["usageLimit"] == fake_hs.daily_limit
    request = fake_hs.server.requests[0]
    assert request.headers["Authorization"] == f"Bearer {fake_hs.private_app_token}"
    assert fake_hs.token_requests == 0
    assert on_rate.calls[0] == (str(fake_hs.daily_limit - 1), str(fake_hs.daily_limit))


def test_revoked_private_app_token_is_an_auth_error(fake_hs, hs_client):
    settings = hs.HubSpotSettings(flow=hs.FLOW_PRIVATE_APP, private_app_token="pat-na1-revoked")
    client = hs_client(settings)
    with pytest.raises(AuthError, match="rejected the API token"):
        client.pipelines()
    assert len(fake_hs.server.requests) == 1


def test_missing_private_app_token(fake_hs, hs_client):
    with pytest.raises(AuthError, match="No private app access token"):
        hs_client(hs.HubSpotSettings(flow=hs.FLOW_PRIVATE_APP))


def test_oauth_refresh_follows_expires_in_and_passes_the_rotated_token(
    fake_hs, hs_client, http_clients
):
    settings = connect(fake_hs, http_clients(fake_hs.url))
    fake_hs.access_token_ttl = 900
    on_token = Recorder()
    client = hs_client(settings, on_token=on_token)
    before = time.monotonic()
    assert client.account_details()["portalId"] == fake_hs.portal_id

    [(token,)] = on_token.calls
    assert token.refresh_token.startswith("fake-hs-refresh-")
    assert token.refresh_token != settings.refresh_token  # rotated: the model stores it
    assert before + 899 <= token.expires_at <= time.monotonic() + 900
    refresh_form = parse_qs(token_requests(fake_hs.server, "/oauth/v1/token")[-1].body.decode())
    assert refresh_form["grant_type"] == ["refresh_token"]
    assert refresh_form["refresh_token"] == [settings.refresh_token]
    assert refresh_form["client_secret"] == [fake_hs.client_secret]

    client.pipelines()
    assert fake_hs.token_requests == 2  # the code exchange, then one refresh


def test_oauth_token_past_its_expiry_is_refreshed_before_use(fake_hs, hs_client, http_clients):
    settings = connect(fake_hs, http_clients(fake_hs.url))
    cache = TokenCache()
    key = ("db", 1, settings.flow, settings.client_id)
    cache.put(key, Token(access_token="stale-token", expires_at=time.monotonic() - 1))
    on_token = Recorder()
    client = hs_client(settings, cache=cache, on_token=on_token)
    fake_hs.server.reset()
    client.pipelines()

    statuses = [(request.path, request.status) for request in fake_hs.server.requests]
    assert statuses == [("/oauth/v1/token", 200), ("/crm/v3/pipelines/deals", 200)]
    [(token,)] = on_token.calls
    assert cache.get(key) is token
    assert fake_hs.server.requests[-1].headers["Authorization"] == f"Bearer {token.access_token}"


def test_oauth_token_within_the_expiry_margin_is_refreshed_and_a_fresh_one_reused(
    fake_hs, hs_client, http_clients
):
    settings = connect(fake_hs, http_clients(fake_hs.url))
    cache = TokenCache()
    key = ("db", 1, settings.flow, settings.client_id)
    client = hs_client(settings, cache=cache)
    client.pipelines()
    valid = cache.get(key)
    assert fake_hs.token_requests == 2

    cache.put(key, Token(access_token=valid.access_token, expires_at=time.monotonic() + 1000))
    hs_client(settings, cache=cache).pipelines()
    assert fake_hs.token_requests == 2  # fresh: reused

    cache.put(key, Token(access_token=valid.access_token, expires_at=time.monotonic() + 30))
    hs_client(settings, cache=cache).pipelines()
    assert fake_hs.token_requests == 3  # expires within the 60 s margin: renewed first


def test_oauth_expired_token_on_401_is_renewed_once(fake_hs, hs_client, http_clients):
    settings = connect(fake_hs, http_clients(fake_hs.url))
    client = hs_client(settings)
    client.pipelines()
    fake_hs.expire_tokens()
    client.pipelines()
    assert [r.status for r in fake_hs.server.requests if r.path.startswith("/crm")] == [
        200,
        401,
        200,
    ]
    assert fake_hs.token_requests == 3


def test_oauth_unknown_refresh_token_is_an_auth_error(fake_hs, hs_client):
    settings = hs.HubSpotSettings(
        flow=hs.FLOW_OAUTH,
        client_id=fake_hs.client_id,
        client_secret=fake_hs.client_secret,
        refresh_token="fake-hs-refresh-unknown",
    )
    with pytest.raises(AuthError) as error:
        hs_client(settings).pipelines()
    assert "HubSpot refused to issue an access token (HTTP 400)" in error.value.message
    assert "missing or unknown refresh token" in error.value.message
    assert "click Connect on the backend again" in error.value.message


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"refresh_token": None}, "not connected to HubSpot yet"),
        ({"client_secret": None}, "needs the app's client id and client secret"),
    ],
)
def test_oauth_incomplete_settings(fake_hs, hs_client, overrides, match):
    values = {"client_id": "c", "client_secret": "s", "refresh_token": "r", **overrides}
    settings = hs.HubSpotSettings(flow=hs.FLOW_OAUTH, **values)
    with pytest.raises(AuthError, match=match):
        hs_client(settings).pipelines()
    assert fake_hs.server.requests == []


def test_modified_since_pages_oldest_first_from_the_cursor(fake_hs, private_app):
    ids = fake_hs.seed_bulk(450, lines_per_deal=0)
    stamp = fake_hs.get("deals", ids[20])["properties"]["hs_lastmodifieddate"]
    since_ms = hs.to_ms(hs.parse_datetime(stamp))
    records = list(
        private_app.modified_since("deals", "hs_lastmodifieddate", since_ms, ["dealname"])
    )
    assert [record["id"] for record in records] == ids[20:]
    bodies = search_bodies(fake_hs)
    # 430 records in three pages, each starting again at the last timestamp read (keyset).
    assert [body["after"] for body in bodies] == ["0", "0", "0"]
    starts = [int(body["filterGroups"][0]["filters"][0]["value"]) for body in bodies]
    assert starts[0] == since_ms < starts[1] < starts[2]
    assert bodies[0]["filterGroups"][0]["filters"] == [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}
    ]
    assert bodies[0]["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert bodies[0]["limit"] == 200


def test_modified_since_restarts_the_search_before_the_result_cap(
    fake_hs, private_app, monkeypatch
):
    fake_hs.search_cap = 400
    monkeypatch.setattr(hs, "SEARCH_CAP", 400)
    ids = fake_hs.seed_bulk(1000, lines_per_deal=0)
    extra = {"propertyName": "pipeline", "operator": "EQ", "value": "default"}
    records = list(
        private_app.modified_since("deals", "hs_lastmodifieddate", 0, ["dealname"], filters=[extra])
    )

    yielded = [record["id"] for record in records]
    assert len(yielded) == len(set(yielded)) == 1000
    assert set(yielded) == set(ids)
    bodies = search_bodies(fake_hs)
    assert all(int(body["after"]) < 400 for body in bodies)  # never paged into the cap
    windows = [body["filterGroups"][0]["filters"][0]["value"] for body in bodies]
    starts = list(dict.fromkeys(windows))
    assert len(starts) >= 3  # the search restarted at the last timestamp seen
    assert [int(start) for start in starts] == sorted(int(start) for start in starts)
    assert all(body["filterGroups"][0]["filters"][1] == extra for body in bodies)
    assert all(request.status == 200 for request in fake_hs.server.requests)


def test_search_page_resumes_at_the_last_timestamp_read_from_a_stored_cursor(fake_hs, private_app):
    """The cursor a pull keeps between jobs: each page starts again at the last timestamp read
    (GTE), skipping the ids already read there; the search never pages towards the cap."""
    ids = fake_hs.seed_bulk(450, lines_per_deal=0)
    cursor, read, pages = {"start": 0}, [], 0
    while cursor is not None:
        cursor = json.loads(json.dumps(cursor))  # kept on the stream between jobs
        records, cursor = private_app.search_page(
            "deals", "hs_lastmodifieddate", cursor, ["dealname"]
        )
        read += [record["id"] for record in records]
        pages += 1
    assert read == ids, "every deal once, oldest first"
    assert pages == 3
    bodies = search_bodies(fake_hs)
    assert {body["after"] for body in bodies} == {"0"}
    starts = [int(body["filterGroups"][0]["filters"][0]["value"]) for body in bodies]
    assert starts == sorted(starts) and starts[0] == 0 and starts[1] > 0


def test_search_page_pages_within_a_timestamp_shared_by_a_whole_page(fake_hs, private_app):
    frozen = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    fake_hs.clock = lambda: frozen  # the fake still moves 1 ms per write...
    fake_hs.seed_bulk(5, lines_per_deal=0)
    stamp = fake_hs.get("deals", fake_hs.ids("deals")[0])["properties"]["hs_lastmodifieddate"]
    for deal_id in fake_hs.ids("deals"):  # ...so give them one stamp, as a bulk import can
        fake_hs._record("deals", deal_id).properties["hs_lastmodifieddate"] = stamp
    start = hs.to_ms(hs.parse_datetime(stamp))
    cursor, read = {"start": start}, []
    while cursor is not None:
        records, cursor = private_app.search_page(
            "deals", "hs_lastmodifieddate", cursor, ["dealname"], limit=2
        )
        read += [record["id"] for record in records]
    assert sorted(read) == sorted(fake_hs.ids("deals"))
    assert len(read) == len(set(read))
    afters = [int(body["after"]) for body in search_bodies(fake_hs)]
    assert afters == [0, 2, 4], "paged with after within the one timestamp"


def test_batch_read_skips_missing_ids(fake_hs, private_app):
    ids = fake_hs.seed_bulk(3, lines_per_deal=0)
    records = private_app.batch_read("deals", [*ids, "999999", ids[0]], ["dealname", "amount"])
    assert sorted(record["id"] for record in records) == sorted(ids)
    assert {record["properties"]["dealname"] for record in records} == {
        "Bulk deal 00001",
        "Bulk deal 00002",
        "Bulk deal 00003",
    }
    [request] = [r for r in fake_hs.server.requests if r.path.endswith("/batch/read")]
    assert request.status == 207
    assert request.json()["inputs"] == [{"id": i} for i in [*ids, "999999"]]


def test_batch_read_in_chunks_of_100(fake_hs, private_app):
    ids = fake_hs.seed_bulk(150, lines_per_deal=0)
    records = private_app.batch_read("deals", ids, ["dealname"])
    assert [record["id"] for record in records] == ids
    calls = [r for r in fake_hs.server.requests if r.path.endswith("/batch/read")]
    assert [len(r.json()["inputs"]) for r in calls] == [100, 50]


def test_associations(fake_hs, private_app):
    ids = fake_hs.seed_demo()
    lonely = fake_hs.add_deal(dealname="No lines, no company")
    mixed, erp = ids["deal_stark_mixed"], ids["deal_globex_erp"]
    lines = private_app.associations("deals", "line_items", [mixed, erp, lonely, mixed])
    assert lines == {
        mixed: [ids[f"deal_stark_mixed_line{n}"] for n in (1, 2, 3)],
        erp: [ids["deal_globex_erp_line1"], ids["deal_globex_erp_line2"]],
    }
    companies = private_app.associations("deals", "companies", [mixed, lonely])
    assert companies == {mixed: [ids["company_stark"]]}
    [request] = [r for r in fake_hs.server.requests if "/associations/deals/line_items" in r.path]
    assert request.json() == {"inputs": [{"id": mixed}, {"id": erp}, {"id": lonely}]}


def test_batch_update_with_207_errors(fake_hs, private_app):
    ids = fake_hs.seed_bulk(3, lines_per_deal=0)
    fake_hs.batch_207 = True
    fake_hs.reject_properties = {"po_number"}
    inputs = [
        {"id": ids[0], "properties": {"odoo_sale_order": "SO001"}},
        {"id": ids[1], "properties": {"po_number": "PO-REFUSED"}},
        {"id": "999999", "properties": {"odoo_sale_order": "SO404"}},
        {"id": ids[2], "properties": {"odoo_sale_order": "SO003"}},
    ]
    results, errors = private_app.batch_update("deals", inputs)
    assert sorted(result["id"] for result in results) == [ids[0], ids[2]]
    assert [(error["category"], error["context"]["ids"]) for error in errors] == [
        ("VALIDATION_ERROR", [ids[1]]),
        ("OBJECT_NOT_FOUND", ["999999"]),
    ]
    assert [(write[2], write[3]) for write in fake_hs.writes] == [
        (ids[0], {"odoo_sale_order": "SO001"}),
        (ids[2], {"odoo_sale_order": "SO003"}),
    ]


def test_batch_update_refused_as_a_whole_is_a_business_error(fake_hs, private_app):
    ids = fake_hs.seed_bulk(1, lines_per_deal=0)
    fake_hs.reject_properties = {"po_number"}
    with pytest.raises(BusinessError) as error:
        private_app.batch_update("deals", [{"id": ids[0], "properties": {"po_number": "x"}}])
    assert "INVALID_OPTION: Property value 'x' is not valid for po_number" in error.value.message
    assert error.value.http_status == 400
    assert fake_hs.writes == []


def test_batch_update_in_chunks_of_100(fake_hs, private_app):
    ids = fake_hs.seed_bulk(150, lines_per_deal=0)
    inputs = [{"id": i, "properties": {"odoo_sale_order": f"SO{i}"}} for i in ids]
    results, errors = private_app.batch_update("deals", inputs)
    assert (len(results), errors) == (150, [])
    calls = [r for r in fake_hs.server.requests if r.path.endswith("/batch/update")]
    assert [len(r.json()["inputs"]) for r in calls] == [100, 50]


class Sleeps(list):
    """A sleep that records its waits instead of waiting."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps(private_app):
    private_app.sleep = Sleeps()
    return private_app.sleep


def test_a_short_retry_after_is_waited_in_place(fake_hs, private_app, sleeps):
    fake_hs.rate_limit_next(1, retry_after=7)
    assert private_app.pipelines()
    assert sleeps == [7.0]


def test_a_long_retry_after_goes_to_the_queue(fake_hs, private_app, sleeps):
    fake_hs.rate_limit_next(1, retry_after=45)
    with pytest.raises(TransientError) as error:
        private_app.pipelines()
    assert error.value.retry_after == 45.0
    assert error.value.http_status == 429
    assert "You have reached your ten_secondly_rolling limit" in error.value.message
    assert sleeps == []
    assert private_app.pipelines()  # the next call goes through


def test_429_without_retry_after_waits_past_the_window_it_names(fake_hs, private_app, sleeps):
    fake_hs.rate_limit_next(1)  # TEN_SECONDLY_ROLLING, no Retry-After (HubSpot's usual answer)
    assert private_app.pipelines()
    assert len(sleeps) == 1 and 10.0 <= sleeps[0] <= 12.5, "past the 10-second window"
    sleeps.clear()
    fake_hs.rate_limit_next(2, policy="SECONDLY")
    private_app.search("deals", [], ["dealname"], "hs_lastmodifieddate")
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 1.25 and 2.0 <= sleeps[1] <= 2.25, "growing, past the second"


def test_a_rate_limit_that_lasts_goes_to_the_queue_with_the_window(fake_hs, private_app, sleeps):
    fake_hs.rate_limit_next(4, policy="SECONDLY")
    with pytest.raises(TransientError) as error:
        private_app.search("deals", [], ["dealname"], "hs_lastmodifieddate")
    assert len(sleeps) == 3
    assert error.value.retry_after >= 4.0, "the queue waits past the window, not 0.25 s"
    assert "policy SECONDLY" in error.value.message


def test_the_daily_limit_goes_to_the_queue_for_an_hour(fake_hs, private_app, sleeps):
    fake_hs.rate_limit_next(1, policy="DAILY")
    with pytest.raises(TransientError) as error:
        private_app.batch_read("deals", ["1"], ["dealname"])
    assert error.value.retry_after == hs.DAILY_RETRY_AFTER
    assert "policy DAILY" in error.value.message
    assert sleeps == []


def test_searches_are_paced_below_the_search_limit(fake_hs, private_app):
    """The fake enforces HubSpot's 5 searches per second; the client's search limiter keeps
    below it, so a long search run meets no 429 at all."""
    from odoo.addons.connector_base.engine.ratelimit import TokenBucket

    fake_hs.enforce_search_limit = True
    fake_hs.seed_bulk(30, lines_per_deal=0)
    private_app.search_limiter = TokenBucket(4.0, burst=1)
    started = time.monotonic()
    for _n in range(9):
        private_app.search("deals", [], ["dealname"], "hs_lastmodifieddate", limit=1)
    assert time.monotonic() - started >= 1.9, "4 per second"
    assert fake_hs.search_rejections == 0
    assert all(request.status == 200 for request in fake_hs.server.requests)


def test_an_unpaced_search_burst_is_rejected_by_the_fake_then_waited_out(fake_hs, private_app):
    fake_hs.enforce_search_limit = True
    private_app.sleep = time.sleep
    for _n in range(8):
        private_app.search("deals", [], ["dealname"], "hs_lastmodifieddate", limit=1)
    assert fake_hs.search_rejections >= 1
    statuses = [request.status for request in fake_hs.server.requests]
    assert 429 in statuses and statuses[-1] == 200


def test_get_returns_none_for_a_missing_object(fake_hs, private_app):
    ids = fake_hs.seed_demo()
    deal = private_app.get("deals", ids["deal_globex_erp"], ["legal_entity"], ["line_items"])
    assert deal["properties"]["legal_entity"] == "Acme Consulting US"
    assert len(deal["associations"]["line_items"]["results"]) == 2
    assert private_app.get("deals", "999999") is None


# Webhook signatures --------------------------------------------------------------------------

HOOK_PATH = "/connector_crm/hubspot/webhook?backend=7&from=a%3Ab%40c%2Fd"


def test_signature_v3_accepts_a_webhook_sent_by_the_fake(fake_hs):
    with FakeHttpServer() as receiver:
        receiver.route("POST", "/connector_crm/hubspot/webhook", (204, {}, None))
        url = f"{receiver.url}{HOOK_PATH}"
        event = fake_hs.event("deal.propertyChange", 20001, property_name="dealstage")
        answer = fake_hs.webhook_request(url, SECRET, [event])
        assert answer.status_code == 204
        [request] = receiver.requests
    now_ms = int(time.time() * 1000)
    hs.verify_signature_v3(SECRET, "POST", url, request.body, request.headers, now_ms)
    with pytest.raises(SignatureError) as error:
        hs.verify_signature_v3("other", "POST", url, request.body, request.headers, now_ms)
    assert error.value.reason == "mismatch"


def signed(body=b'[{"eventId": 1}]', timestamp_ms=1_780_000_000_000, uri=None, method="POST"):
    uri = uri or f"https://odoo.example.com{HOOK_PATH}"
    signature = FakeHubSpot.sign_v3(SECRET, method, uri, body, timestamp_ms)
    headers = {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": str(timestamp_ms),
    }
    return uri, body, headers, timestamp_ms


def test_signature_v3_valid_with_any_header_case_and_lower_case_escapes():
    uri, body, headers, now = signed(uri="https://odoo.example.com/hook?x=a%3ab%2c")
    lowered = {key.lower(): value for key, value in headers.items()}
    hs.verify_signature_v3(SECRET, "post", uri, body, lowered, now + 299_000)
    hs.verify_signature_v3(SECRET, "POST", uri, body, headers, now - 299_000)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "mismatch"),
        ("uri", "mismatch"),
        ("method", "mismatch"),
        ("signature", "mismatch"),
        ("stale", "stale"),
        ("future", "stale"),
        ("no_signature", "missing"),
        ("no_timestamp", "missing"),
        ("no_secret", "missing"),
        ("timestamp_text", "malformed"),
    ],
)
def test_signature_v3_rejections(tamper, reason):
    uri, body, headers, now = signed()
    secret, method = SECRET, "POST"
    if tamper == "body":
        body += b" "
    elif tamper == "uri":
        uri = uri.replace("backend=7", "backend=8")
    elif tamper == "method":
        method = "PUT"
    elif tamper == "signature":
        headers["X-HubSpot-Signature-v3"] = base64.b64encode(b"0" * 32).decode()
    elif tamper == "stale":
        now += 301_000
    elif tamper == "future":
        now -= 301_000
    elif tamper == "no_signature":
        del headers["X-HubSpot-Signature-v3"]
    elif tamper == "no_timestamp":
        del headers["X-HubSpot-Request-Timestamp"]
    elif tamper == "no_secret":
        secret = ""
    elif tamper == "timestamp_text":
        headers["X-HubSpot-Request-Timestamp"] = "2026-11-02T10:00:00Z"
    with pytest.raises(SignatureError) as error:
        hs.verify_signature_v3(secret, method, uri, body, headers, now)
    assert error.value.reason == reason


def test_signed_uri_decodes_only_the_listed_escapes():
    uri = "https://odoo.example.com/hook%2Fx?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%25%26"
    assert hs.signed_uri(uri) == "https://odoo.example.com/hook/x?a=:/?@!$'()*,;&b=%20%25%26"
    assert hs.signed_uri("https://h/p?q=%3a%2f%40") == "https://h/p?q=:/@"
    assert hs.signed_uri("https://h/p?q=%253A") == "https://h/p?q=%253A"
