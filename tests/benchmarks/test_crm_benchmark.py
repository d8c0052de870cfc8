"""CRM connector benchmark: closed-won deals pulled from the fake Salesforce and turned into
engagements (customer, confirmed contract, project from the template), against the same records
created directly with the ORM in the same run. Run by ``make bench``, not ``make test``.

The fake Salesforce runs in this process; the Odoo steps (processes of their own) reach it over
loopback HTTP. ``BENCH_CRM_DEALS`` scales the run down for a quick check.
"""

import json
import os
import subprocess

import pytest

from tests.fakes.salesforce import FakeSalesforce
from tests.integration.conftest import fresh_database, query
from tests.integration.test_queue_processes import setup, step_command

DEALS = int(os.environ.get("BENCH_CRM_DEALS", "1000"))
LINES = 3
TARGET_RATE = 10.0  # deals per second
TARGET_OVERHEAD = 0.40  # share of the connector's time not spent creating the records


def step(db, name, *args):
    process = subprocess.run(
        step_command(db, name, *args), capture_output=True, text=True, timeout=3600
    )
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


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

    # B: the same records with the ORM, first (A then runs on the larger database).
    orm = step(db, "crm_baseline", json.dumps(config), deals_file)
    # A: pull, then the queue until it is empty (deal syncs, engagements, write-back).
    requests_before = len(sf.server.requests)
    ours = step(db, "crm_connector", config["backend_id"], os.environ.get("BENCH_CRM_PROFILE", ""))
    requests = len(sf.server.requests) - requests_before

    a, b = ours["seconds"], orm["seconds"]
    rate = DEALS / a
    overhead = (a - b) / a
    jobs = {}
    for row in ours["jobs"]:
        entry = jobs.setdefault(row["operation"], {"count": 0, "ms": 0.0, "states": {}})
        entry["count"] += row["count"]
        entry["ms"] += row["ms"]
        entry["states"][row["state"]] = row["count"]
    job_lines = [
        f"          {operation:24} {entry['count']:5d} jobs "
        f"{', '.join(f'{n} {s}' for s, n in sorted(entry['states'].items()))}; "
        f"{entry['ms'] / 1000:6.1f} s in handlers, {entry['ms'] / max(entry['count'], 1):6.1f} ms/job"
        for operation, entry in sorted(jobs.items())
    ]
    print(
        "\n".join(
            [
                "",
                "=== connector_crm benchmark ===",
                f"data      {DEALS} closed-won Salesforce deals x {LINES} lines, "
                f"{orm['partners']} accounts (fake org on loopback); 1 runner process",
                f"connector pull -> last engagement: {a:7.1f} s = {rate:5.1f} deals/s "
                f"({ours['confirmed']} confirmed contracts, {ours['with_project']} with a "
                f"project, {ours['tasks']} tasks); queue drained incl. write-back of "
                f"{ours['written_back']} deals: {ours['drained_seconds']:.1f} s, "
                f"{requests} API calls",
                *job_lines,
                f"ORM       same partners + contracts + confirmation: {b:7.1f} s = "
                f"{DEALS / b:5.1f} deals/s ({orm['confirmed']} confirmed, "
                f"{orm['with_project']} with a project, {orm['tasks']} tasks)",
                f"overhead  (connector - ORM) / connector = {overhead:.0%}",
                f"targets   >= {TARGET_RATE:.0f} deals/s: "
                f"{'PASS' if rate >= TARGET_RATE else 'FAIL'} | overhead <= "
                f"{TARGET_OVERHEAD:.0%}: {'PASS' if overhead <= TARGET_OVERHEAD else 'FAIL'}",
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
