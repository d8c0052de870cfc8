"""The Salesforce fake stands in for a real org: SOQL, replication, writes, seeds."""

import time
from datetime import UTC, datetime, timedelta

import requests

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.salesforce import FakeSalesforce
from tests.unit import salesforce_fake_support as support
from tests.unit.salesforce_fake_support import FixedClock, api, query

keys = support.keys  # a fixture
sf = support.sf  # a fixture


# SOQL --------------------------------------------------------------------------------------------


def test_query_pages_with_batch_size(sf):
    for number in range(450):
        sf.add_account(Name=f"Customer {number:03d}")
    token = sf.issue_access_token()
    options = {"Sforce-Query-Options": "batchSize=200"}
    page = query(sf, "SELECT Id, Name FROM Account ORDER BY Name", token=token, headers=options)
    sizes, names = [], []
    while True:
        body = page.json()
        assert body["totalSize"] == 450, "totalSize is the full count on every page"
        sizes.append(len(body["records"]))
        names += [record["Name"] for record in body["records"]]
        if body["done"]:
            assert "nextRecordsUrl" not in body
            break
        assert body["nextRecordsUrl"].startswith("/services/data/v62.0/query/01gFAKE")
        page = requests.get(
            sf.url + body["nextRecordsUrl"], headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
    assert sizes == [200, 200, 50]
    assert names == sorted(names) and len(set(names)) == 450


def test_page_size_and_batch_size_minimum():
    with FakeSalesforce(page_size=3) as fake:
        for number in range(5):
            fake.add_account(Name=f"A{number}")
        body = query(
            fake, "SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=1"}
        )
        assert len(body.json()["records"]) == 3, "page_size wins; batchSize is clamped to >= 200"


def test_relationship_fields_and_child_subqueries(sf):
    ids = sf.seed_demo()
    orphan = sf.add_opportunity(None, name="No account", stage="Prospecting")
    soql = (
        "SELECT Id, Name, Account.Name, Owner.Email, Billing_Model__c, "
        "(SELECT Id, ProductCode, Quantity, UnitPrice, TotalPrice, Discount, Billing_Model__c "
        "FROM OpportunityLineItems ORDER BY SortOrder), "
        "(SELECT ContactId, Contact.Email, IsPrimary, Role FROM OpportunityContactRoles) "
        f"FROM Opportunity WHERE Id IN ('{ids['globex_consulting']}', '{orphan}') ORDER BY Name"
    )
    records = query(sf, soql).json()["records"]
    assert [record["Name"] for record in records] == ["Globex - Process consulting", "No account"]
    deal, lonely = records
    assert deal["attributes"]["type"] == "Opportunity"
    assert deal["Account"]["Name"] == "Globex GmbH"
    assert deal["Account"]["attributes"]["type"] == "Account"
    assert deal["Owner"]["Email"] == sf.username
    (line,) = deal["OpportunityLineItems"]["records"]
    assert (line["ProductCode"], line["Quantity"], line["UnitPrice"]) == ("CONS-H", 200.0, 150.0)
    assert line["TotalPrice"] == 28500.0, "qty * price * (1 - discount)"
    roles = deal["OpportunityContactRoles"]
    assert roles["totalSize"] == 2 and roles["done"] is True
    assert [role["IsPrimary"] for role in roles["records"]] == [True, False]
    assert roles["records"][0]["Contact"]["Email"] == "greta.keller@globex.example.de"
    assert lonely["Account"] is None, "a missing parent is null"
    assert lonely["OpportunityLineItems"] is None, "an empty child list is null"


def test_won_deals_closed_this_year(sf):
    ids = sf.seed_demo()
    sf.add_opportunity(ids["northwind"], name="Old deal", close_date="2025-12-31")
    soql = (
        "SELECT Id, Name FROM Opportunity WHERE IsWon = true AND CloseDate >= 2026-01-01 "
        "ORDER BY CloseDate"
    )
    names = [record["Name"] for record in query(sf, soql).json()["records"]]
    assert len(names) == 7, "six won deals and the NEW-SKU deal; not the open or the old one"
    assert names[0] == "Northwind - ERP implementation"
    assert "Umbrella - Phase 2" not in names and "Old deal" not in names


def test_where_on_system_modstamp_with_order_by(sf):
    clock = FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    sf.clock = clock
    account = sf.add_account(Name="Acme")
    first = sf.add_opportunity(account, name="First")
    clock.now += timedelta(days=1)
    second = sf.add_opportunity(account, name="Second")
    clock.now += timedelta(days=1)
    sf.update("Opportunity", first, NextStep="Invoice")  # moves First after Second
    assert sf.get("Opportunity", first)["SystemModstamp"] == "2026-01-03T09:00:00.000+0000"
    for literal in (
        "2026-01-02T00:00:00Z",
        "2026-01-02T00:00:00.000+0000",
        "2026-01-02T01:00:00+01:00",
    ):
        soql = (
            "SELECT Id, SystemModstamp FROM Opportunity "
            f"WHERE SystemModstamp >= {literal} ORDER BY SystemModstamp, Id"
        )
        ids = [record["Id"] for record in query(sf, soql).json()["records"]]
        assert ids == [second, first], literal
    stamps = [record["SystemModstamp"] for record in sf.records("Opportunity")]
    assert len(set(stamps)) == len(stamps), "stamps are unique even when the clock stands still"


def test_soql_operators_and_case_insensitive_names(sf):
    sf.seed_demo()
    cases = {
        "SELECT id FROM account WHERE name LIKE 'glob%'": 1,
        "SELECT Id FROM Account WHERE NOT (BillingCountry = 'United States')": 2,
        "SELECT Id FROM Account WHERE BillingCountry IN ('Germany', 'United Kingdom')": 2,
        "SELECT Id FROM Account WHERE BillingCountry NOT IN ('Germany') AND BillingState != null": 2,
        "SELECT Id FROM Opportunity WHERE Amount > 40000 OR Account.Name = 'initech ltd'": 4,
        "SELECT Id FROM Opportunity WHERE Cap_Amount__c = null": 5,
        "SELECT Id FROM Opportunity WHERE Name = 'Northwind - ERP implementation' LIMIT 1": 1,
    }
    for soql, expected in cases.items():
        body = query(sf, soql).json()
        assert body["totalSize"] == expected, soql
    assert query(sf, "SELECT COUNT() FROM Product2").json()["totalSize"] == 5
    stages = query(sf, "SELECT ApiName, IsWon FROM OpportunityStage WHERE IsClosed = true")
    assert {record["ApiName"] for record in stages.json()["records"]} == {
        "Closed Won",
        "Closed Lost",
    }


def test_soql_errors(sf):
    unknown_field = query(sf, "SELECT Id, Nope__c FROM Opportunity").json()[0]
    assert unknown_field["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c'" in unknown_field["message"]
    assert query(sf, "SELECT Id FROM Nothing").json()[0]["errorCode"] == "INVALID_TYPE"
    assert query(sf, "SELECT Id FROM Opportunity WHERE").json()[0]["errorCode"] == "MALFORMED_QUERY"
    # An unencoded "+" in the URL arrives as a space: Salesforce calls that malformed too.
    broken = query(sf, "SELECT Id FROM Account WHERE SystemModstamp > 2026-01-01T00:00:00 01:00")
    assert broken.status_code == 400 and broken.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_query_all_includes_deleted_records(sf):
    account = sf.add_account(Name="Acme")
    keep = sf.add_opportunity(account, name="Keep")
    drop = sf.add_opportunity(account, name="Drop")
    sf.delete("Opportunity", drop)
    soql = "SELECT Id, IsDeleted FROM Opportunity ORDER BY Name"
    assert [record["Id"] for record in query(sf, soql).json()["records"]] == [keep]
    both = query(sf, soql, path="/queryAll").json()["records"]
    assert [(record["Id"], record["IsDeleted"]) for record in both] == [(drop, True), (keep, False)]


def test_bulk_seed_and_query_are_fast(sf):
    started = time.perf_counter()
    ids = sf.seed_bulk(1000, Billing_Model__c="Fixed Fee")
    assert time.perf_counter() - started < 2, "seed_bulk must not be quadratic"
    assert len(ids) == 1000 and len(sf.records("OpportunityLineItem")) == 3000
    started = time.perf_counter()
    soql = (
        "SELECT Id, Account.Name, (SELECT Id, Quantity FROM OpportunityLineItems) "
        "FROM Opportunity WHERE Billing_Model__c = 'Fixed Fee'"
    )
    body = query(sf, soql).json()
    assert body["totalSize"] == 1000 and body["done"]
    assert all(record["OpportunityLineItems"]["totalSize"] == 3 for record in body["records"])
    assert time.perf_counter() - started < 2


# Replication -------------------------------------------------------------------------------------


def test_deleted_and_updated_endpoints(sf):
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    sf.clock = clock
    account = sf.add_account(Name="Acme")
    gone = sf.add_opportunity(account, name="Gone")
    clock.now += timedelta(hours=1)
    sf.delete("Opportunity", gone)
    window = {"start": "2026-03-01T00:00:00+00:00", "end": "2026-03-02T00:00:00Z"}
    body = api(sf, "GET", "/sobjects/Opportunity/deleted/", params=window).json()
    assert body["deletedRecords"] == [{"id": gone, "deletedDate": "2026-03-01T13:00:00.000+0000"}]
    assert body["latestDateCovered"] == "2026-03-02T00:00:00.000+0000"
    assert body["earliestDateAvailable"] <= "2026-03-01T00:00:00.000+0000", "nothing purged"
    sf.earliest_deleted_available = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    body = api(sf, "GET", "/sobjects/Opportunity/deleted/", params=window).json()
    assert body["earliestDateAvailable"] == "2026-03-01T06:00:00.000+0000", "deletes were lost"
    backwards = api(
        sf, "GET", "/sobjects/Opportunity/deleted/", params=dict(window, end=window["start"])
    )
    assert backwards.status_code == 400
    assert backwards.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    updated = api(sf, "GET", "/sobjects/Account/updated/", params=window).json()
    assert updated["ids"] == [account]


# Writes ------------------------------------------------------------------------------------------


def test_sobject_crud(sf):
    created = api(sf, "POST", "/sobjects/Account", json={"Name": "Acme", "Phone": "555"})
    assert created.status_code == 201
    account = created.json()["id"]
    assert created.json() == {"id": account, "success": True, "errors": []}
    assert len(account) == 18 and account.startswith("001")
    assert (
        api(sf, "PATCH", f"/sobjects/Account/{account}", json={"Phone": "556"}).status_code == 204
    )
    fetched = api(sf, "GET", f"/sobjects/Account/{account}").json()
    assert fetched["Phone"] == "556" and fetched["attributes"]["type"] == "Account"
    with_id = api(sf, "PATCH", f"/sobjects/Account/{account}", json={"Id": account, "Name": "X"})
    assert with_id.status_code == 400
    missing = api(sf, "GET", "/sobjects/Account/001000000000000AAA")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    no_name = api(sf, "POST", "/sobjects/Opportunity", json={"Name": "X", "StageName": "Nope"})
    assert no_name.status_code == 400
    assert api(sf, "DELETE", f"/sobjects/Account/{account}").status_code == 204
    assert [write[:3] for write in sf.writes] == [
        ("POST", "Account", account),
        ("PATCH", "Account", account),
        ("DELETE", "Account", account),
    ]


def test_line_change_updates_the_opportunity(sf):
    ids = sf.seed_demo()
    deal = sf.get("Opportunity", ids["northwind_erp"])
    line = sf.records("OpportunityLineItem")[0]
    assert line["OpportunityId"] == deal["Id"]
    sf.update("OpportunityLineItem", line["Id"], Quantity=2)
    after = sf.get("Opportunity", deal["Id"])
    assert after["Amount"] == deal["Amount"] + 60000.0, "Amount is the sum of the lines"
    assert after["SystemModstamp"] > deal["SystemModstamp"], "so incremental sync sees it"


def test_upsert_by_external_id(sf):
    path = "/sobjects/Account/Odoo_Id__c/RES-42"
    created = api(sf, "PATCH", path, json={"Name": "Acme"})
    assert created.status_code == 201 and created.json()["created"] is True
    updated = api(sf, "PATCH", path, json={"Phone": "555"})
    assert updated.status_code == 200 and updated.json()["created"] is False
    assert updated.json()["id"] == created.json()["id"]
    assert sf.get("Account", created.json()["id"])["Phone"] == "555"
    sf.upsert_204 = True
    assert api(sf, "PATCH", path, json={"Phone": "556"}).status_code == 204
    sf.add_account(Name="Duplicate", Odoo_Id__c="RES-42")
    duplicates = api(sf, "PATCH", path, json={"Phone": "557"})
    assert duplicates.status_code == 300 and len(duplicates.json()) == 2
    assert api(sf, "PATCH", "/sobjects/Account/Nope__c/1", json={}).status_code == 404


def test_composite_collection_partial_failure_and_all_or_none(sf):
    account = sf.add_account(Name="Acme")
    first = sf.add_opportunity(account, name="First")
    second = sf.add_opportunity(account, name="Second")
    sf.reject_fields = {"Billing_Model__c"}

    def patch(all_or_none):
        records = [
            {"attributes": {"type": "Opportunity"}, "id": first, "NextStep": "Invoice"},
            {"attributes": {"type": "Opportunity"}, "id": second, "Billing_Model__c": "X"},
        ]
        body = {"allOrNone": all_or_none, "records": records}
        response = api(sf, "PATCH", "/composite/sobjects", json=body)
        assert response.status_code == 200
        return response.json()

    results = patch(all_or_none=True)
    assert [result["success"] for result in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert results[1]["errors"][0]["fields"] == ["Billing_Model__c"]
    assert sf.get("Opportunity", first).get("NextStep") is None, "nothing written"
    assert sf.writes == []
    results = patch(all_or_none=False)
    assert [result["success"] for result in results] == [True, False]
    assert results[0] == {"id": first, "success": True, "errors": []}
    assert sf.get("Opportunity", first)["NextStep"] == "Invoice"
    assert sf.writes == [("PATCH", "Opportunity", first, {"NextStep": "Invoice"})]
    too_many = {"records": [{"id": first, "NextStep": "x"}] * 201}
    assert api(sf, "PATCH", "/composite/sobjects", json=too_many).status_code == 400


def test_composite_request_with_references_and_rollback(sf):
    subrequests = [
        {
            "method": "POST",
            "url": "/services/data/v62.0/sobjects/Account",
            "referenceId": "newAccount",
            "body": {"Name": "Acme"},
        },
        {
            "method": "POST",
            "url": "/services/data/v62.0/sobjects/Contact",
            "referenceId": "newContact",
            "body": {"LastName": "Doe", "AccountId": "@{newAccount.id}"},
        },
    ]
    body = api(sf, "POST", "/composite", json={"compositeRequest": subrequests}).json()
    statuses = [item["httpStatusCode"] for item in body["compositeResponse"]]
    assert statuses == [201, 201]
    contact = sf.get("Contact", body["compositeResponse"][1]["body"]["id"])
    assert contact["AccountId"] == body["compositeResponse"][0]["body"]["id"]
    failing = [*subrequests[:1], {**subrequests[1], "body": {"FirstName": "No last name"}}]
    body = api(
        sf, "POST", "/composite", json={"allOrNone": True, "compositeRequest": failing}
    ).json()
    assert [item["httpStatusCode"] for item in body["compositeResponse"]] == [400, 400]
    assert body["compositeResponse"][0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert len(sf.records("Account")) == 1, "the first subrequest was rolled back"


# Seeds and callouts ------------------------------------------------------------------------------


def test_seed_demo_shape(sf):
    ids = sf.seed_demo()
    deals = sf.records("Opportunity")
    assert len(deals) == 8
    assert sum(deal["IsWon"] for deal in deals) == 7
    assert {deal["Billing_Model__c"] for deal in deals} >= {
        "Time and Materials",
        "Fixed Fee",
        "Retainer",
        "Milestones",
        "Mixed",
    }
    assert sf.get("Opportunity", ids["umbrella_phase2"])["IsClosed"] is False
    codes = {line["ProductCode"] for line in sf.records("OpportunityLineItem")}
    assert codes == {"IMPL", "CONS-H", "SUP-RET", "TRAIN", "NEW-SKU"}
    erp = sf.get("Opportunity", ids["northwind_erp"])
    assert erp["Amount"] == 63600.0 and erp["Legal_Entity__c"] == "Acme Consulting US"


def test_flow_callout_sends_the_shared_secret():
    with FakeHttpServer() as receiver, FakeSalesforce() as sf:
        receiver.route("POST", "/connector/webhook", (200, {}, {"ok": True}))
        response = sf.flow_callout(
            f"{receiver.url}/connector/webhook", "s3cret", {"opportunityId": "006x"}
        )
    assert response.status_code == 200
    (request,) = receiver.requests
    assert request.headers["X-Connector-Flow-Secret"] == "s3cret"
    assert request.json() == {"opportunityId": "006x"}


def test_sub_query_results_beyond_a_batch_are_paged_with_their_own_next_records_url(sf):
    sf.child_page_size = 2
    account = sf.add_account(Name="Globex")
    product = sf.add_product("Consulting", "CONS-H", list_price=150.0)
    lines = [{"product_id": product, "quantity": n + 1, "unit_price": 150.0} for n in range(5)]
    sf.add_opportunity(account, name="Five lines", lines=lines)
    page = query(sf, "SELECT Id, (SELECT Quantity FROM OpportunityLineItems) FROM Opportunity")
    children = page.json()["records"][0]["OpportunityLineItems"]
    assert (children["totalSize"], children["done"], len(children["records"])) == (5, False, 2)
    quantities = [line["Quantity"] for line in children["records"]]
    url = children["nextRecordsUrl"]
    while url:
        batch = api(sf, "GET", url.removeprefix("/services/data/v62.0")).json()
        quantities += [line["Quantity"] for line in batch["records"]]
        url = batch.get("nextRecordsUrl")
    assert sorted(quantities) == [1, 2, 3, 4, 5]


def test_an_expired_query_locator_is_refused(sf):
    sf.page_size = 200
    sf.seed_bulk(250, lines_per_deal=0)
    locator = query(sf, "SELECT Id FROM Opportunity").json()["nextRecordsUrl"]
    sf.expire_query_locators()
    answer = api(sf, "GET", locator.removeprefix("/services/data/v62.0"))
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_line_total_price_is_rounded_half_up(sf):
    account = sf.add_account(Name="Globex")
    product = sf.add_product("Training", "TRAIN", list_price=22.5)
    line = {"product_id": product, "quantity": 1, "unit_price": 22.5, "discount": 15.0}
    sf.add_opportunity(account, name="Rounding", lines=[line])
    [stored] = sf.records("OpportunityLineItem")
    assert stored["TotalPrice"] == 19.13  # 19.125 rounded half up, as Salesforce shows it
