"""A first HubSpot import completes unattended against a portal that enforces HubSpot's
limits: 5 searches per second per account (429 without Retry-After) and 190 calls per 10
seconds. The pull runs page job after page job in an Odoo process of its own, as the queue runs
them, until every deal is queued for its engagement, and prints its time.

10,000 deals by default (``CRM_IMPORT_DEALS`` scales it): about a minute here (54.8 s for the
pull on 2 shared cores), on the database the CRM integration tests share. The engagements of
such an import, to the last one, are the benchmark's (tests/benchmarks/test_crm_benchmark.py,
``make bench``).
"""

import json
import os

import pytest

from tests.fakes.hubspot import FakeHubSpot
from tests.integration.conftest import query
from tests.integration.test_queue_processes import setup

DEALS = int(os.environ.get("CRM_IMPORT_DEALS", "10000"))


@pytest.fixture
def hubspot_backend(crm_db):
    """The backend the test sets up; its jobs are removed and it is paused afterwards (the
    database is shared with the other CRM tests)."""
    created = {}
    yield created
    if created.get("id"):
        query(crm_db, "DELETE FROM connector_job WHERE backend_id = %s", (created["id"],))
        query(
            crm_db, "UPDATE connector_backend SET state = 'paused' WHERE id = %s", (created["id"],)
        )


def test_first_hubspot_import_of_10000_deals_completes_unattended(crm_db, hubspot_backend):
    with FakeHubSpot(port=0) as hubspot:
        hubspot.enforce_search_limit = True
        hubspot.enforce_rate_limit = True
        config = setup(
            crm_db,
            "crm_setup",
            hubspot.url,
            hubspot.client_id,
            hubspot.private_app_token,
            "hubspot",
        )
        hubspot_backend["id"] = config["backend_id"]
        deal_ids = hubspot.seed_bulk(DEALS, 3, **config["deal_fields"])
        hubspot.server.reset()
        result = setup(crm_db, "crm_pull_only", config["backend_id"])
        statuses = [request.status for request in hubspot.server.requests]
        searches = [r for r in hubspot.server.requests if r.path.endswith("/search")]
        print(
            f"\n[first import] {DEALS} HubSpot deals x 3 lines pulled and queued in "
            f"{result['seconds']:.1f} s ({DEALS / result['seconds']:.0f} deals/s): "
            f"{result['pages']} page jobs, {len(searches)} searches, {len(statuses)} API calls, "
            f"{statuses.count(429)} answered 429 ({hubspot.search_rejections} by the search "
            "limit, waited out)"
        )
    jobs = {(row["operation"], row["state"]): row for row in result["jobs"]}
    pulls = [row for (operation, _state), row in jobs.items() if operation == "stream.pull"]
    assert [row["state"] for row in pulls] == ["done"], pulls
    queued = jobs[("crm.engagement.create", "pending")]
    assert queued["count"] == DEALS, f"every won deal queued once: {queued}"
    assert result["distinct_deals"] == len(set(deal_ids)) == DEALS
    assert not json.loads(result["cursor_value"] or "{}").get("pull"), "the pull finished"
    assert result["cursor_date"] != "False", "the cursor moved to the newest deal"
    assert 429 not in [r.status for r in searches[:1]]
