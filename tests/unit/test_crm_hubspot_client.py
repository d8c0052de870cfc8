"""The HubSpot client against the fake portal, over real HTTP on loopback (engine/hubspot.py);
the webhook signatures are in test_crm_hubspot_webhooks.py."""

import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from odoo.addons.connector_base.engine.errors import (
    AuthError,
    BusinessError,
    TransientError,
)
from odoo.addons.connector_crm.engine import hubspot as hs
from odoo.addons.connector_crm.engine.oauth import Token, TokenCache

from tests.fakes.hubspot import FakeHubSpot
from tests.unit import crm_client_fixtures
from tests.unit.crm_client_fixtures import Recorder, token_requests

http_clients = crm_client_fixtures.http_clients  # a fixture of both client test files

# HubSpot -------------------------------------------------------------------------------------

SECRET = "fake-hs-secret"


@pytest.fixture
def fake_hs():
    with FakeHubSpot() as fake:
        yield fake
        assert not fake.server.errors, fake.server.errors


@pytest.fixture
def hs_client(fake_hs, http_clients):
    """As ``HubspotAdapter.client()`` builds it: token HTTP and API HTTP on the API host."""

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
