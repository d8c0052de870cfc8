"""The project's fakes answer the vendors' official SDKs as the real APIs do.

Not part of the suite (the SDKs are not its dependencies): run it by hand in a virtualenv of its
own, never beside Odoo::

    python3 -m venv /tmp/sdkvenv
    /tmp/sdkvenv/bin/pip install simple-salesforce hubspot-api-client cryptography
    /tmp/sdkvenv/bin/python tests/fakes/sdk_conformance.py
"""

import sys
from pathlib import Path

# The repository root, not this folder (whose hubspot/ package is the fake, not the SDK).
sys.path[0] = str(Path(__file__).resolve().parents[2])
import hubspot  # noqa: E402
import requests  # noqa: E402
from hubspot.crm.deals import ApiException as DealsApiException  # noqa: E402
from hubspot.crm.deals import PublicObjectSearchRequest  # noqa: E402
from hubspot.crm.line_items import BatchReadInputSimplePublicObjectId, SimplePublicObjectId  # noqa: E402
from simple_salesforce import Salesforce  # noqa: E402

from tests.fakes.hubspot import FakeHubSpot  # noqa: E402
from tests.fakes.salesforce import FakeSalesforce  # noqa: E402


class LoopbackSession(requests.Session):
    """simple-salesforce builds https:// URLs from the instance: the fake speaks http."""

    def request(self, method, url, *args, **kwargs):
        return super().request(
            method, url.replace("https://127.0.0.1", "http://127.0.0.1"), *args, **kwargs
        )


ok = []
with FakeSalesforce() as fake:
    fake.child_page_size = 2
    ids = fake.seed_demo()
    lines = [
        {"product_id": ids["CONS-H"], "quantity": n + 1, "unit_price": 22.5, "discount": 15.0}
        for n in range(5)
    ]
    opp = fake.add_opportunity(ids["globex"], name="Five lines", lines=lines)
    sf = Salesforce(
        instance_url=fake.url,
        session_id=fake.issue_access_token(),
        version="62.0",
        session=LoopbackSession(),
    )
    res = sf.query_all(
        f"SELECT Id, (SELECT Id, Quantity, UnitPrice, Discount, TotalPrice FROM OpportunityLineItems) FROM Opportunity WHERE Id = '{opp}'"
    )
    rel = res["records"][0]["OpportunityLineItems"]
    assert rel["done"] is False and rel["totalSize"] == 5 and len(rel["records"]) == 2, rel
    more = sf.query_more(rel["nextRecordsUrl"], identifier_is_url=True)
    assert len(more["records"]) == 2 and more["done"] is False, more
    last = sf.query_more(more["nextRecordsUrl"], identifier_is_url=True)
    assert len(last["records"]) == 1 and last["done"] is True
    assert {r["TotalPrice"] for r in rel["records"]} == {19.13, 38.25}, rel["records"]
    ok.append(
        "simple-salesforce: query_all + query_more through nested child nextRecordsUrl, TotalPrice"
    )
    page = sf.query("SELECT Id FROM Opportunity")
    assert page["done"] is True
    assert sf.restful("limits")["DailyApiRequests"]["Max"] == 100000
    assert sf.Opportunity.get(opp)["Name"] == "Five lines"
    ok.append("simple-salesforce: query, limits, sobject get")

with FakeHubSpot() as fake:
    ids = fake.seed_demo()
    deal = fake.add_deal(
        dealname="Discounts",
        company_id=ids["company_globex"],
        line_items=[
            {
                "product_id": ids["product_train"],
                "quantity": "3",
                "price": "1200.00",
                "discount": "100",
            },
            {
                "product_id": ids["product_train"],
                "quantity": "1",
                "price": "22.50",
                "hs_discount_percentage": "15",
            },
        ],
    )
    client = hubspot.Client.create(access_token=fake.private_app_token, host=fake.url)
    found = client.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}
                    ]
                }
            ],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            properties=["dealname", "amount"],
            limit=200,
            after="0",
        )
    )
    assert found.total >= 9 and found.results[0].properties["dealname"], found
    ok.append("hubspot-api-client: deals search (filters, sorts, paging model)")
    line_ids = fake.associated_ids("deals", deal, "line_items")
    batch = client.crm.line_items.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in line_ids],
            properties=[
                "price",
                "quantity",
                "discount",
                "hs_discount_percentage",
                "amount",
                "hs_total_discount",
                "hs_pre_discount_amount",
            ],
            properties_with_history=[],
        )
    )
    amounts = sorted(r.properties["amount"] for r in batch.results)
    assert amounts == ["19.12", "3300.00"], amounts
    ok.append(
        "hubspot-api-client: line item batch read with HubSpot's discount properties "
        + str(amounts)
    )
    fake.enforce_search_limit = True
    fake.search_rate_limit = 1
    statuses = []
    for _ in range(3):
        try:
            client.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=1))
            statuses.append(200)
        except DealsApiException as exc:
            statuses.append(exc.status)
            assert "SECONDLY" in exc.body and "Retry-After" not in (exc.headers or {}), exc.body
    assert 429 in statuses, statuses
    ok.append(f"hubspot-api-client: search limit answers {statuses} (429 SECONDLY, no Retry-After)")
print("\n".join(ok))
