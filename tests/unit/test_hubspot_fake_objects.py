"""The HubSpot fake must behave like the documented API: objects, search, batch, associations."""

from datetime import timedelta

import pytest

from tests.fakes.hubspot import CUSTOM_PIPELINE_ID, CUSTOM_STAGES
from tests.unit import hubspot_fake_support as support
from tests.unit.hubspot_fake_support import DEALS, START, api, ms, post, search, where

hubspot = support.hubspot  # a fixture
clock = support.clock  # a fixture


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


def test_line_item_amount_follows_hubspot_discount_rules(hubspot):
    """``discount`` is an amount off per unit; ``hs_discount_percentage`` a percentage of the
    line total whose discount is rounded to the cent; the percentage wins when both are set."""
    cases = [
        ({"quantity": "3", "price": "1200.00", "discount": "100"}, "3300.00", "300.00"),
        ({"quantity": "1", "price": "22.50", "hs_discount_percentage": "15"}, "19.12", "3.38"),
        ({"quantity": "10", "price": "234.56", "hs_discount_percentage": "20"}, "1876.48", None),
        (
            {"quantity": "2", "price": "100", "discount": "5", "hs_discount_percentage": "10"},
            "180.00",
            "20.00",
        ),
    ]
    for properties, amount, discount in cases:
        created = post(hubspot, "/crm/v3/objects/line_items", {"properties": properties}).json()
        stored = hubspot.get("line_items", created["id"])["properties"]
        assert stored["amount"] == amount, properties
        if discount:
            assert float(stored["hs_total_discount"]) == float(discount), properties
    line_id = created["id"]
    api(
        hubspot,
        "PATCH",
        f"/crm/v3/objects/line_items/{line_id}",
        json={"properties": {"hs_discount_percentage": ""}},
    )
    assert float(hubspot.get("line_items", line_id)["properties"]["amount"]) == 190.0, (
        "5 off per unit"
    )
