"""The HubSpot fake must behave like the documented API, or client tests prove nothing."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.hubspot import CUSTOM_PIPELINE_ID, CUSTOM_STAGES, FakeHubSpot

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


# Objects -------------------------------------------------------------------------------------


def test_list_pages_with_after_and_returns_strings(hubspot):
    ids = [hubspot.add_company(name=f"Company {n}", domain=f"c{n}.com") for n in range(25)]
    hubspot.archive("companies", ids[0])
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 10, "properties": "name,industry"}
        if after:
            params["after"] = after
        body = api(hubspot, "GET", "/crm/v3/objects/companies", params=params).json()
        seen += [record["id"] for record in body["results"]]
        pages += 1
        if not body.get("paging"):
            break
        after = body["paging"]["next"]["after"]
    assert seen == ids[1:] and pages == 3, "archived objects are not listed; paging stops"
    record = body["results"][-1]
    assert record["properties"]["industry"] is None, "unset requested properties are null"
    assert set(record["properties"]) >= {"name", "domain", "createdate", "hs_lastmodifieddate"}
    assert all(isinstance(v, str) for v in record["properties"].values() if v is not None)
    archived = api(hubspot, "GET", "/crm/v3/objects/companies", params={"archived": "true"})
    assert [r["id"] for r in archived.json()["results"]] == [ids[0]]
    assert archived.json()["results"][0]["archived"] is True


def test_get_one_with_associations_and_404(hubspot):
    company = hubspot.add_company(name="Globex")
    contact = hubspot.add_contact(company, email="h@globex.com")
    product = hubspot.add_product("Training day", sku="TRAIN", price="1200.00")
    deal = hubspot.add_deal(
        dealname="Globex training",
        company_id=company,
        contact_ids=[contact],
        line_items=[{"product_id": product, "quantity": 2, "price": "1200.00"}],
    )
    params = {"associations": "companies,contacts,line_items", "properties": "hs_is_closed_won"}
    answer = api(hubspot, "GET", f"{DEALS}/{deal}", params=params).json()
    assert answer["properties"]["amount"] == "2400.00", "amount defaults to the line total"
    assert answer["properties"]["hs_is_closed_won"] == "true"
    associations = answer["associations"]
    assert associations["companies"] == {"results": [{"id": company, "type": "deal_to_company"}]}
    assert associations["contacts"]["results"][0]["id"] == contact
    (line,) = associations["line_items"]["results"]
    line_item = hubspot.get("line_items", line["id"])["properties"]
    assert line_item["hs_sku"] == "TRAIN" and line_item["name"] == "Training day", "as the product"
    assert line_item["quantity"] == "2", "numbers are stored as strings"
    missing = api(hubspot, "GET", "/crm/v3/objects/deals/999999")
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_patch_validates_and_recomputes_derived_properties(hubspot):
    deal = hubspot.add_deal(dealname="Acme")
    before = hubspot.get("deals", deal)["properties"]["hs_lastmodifieddate"]
    patched = api(
        hubspot, "PATCH", f"{DEALS}/{deal}", json={"properties": {"dealstage": "closedlost"}}
    )
    assert patched.status_code == 200
    properties = hubspot.get("deals", deal)["properties"]
    assert (properties["hs_is_closed"], properties["hs_is_closed_won"]) == ("true", "false")
    assert properties["hs_deal_stage_probability"] == "0.0"
    assert properties["hs_lastmodifieddate"] > before
    assert hubspot.writes == [("PATCH", "deals", deal, {"dealstage": "closedlost"})]

    def patch(**properties):
        return api(hubspot, "PATCH", f"{DEALS}/{deal}", json={"properties": properties})

    read_only = patch(hs_is_closed_won="true")
    assert read_only.status_code == 400 and read_only.json()["category"] == "VALIDATION_ERROR"
    hubspot.reject_properties = {"po_number"}
    rejected = patch(po_number="X")
    assert rejected.status_code == 400
    assert rejected.json()["errors"][0]["context"] == {"propertyName": ["po_number"]}
    assert len(hubspot.writes) == 1, "rejected writes change nothing"

    hubspot.update("deals", deal, dealstage="closedwon")
    assert hubspot.get("deals", deal)["properties"]["hs_is_closed_won"] == "true"


def test_modification_stamps_strictly_increase_with_a_frozen_clock(hubspot, clock):
    first = hubspot.add_company(name="A")
    second = hubspot.add_contact(email="b@example.com")
    hubspot.update("companies", first, name="A2")
    stamps = [
        hubspot.get("contacts", second)["properties"]["lastmodifieddate"],
        hubspot.get("companies", first)["properties"]["hs_lastmodifieddate"],
    ]
    assert stamps == ["2026-11-02T10:00:00.001Z", "2026-11-02T10:00:00.002Z"]
    assert hubspot.get("companies", first)["updatedAt"] == stamps[1]
    assert hubspot.get("companies", first)["createdAt"] == "2026-11-02T10:00:00.000Z"


# Search --------------------------------------------------------------------------------------


def test_search_filters_on_modification_time_in_ms_sorts_and_pages(hubspot, clock):
    deals = []
    for number in range(6):
        deals.append(hubspot.add_deal(dealname=f"Deal {number}", amount=str(1000 * number)))
        clock.advance(minutes=1)
    hubspot.update("deals", deals[0], dealname="Deal 0 changed")  # now the most recent
    since = START + timedelta(minutes=3)
    body = {
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealname"],
        "limit": 2,
    }
    modified_since = [where("hs_lastmodifieddate", "GTE", ms(since))]
    first = search(hubspot, "deals", modified_since, **body).json()
    assert first["total"] == 4 and first["paging"] == {"next": {"after": "2"}}
    second = search(hubspot, "deals", modified_since, **body, after="2").json()
    assert "paging" not in second, "no paging on the last page"
    assert [r["id"] for r in first["results"] + second["results"]] == [*deals[3:], deals[0]]

    iso = search(hubspot, "deals", [where("hs_lastmodifieddate", "GTE", since.isoformat())])
    assert iso.json()["total"] == 4, "ISO values work like epoch ms"
    by_amount = search(hubspot, "deals", sorts=["-amount"], limit=3).json()["results"]
    assert [r["properties"]["amount"] for r in by_amount] == ["5000", "4000", "3000"]


@pytest.mark.parametrize(
    ("search_filter", "expected"),
    [
        ({"operator": "EQ", "value": "globex"}, ["Globex"]),
        ({"operator": "NEQ", "value": "Globex"}, ["Initech", "Umbrella"]),
        ({"operator": "IN", "values": ["initech", "umbrella"]}, ["Initech", "Umbrella"]),
        ({"operator": "NOT_IN", "values": ["Initech"]}, ["Globex", "Umbrella"]),
        ({"operator": "CONTAINS_TOKEN", "value": "umbr*"}, ["Umbrella"]),
    ],
)
def test_search_operators_on_text(hubspot, search_filter, expected):
    for name in ("Globex", "Initech", "Umbrella"):
        hubspot.add_company(name=name)
    answer = search(hubspot, "companies", [{"propertyName": "name", **search_filter}]).json()
    assert [r["properties"]["name"] for r in answer["results"]] == expected


def test_search_numbers_groups_presence_and_associations(hubspot):
    small = hubspot.add_deal(dealname="Small", amount="900")
    big = hubspot.add_deal(dealname="Big", amount="10000", po_number="PO-1")
    medium = hubspot.add_deal(dealname="Medium", amount="5000")

    def ids(*groups, object_type="deals"):
        return [r["id"] for r in search(hubspot, object_type, *groups).json()["results"]]

    assert ids([where("amount", "GT", "1000"), where("amount", "LT", "6000")]) == [medium]
    assert ids([where("amount", "LTE", 900)], [where("po_number", "HAS_PROPERTY")]) == [
        small,
        big,
    ], "groups are ORed, numbers compare as numbers"
    assert ids([where("amount", "BETWEEN", "900", highValue="5000")]) == [small, medium]
    product = hubspot.add_product("Implementation", sku="IMPL", price="100")
    deal = hubspot.add_deal(dealname="Lines", line_items=[{"product_id": product}] * 2)
    lines = ids([where("associations.deal", "EQ", deal)], object_type="line_items")
    assert lines == hubspot.associated_ids("deals", deal, "line_items") and len(lines) == 2


def test_search_limits_answer_400(hubspot):
    hubspot.seed_bulk(30, lines_per_deal=0)
    too_big = search(hubspot, "deals", limit=201)
    assert too_big.status_code == 400 and too_big.json()["category"] == "VALIDATION_ERROR"
    has_name = where("dealname", "HAS_PROPERTY")
    assert search(hubspot, "deals", *[[has_name]] * 6).status_code == 400, "max 5 groups"
    assert search(hubspot, "deals", [has_name] * 11).status_code == 400, "max 10 per group"
    assert search(hubspot, "deals", *[[has_name] * 9] * 3).status_code == 400, "max 25 in all"
    assert search(hubspot, "deals", [where("x", "LIKE", "1")]).status_code == 400

    hubspot.search_cap = 20
    last_page = search(hubspot, "deals", limit=10, after="10").json()
    assert last_page["total"] == 30 and last_page["paging"]["next"]["after"] == "20"
    capped = search(hubspot, "deals", limit=10, after="20")
    assert capped.status_code == 400 and capped.json()["category"] == "VALIDATION_ERROR"
    assert "limited to 20" in capped.json()["message"]


# Batch ---------------------------------------------------------------------------------------


def test_batch_read_and_update(hubspot):
    first = hubspot.add_deal(dealname="One", odoo_ref="SO001")
    second = hubspot.add_deal(dealname="Two")
    read = post(
        hubspot,
        f"{DEALS}/batch/read",
        {"properties": ["odoo_ref"], "inputs": [{"id": first}, {"id": second}]},
    )
    assert read.status_code == 200 and read.json()["status"] == "COMPLETE"
    assert [r["properties"]["odoo_ref"] for r in read.json()["results"]] == ["SO001", None]
    by_ref = {"idProperty": "odoo_ref", "inputs": [{"id": "SO001"}, {"id": "SO404"}]}
    partial = post(hubspot, f"{DEALS}/batch/read", by_ref)
    assert partial.status_code == 207, "unknown ids are a partial failure"
    assert [r["id"] for r in partial.json()["results"]] == [first]
    assert partial.json()["errors"][0]["context"] == {"ids": ["SO404"]}
    too_many = post(hubspot, f"{DEALS}/batch/read", {"inputs": [{"id": first}] * 101})
    assert too_many.status_code == 400

    inputs = [
        {"id": first, "properties": {"amount": "2000"}},
        {"id": second, "properties": {"amount": 3000}},
    ]
    updated = post(hubspot, f"{DEALS}/batch/update", {"inputs": inputs})
    assert updated.status_code == 200 and updated.json()["status"] == "COMPLETE"
    assert {"startedAt", "completedAt"} <= set(updated.json())
    assert [r["properties"]["amount"] for r in updated.json()["results"]] == ["2000", "3000"]
    assert [write[2] for write in hubspot.writes] == [first, second]


def test_batch_update_rejections_fail_the_batch_or_answer_207(hubspot):
    deals = [hubspot.add_deal(dealname=f"D{n}") for n in range(3)]
    hubspot.reject_properties = {"legal_entity"}
    inputs = [
        {"id": deals[0], "properties": {"amount": "1"}},
        {"id": deals[1], "properties": {"legal_entity": "Unknown entity"}},
        {"id": deals[2], "properties": {"amount": "3"}},
    ]
    whole = post(hubspot, f"{DEALS}/batch/update", {"inputs": inputs})
    assert whole.status_code == 400 and hubspot.writes == [], "without 207 mode nothing is applied"

    hubspot.batch_207 = True
    partial = post(hubspot, f"{DEALS}/batch/update", {"inputs": inputs})
    body = partial.json()
    assert partial.status_code == 207 and body["status"] == "COMPLETE"
    assert [r["id"] for r in body["results"]] == [deals[0], deals[2]]
    assert body["numErrors"] == 1 and body["errors"][0]["context"] == {"ids": [deals[1]]}
    assert body["errors"][0]["category"] == "VALIDATION_ERROR"
    assert hubspot.get("deals", deals[2])["properties"]["amount"] == "3"


def test_batch_upsert_by_unique_property_and_batch_create(hubspot):
    company = hubspot.add_company(name="Globex")
    url = f"{DEALS}/batch/upsert?idProperty=odoo_ref"
    created = post(hubspot, url, {"inputs": [{"id": "SO042", "properties": {"dealname": "Odoo"}}]})
    (result,) = created.json()["results"]
    assert created.status_code == 200 and result["new"] is True
    again = post(hubspot, url, {"inputs": [{"id": "SO042", "properties": {"amount": "10"}}]})
    (updated,) = again.json()["results"]
    assert (updated["id"], updated["new"]) == (result["id"], False)
    assert hubspot.get("deals", result["id"])["properties"]["odoo_ref"] == "SO042"
    duplicate = post(hubspot, url, {"inputs": [{"id": "SO1", "properties": {}}] * 2})
    assert duplicate.status_code == 400

    to_company = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}
    new_deal = {
        "properties": {"dealname": "New"},
        "associations": [{"to": {"id": company}, "types": [to_company]}],
    }
    batch = post(hubspot, f"{DEALS}/batch/create", {"inputs": [new_deal]})
    assert batch.status_code == 201
    new_id = batch.json()["results"][0]["id"]
    assert hubspot.associated_ids("deals", new_id, "companies") == [company]
    assert [write[0] for write in hubspot.writes] == ["POST", "PATCH", "POST"]


# Associations, pipelines, account ------------------------------------------------------------


def test_associations_v4_batch_read_and_single_object(hubspot):
    company = hubspot.add_company(name="Globex")
    with_company = hubspot.add_deal(dealname="A", company_id=company)
    alone = hubspot.add_deal(dealname="B")
    url = "/crm/v4/associations/deals/companies/batch/read"
    answer = post(hubspot, url, {"inputs": [{"id": with_company}, {"id": alone}]}).json()
    kinds = [{"category": "HUBSPOT_DEFINED", "typeId": 5, "label": None}]
    assert answer["status"] == "COMPLETE"
    assert answer["results"] == [
        {
            "from": {"id": with_company},
            "to": [{"toObjectId": int(company), "associationTypes": kinds}],
        }
    ], "inputs without associations are left out"
    assert post(hubspot, url, {"inputs": [{"id": alone}] * 1001}).status_code == 400
    back = api(hubspot, "GET", f"/crm/v4/objects/company/{company}/associations/deals").json()
    assert back["results"][0]["toObjectId"] == int(with_company)
    assert back["results"][0]["associationTypes"][0]["typeId"] == 6


def test_pipelines_and_won_stage_of_a_custom_pipeline(hubspot):
    pipelines = api(hubspot, "GET", "/crm/v3/pipelines/deals").json()["results"]
    default = next(p for p in pipelines if p["id"] == "default")
    stages = {stage["id"]: stage["metadata"] for stage in default["stages"]}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"
    custom = next(p for p in pipelines if p["id"] == CUSTOM_PIPELINE_ID)
    assert all(stage["id"].isdigit() for stage in custom["stages"])
    deal = hubspot.add_deal(
        dealname="Renewal", pipeline=CUSTOM_PIPELINE_ID, dealstage=CUSTOM_STAGES["won"]
    )
    assert hubspot.get("deals", deal)["properties"]["hs_is_closed_won"] == "true"
    hubspot.update("deals", deal, dealstage=CUSTOM_STAGES["lost"])
    assert hubspot.get("deals", deal)["properties"]["hs_is_closed_won"] == "false"


def test_account_details_and_daily_usage(hubspot):
    details = api(hubspot, "GET", "/account-info/v3/details").json()
    assert (details["portalId"], details["companyCurrency"], details["timeZone"]) == (
        12345678,
        "EUR",
        "Europe/Paris",
    )
    usage = api(hubspot, "GET", "/account-info/v3/api-usage/daily/private-apps").json()
    assert usage["results"][0]["currentUsage"] == 2 and usage["results"][0]["usageLimit"] == 650000


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
