"""The Salesforce client's data calls against the fake org, over real HTTP on loopback
(engine/salesforce.py): queries and their paging, deleted records, collection updates, limits
and failures. Authentication is in test_crm_salesforce_auth.py."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from odoo.addons.connector_base.engine.errors import (
    TRANSIENT,
    BusinessError,
    TransientError,
)
from odoo.addons.connector_crm.engine import deals
from odoo.addons.connector_crm.engine import salesforce as sf

from tests.unit import crm_client_fixtures
from tests.unit import salesforce_client_fixtures as sf_fixtures
from tests.unit.crm_client_fixtures import (
    Recorder,
    api_requests,
)

http_clients = crm_client_fixtures.http_clients  # a fixture of both client test files

# Fixtures shared by the Salesforce client test files.
key_pair = sf_fixtures.key_pair
fake_sf = sf_fixtures.fake_sf
sf_settings = sf_fixtures.sf_settings
sf_client = sf_fixtures.sf_client
client = sf_fixtures.client


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
