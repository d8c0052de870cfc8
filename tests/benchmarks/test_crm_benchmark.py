"""CRM connector benchmark: closed-won deals pulled from the fake Salesforce and turned into
engagements (customer, confirmed contract, project from the template) by the queue's two
runners, against the same records created directly with the ORM, one deal per transaction, in
the same run (the target: the connector at least as fast). Then a first HubSpot import of
10,000 deals through a fake enforcing HubSpot's search and 10-second limits, to the last
engagement. Run by ``make bench``, not ``make test``.

The fakes run in this process; the Odoo steps (processes of their own) reach them over loopback
HTTP. ``BENCH_CRM_DEALS`` and ``BENCH_CRM_HS_DEALS`` (0: skipped) scale the runs;
``BENCH_CRM_PROFILE`` names a file for a cProfile of the first runner.
"""

import json
import os
import subprocess
import time

import pytest

from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce
from tests.integration.conftest import fresh_database, query
from tests.integration.test_queue_processes import setup, step_command

DEALS = int(os.environ.get("BENCH_CRM_DEALS", "1000"))
HS_DEALS = int(os.environ.get("BENCH_CRM_HS_DEALS", "10000"))
LINES = 3
RUNNERS = 2  # connector_base's default number of queue-runner crons


def worker(db, name, *args):
    return subprocess.Popen(
        step_command(db, name, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def result_of(process):
    out, err = process.communicate(timeout=7200)
    assert process.returncode == 0, err[-4000:]
    result = json.loads(out.strip().splitlines()[-1])
    result["warnings"] = [line for line in err.splitlines() if " WARNING " in line][-20:]
    return result


def step(db, name, *args):
    return result_of(worker(db, name, *args))


def run_connector(db, backend_id, profile=""):
    """Pull then the runners until the queue is empty; what the connector made."""
    step(db, "crm_schedule_pull", backend_id)
    start_at = time.time() + 5  # every runner process has loaded its registry
    runners = [
        worker(db, "crm_run", start_at, profile if index == 0 else "") for index in range(RUNNERS)
    ]
    results = [result_of(process) for process in runners]
    ours = step(db, "crm_stats", backend_id, start_at)
    ours["drained_seconds"] = max(result["seconds"] for result in results)
    ours["split"] = [result["done"] for result in results]
    for line in (line for result in results for line in result["warnings"]):
        print(f"[runner] {line}")
    return ours


def job_lines(ours):
    jobs = {}
    for row in ours["jobs"]:
        entry = jobs.setdefault(row["operation"], {"count": 0, "ms": 0.0, "states": {}})
        entry["count"] += row["count"]
        entry["ms"] += row["ms"]
        entry["states"][row["state"]] = row["count"]
    lines = [
        f"          {operation:24} {entry['count']:5d} jobs "
        f"{', '.join(f'{n} {s}' for s, n in sorted(entry['states'].items()))}; "
        f"{entry['ms'] / 1000:6.1f} s in handlers, {entry['ms'] / max(entry['count'], 1):6.1f} ms/job"
        for operation, entry in sorted(jobs.items())
    ]
    return jobs, lines


@pytest.fixture(scope="module")
def bench_db():
    with fresh_database("suite_bench_crm", "connector_crm") as dbname:
        yield dbname


@pytest.fixture
def salesforce():
    fake = FakeSalesforce(port=0).start()
    yield fake
    fake.stop()


def deals_as_data(fake):
    """What the baseline creates: the deals as plain data (as from a spreadsheet)."""
    accounts = {record["Id"]: record for record in fake.records("Account")}
    lines = {}
    for line in fake.records("OpportunityLineItem"):
        lines.setdefault(line["OpportunityId"], []).append(line)
    deals = []
    for deal in fake.records("Opportunity"):
        account = accounts[deal["AccountId"]]
        deals.append(
            {
                "id": deal["Id"],
                "close_date": deal["CloseDate"],
                "account": {
                    "id": account["Id"],
                    "name": account["Name"],
                    "ref": account["AccountNumber"],
                },
                "lines": [
                    {
                        "code": line["ProductCode"],
                        "name": line["Name"],
                        "quantity": line["Quantity"],
                        "price_unit": line["UnitPrice"],
                        "discount": line.get("Discount") or 0.0,
                    }
                    # the connector orders a deal's lines by their CRM id
                    for line in sorted(lines[deal["Id"]], key=lambda line: line["Id"])
                ],
            }
        )
    return deals


def test_deals_to_engagements_against_the_orm(bench_db, salesforce, tmp_path):
    db = bench_db
    sf = salesforce
    config = setup(db, "crm_setup", sf.url, sf.client_id, sf.client_secret)
    for name, kind in config["writeback_fields"]:
        sf.add_field("Opportunity", name, kind)
    deal_ids = sf.seed_bulk(DEALS, LINES, **config["deal_fields"])
    deals_file = tmp_path / "deals.json"
    deals_file.write_text(json.dumps(deals_as_data(sf)))
    query(db, "UPDATE ir_cron SET active = false")  # nothing else competes for the machine

    # B: the same records with the ORM, one deal per transaction, first (A then runs on the
    # larger database).
    orm = step(db, "crm_baseline", json.dumps(config), deals_file)
    # A: pull, then the two runners until the queue is empty (engagements, write-back).
    requests_before = len(sf.server.requests)
    ours = run_connector(db, config["backend_id"], os.environ.get("BENCH_CRM_PROFILE", ""))
    requests = len(sf.server.requests) - requests_before

    a, b = ours["seconds"], orm["seconds"]
    rate, orm_rate = DEALS / a, DEALS / b
    jobs, lines = job_lines(ours)
    verdict = "PASS" if rate >= orm_rate else "FAIL"
    print(
        "\n".join(
            [
                "",
                "=== connector_crm benchmark ===",
                f"data      {DEALS} closed-won Salesforce deals x {LINES} lines, "
                f"{orm['partners']} accounts (fake org on loopback); {RUNNERS} runner processes",
                f"connector pull -> last engagement: {a:7.1f} s = {rate:5.1f} deals/s "
                f"({ours['confirmed']} confirmed contracts, {ours['with_project']} with a "
                f"project, {ours['tasks']} tasks; runners ran {' + '.join(map(str, ours['split']))} "
                f"jobs); queue drained incl. write-back of {ours['written_back']} deals: "
                f"{ours['drained_seconds']:.1f} s, {requests} API calls",
                *lines,
                f"ORM       same partners + contracts + confirmation, one deal per transaction: "
                f"{b:7.1f} s = {orm_rate:5.1f} deals/s ({orm['confirmed']} confirmed, "
                f"{orm['with_project']} with a project, {orm['tasks']} tasks)",
                f"ratio     connector / ORM = {rate / orm_rate:.2f}",
                f"target    connector >= the one-by-one ORM script: {verdict}",
                "",
            ]
        )
    )
    # Counts, not timings (machines are noisy): every deal became exactly one engagement.
    engagement = jobs.get("crm.engagement.create", {"count": 0, "states": {}})
    assert engagement["count"] == DEALS and engagement["states"] == {"done": DEALS}, engagement
    assert ours["duplicates"] == 0
    assert ours["orders"] == ours["confirmed"] == ours["with_project"] == DEALS
    assert ours["deal_bindings"] == DEALS
    assert ours["lines"] == orm["lines"] == DEALS * LINES
    assert orm["confirmed"] == orm["with_project"] == DEALS
    assert ours["tasks"] == orm["tasks"], "the same projects and tasks both ways"
    assert ours["amount"] == orm["amount"], "the same contract values both ways"
    won = query(
        db,
        "SELECT count(DISTINCT crm_deal_id) FROM sale_order WHERE crm_deal_id = ANY(%s)",
        (deal_ids,),
    )[0][0]
    assert won == DEALS


@pytest.mark.skipif(not HS_DEALS, reason="BENCH_CRM_HS_DEALS=0")
def test_first_hubspot_import_of_10000_deals_completes_unattended(bench_db):
    """A portal enforcing HubSpot's limits (5 searches per second, 190 calls per 10 s): the
    first import of every won deal to the last engagement, with the backend's defaults."""
    db = bench_db
    with FakeHubSpot(port=0) as hubspot:
        hubspot.enforce_search_limit = True
        hubspot.enforce_rate_limit = True
        config = setup(
            db,
            "crm_setup",
            hubspot.url,
            hubspot.client_id,
            hubspot.private_app_token,
            "hubspot",
        )
        started = time.perf_counter()
        hubspot.seed_bulk(HS_DEALS, LINES, **config["deal_fields"])
        seeded = time.perf_counter() - started
        query(db, "UPDATE ir_cron SET active = false")
        ours = run_connector(db, config["backend_id"])
        statuses = [request.status for request in hubspot.server.requests]
        jobs, lines = job_lines(ours)
        print(
            "\n".join(
                [
                    "",
                    "=== connector_crm: first HubSpot import ===",
                    f"data      {HS_DEALS} closed-won HubSpot deals x {LINES} lines, one company "
                    f"per 10 deals (seeded in {seeded:.0f} s); the fake enforces 5 searches/s "
                    "and 190 calls/10 s",
                    f"connector pull -> last engagement: {ours['seconds']:7.1f} s = "
                    f"{HS_DEALS / ours['seconds']:5.1f} deals/s with {RUNNERS} runners; "
                    f"{len(statuses)} API calls, {statuses.count(429)} answered 429 "
                    f"({hubspot.search_rejections} by the search limit)",
                    *lines,
                    "",
                ]
            )
        )
        engagement = jobs.get("crm.engagement.create", {"count": 0, "states": {}})
        assert engagement["states"] == {"done": HS_DEALS}, engagement
        assert set(jobs["stream.pull"]["states"]) == {"done"}, jobs["stream.pull"]
        assert ours["duplicates"] == 0
        assert ours["orders"] == ours["confirmed"] == HS_DEALS
