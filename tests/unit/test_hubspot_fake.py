"""The HubSpot fake must behave like the documented API: authentication, limits, webhooks, seeds."""

import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

import requests

from tests.fakes.http_fake import FakeHttpServer
from tests.unit import hubspot_fake_support as support
from tests.unit.hubspot_fake_support import DEALS, SECRET, api, search, where

hubspot = support.hubspot  # a fixture
clock = support.clock  # a fixture


# Authentication ------------------------------------------------------------------------------


def test_private_app_token_is_accepted_and_other_tokens_get_401(hubspot):
    ok = api(hubspot, "GET", DEALS)
    assert ok.status_code == 200 and ok.json() == {"results": []}
    for headers in ({"Authorization": "Bearer wrong"}, {}):
        denied = requests.get(f"{hubspot.url}{DEALS}", headers=headers, timeout=5)
        body = denied.json()
        assert denied.status_code == 401, headers
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found")
        assert body["correlationId"], "every error body carries a correlationId"
    assert ok.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert ok.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


def test_oauth_code_flow_refresh_and_expired_tokens(hubspot):
    redirect_uri = "https://odoo.example.com/hubspot/callback"
    authorize = requests.get(
        f"{hubspot.url}/oauth/authorize",
        params={"client_id": "fake-hs-client", "redirect_uri": redirect_uri, "state": "xyz"},
        allow_redirects=False,
        timeout=5,
    )
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert query["state"] == "xyz", "the state comes back for CSRF checks"

    def token(path="/oauth/v1/token", **form):
        credentials = {"client_id": "fake-hs-client", "client_secret": SECRET}
        return requests.post(f"{hubspot.url}{path}", data={**credentials, **form}, timeout=5)

    code_grant = {"grant_type": "authorization_code", "code": query["code"]}
    wrong_uri = token(**code_grant, redirect_uri="https://elsewhere.example.com/cb")
    assert wrong_uri.json()["status"] == "BAD_REDIRECT_URI"
    granted = token(**code_grant, redirect_uri=redirect_uri)
    assert granted.status_code == 200, granted.text
    tokens = granted.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 1800
    replay = token(**code_grant, redirect_uri=redirect_uri)
    assert (replay.status_code, replay.json()["status"]) == (400, "BAD_AUTH_CODE"), "single use"
    bad_client = token(**code_grant, redirect_uri=redirect_uri, client_id="other")
    assert bad_client.json()["status"] == "BAD_CLIENT_ID"

    assert api(hubspot, "GET", DEALS, tokens["access_token"]).status_code == 200
    info = requests.get(f"{hubspot.url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5)
    assert info.json()["hub_id"] == 12345678 and info.json()["token_type"] == "access"

    hubspot.expire_tokens()
    expired = api(hubspot, "GET", DEALS, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert "expired" in expired.json()["message"]

    refreshed = token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["refresh_token"] != tokens["refresh_token"], "a new refresh token each time"
    assert api(hubspot, "GET", DEALS, refreshed["access_token"]).ok
    again = token(
        "/oauth/v3/token", grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert again.status_code == 200, "the old refresh token stays valid; v3 path works too"
    bad = token(grant_type="refresh_token", refresh_token="nope")
    assert (bad.status_code, bad.json()["status"]) == (400, "BAD_REFRESH_TOKEN")
    assert hubspot.token_requests == 7


def test_access_tokens_expire_after_ttl_of_the_clock(hubspot, clock):
    hubspot.access_token_ttl = 60
    form = {"client_id": "fake-hs-client", "client_secret": SECRET}
    authorize = requests.get(
        f"{hubspot.url}/oauth/authorize",
        params={"client_id": "fake-hs-client", "redirect_uri": "http://cb"},
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://cb"}
    tokens = requests.post(f"{hubspot.url}/oauth/v1/token", data={**form, **grant}, timeout=5)
    access = tokens.json()["access_token"]
    assert tokens.json()["expires_in"] == 60
    clock.advance(seconds=59)
    assert api(hubspot, "GET", DEALS, access).status_code == 200
    clock.advance(seconds=2)
    assert api(hubspot, "GET", DEALS, access).status_code == 401


# Rate limits and failures --------------------------------------------------------------------


def test_rate_limit_next_answers_429_with_headers(hubspot, clock):
    hubspot.rate_limit_next(1, retry_after=3)
    hubspot.rate_limit_next(1, policy="DAILY")
    limited = api(hubspot, "GET", DEALS)
    assert limited.status_code == 429
    assert limited.json()["errorType"] == "RATE_LIMIT"
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert limited.headers["Retry-After"] == "3"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    daily = api(hubspot, "GET", DEALS)
    assert daily.json()["policyName"] == "DAILY" and "Retry-After" not in daily.headers
    assert daily.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    after = api(hubspot, "GET", DEALS)
    assert after.status_code == 200 and after.headers["X-HubSpot-RateLimit-Remaining"] == "187"
    assert after.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "649997"
    clock.advance(seconds=10)
    fresh = api(hubspot, "GET", DEALS)
    assert fresh.headers["X-HubSpot-RateLimit-Remaining"] == "189", "a new 10 s window"
    hubspot.rate_limit_max, hubspot.enforce_rate_limit = 2, True
    assert api(hubspot, "GET", DEALS).status_code == 200
    assert api(hubspot, "GET", DEALS).status_code == 429, "enforced: over the max in the window"


def test_generic_failure_switches_still_apply(hubspot):
    hubspot.server.fail_next(1, status=502)
    assert api(hubspot, "GET", DEALS).status_code == 502
    assert api(hubspot, "GET", DEALS).status_code == 200


# Webhooks ------------------------------------------------------------------------------------


def verify_hubspot_v3(
    secret, method, uri, raw_body: bytes, ts_ms: str, sig: str, now_ms: int
) -> bool:
    """The reference's receiver-side check, written independently of the fake."""
    if not ts_ms or now_ms - int(ts_ms) > 300_000:
        return False
    src = f"{method}{uri}{raw_body.decode('utf-8')}{ts_ms}".encode()
    calc = base64.b64encode(hmac.new(secret.encode(), src, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(calc, sig)


def test_webhook_request_is_signed_with_v3(hubspot):
    events = [
        hubspot.event(
            "deal.propertyChange", 512, property_name="dealstage", property_value="closedwon"
        ),
        hubspot.event("deal.creation", 513),
    ]
    assert events[0]["eventId"] != events[1]["eventId"]
    assert events[0]["portalId"] == 12345678 and events[0]["objectId"] == 512
    assert events[0]["propertyValue"] == "closedwon" and events[0]["changeSource"] == "CRM_UI"
    with FakeHttpServer() as receiver:
        receiver.route("POST", "/hubspot/webhook", (204, {}, None))
        url = f"{receiver.url}/hubspot/webhook?db=odoo"
        answer = hubspot.webhook_request(url, SECRET, events)
    assert answer.status_code == 204
    (request,) = receiver.requests
    headers = request.headers
    assert headers["X-HubSpot-Signature-Version"] == "v3"
    assert request.json() == events, "the body is the JSON array of events"
    now_ms = int(time.time() * 1000)
    signature = headers["X-HubSpot-Signature-v3"]
    timestamp = headers["X-HubSpot-Request-Timestamp"]
    assert verify_hubspot_v3(SECRET, "POST", url, request.body, timestamp, signature, now_ms)
    assert not verify_hubspot_v3(
        "other-secret", "POST", url, request.body, timestamp, signature, now_ms
    )
    stale = now_ms + 301_000
    assert not verify_hubspot_v3(SECRET, "POST", url, request.body, timestamp, signature, stale)


# Seeds ---------------------------------------------------------------------------------------


def test_seed_demo_builds_a_consultancy(hubspot):
    ids = hubspot.seed_demo()
    deals = [hubspot.get("deals", deal_id)["properties"] for deal_id in hubspot.ids("deals")]
    won = [deal for deal in deals if deal["hs_is_closed_won"] == "true"]
    assert len(won) == 7 and len(deals) == 8, "6 won + the NEW-SKU won deal + one open deal"
    assert {deal["billing_model"] for deal in won} == {
        "Time and Materials",
        "Fixed Fee",
        "Retainer",
        "Milestones",
        "Mixed",
    }
    assert {deal["legal_entity"] for deal in deals} == {"Acme Consulting US", "Acme Consulting EU"}
    assert {deal["tax_treatment"] for deal in deals} == {"Domestic", "EU reverse charge"}
    assert any(deal.get("cap_amount") for deal in won) and any(
        deal.get("po_number") for deal in won
    )
    skus = {hubspot.get("products", p)["properties"]["hs_sku"] for p in hubspot.ids("products")}
    assert {"IMPL", "CONS-H", "SUP-RET", "TRAIN"} <= skus
    new_sku_lines = hubspot.associated_ids("deals", ids["deal_new_sku"], "line_items")
    assert hubspot.get("line_items", new_sku_lines[0])["properties"]["hs_sku"] == "NEW-SKU"
    assert hubspot.get("deals", ids["deal_open"])["properties"]["hs_is_closed"] == "false"
    assert len(hubspot.ids("companies")) == 4 and len(hubspot.ids("contacts")) >= 4
    for deal_id in hubspot.ids("deals"):
        assert 1 <= len(hubspot.associated_ids("deals", deal_id, "line_items")) <= 3


def test_seed_bulk_is_fast(hubspot):
    started = time.perf_counter()
    deal_ids = hubspot.seed_bulk(1000, legal_entity="Acme Consulting EU")
    assert time.perf_counter() - started < 2
    assert len(deal_ids) == 1000 and len(hubspot.ids("line_items")) == 3000
    assert hubspot.get("deals", deal_ids[-1])["properties"]["legal_entity"] == "Acme Consulting EU"
    won = search(hubspot, "deals", [where("hs_is_closed_won", "EQ", "true")])
    assert won.json()["total"] == 1000


def test_search_limit_answers_429_secondly_without_retry_after(hubspot, clock):
    hubspot.enforce_search_limit = True
    statuses = [search(hubspot, "deals", limit=1).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    rejected = search(hubspot, "deals", limit=1)
    assert rejected.status_code == 429 and "Retry-After" not in rejected.headers
    assert rejected.json()["policyName"] == "SECONDLY"
    assert hubspot.search_rejections == 2
    assert api(hubspot, "GET", DEALS).status_code == 200, "other calls are not searches"
    clock.advance(seconds=1)
    assert search(hubspot, "deals", limit=1).status_code == 200, "a second later"


def test_fail_searches_lets_some_through_then_fails(hubspot):
    hubspot.fail_searches(2, after=1, status=503)
    statuses = [search(hubspot, "deals", limit=1).status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
