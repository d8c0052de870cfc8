"""The Salesforce client against the fake org, over real HTTP on loopback (engine/salesforce.py).

The client is built as the Odoo backend builds it (``_sf_client``), each test with its own
token cache."""

import base64
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
from odoo.addons.connector_crm.engine import deals
from odoo.addons.connector_crm.engine import salesforce as sf
from odoo.addons.connector_crm.engine.oauth import TokenCache

from tests.fakes.salesforce import FakeSalesforce
from tests.unit import crm_client_fixtures
from tests.unit.crm_client_fixtures import (
    TIMEOUT,
    Recorder,
    api_requests,
    b64url_json,
    token_requests,
)

http_clients = crm_client_fixtures.http_clients  # a fixture of both client test files

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
