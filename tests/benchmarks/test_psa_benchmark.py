"""PSA connector benchmark: approved Harvest time pulled from the fake Harvest and imported as
timesheet lines (validation, pricing, bindings, audit, the queue's jobs), against the ORM's batch
create of the same lines with the same modules installed, in the same run. Run by ``make bench``,
not ``make test``.

Two volumes (``BENCH_PSA_SMALL`` then ``BENCH_PSA_ENTRIES``, each pulled by an Odoo process of
its own) show that memory stays flat with volume: pages are streamed, one per job. The fake
Harvest runs in this process; the Odoo steps reach it over loopback HTTP.
"""

import json
import os
import subprocess
from datetime import date

import pytest

from tests.fakes.harvest import FakeHarvest
from tests.integration.conftest import fresh_database
from tests.integration.test_queue_processes import step_command

ENTRIES = int(os.environ.get("BENCH_PSA_ENTRIES", "50000"))
SMALL = int(os.environ.get("BENCH_PSA_SMALL", str(max(ENTRIES // 5, 1000))))
TARGET_RATIO = 0.70  # of the ORM's batch create rate
MEMORY_GROWTH = 1.25  # peak memory at the large volume / at the small one
DAYS = 4001  # odd: both people every day, about 12 h each (the 24 h a day rule holds)


def step(db, name, *args):
    process = subprocess.run(
        step_command(db, name, *args), capture_output=True, text=True, timeout=7200
    )
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-4000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bench_db():
    with fresh_database("suite_bench_psa", "connector_psa") as dbname:
        yield dbname


def harvest_with(count, offset=0):
    """A fake Harvest with ``count`` approved entries; ``offset`` shifts its ids (two fakes must
    not share people's e-mails or project codes in one database)."""
    fake = FakeHarvest(account_id=424242, personal_access_token=f"bench-pat-{count}").start()
    fake.enforce_rate_limit = False  # the connector's own pace is measured, not Harvest's limit
    for index in range(offset):
        fake.add_project(fake.add_client(f"Other client {index}"), f"Other project {index}")
    fake.seed_bulk(count, spent_from=date(2014, 1, 1), days=DAYS)
    return fake


def entries_as_data(fake):
    """What the baseline creates: the fake's entries as plain data (as from a spreadsheet)."""
    store = fake.store
    rows = []
    for entry in store.time_entries.values():
        data = store.time_entry_json(entry)
        rows.append(
            {
                "id": data["id"],
                "email": store.users[entry["user_id"]]["email"],
                "user_id": str(entry["user_id"]),
                "project_id": str(entry["project_id"]),
                "task_id": str(entry["task_id"]),
                "task_name": data["task"]["name"],
                "date": str(entry["spent_date"]),
                "hours": float(data["hours"]),
                "rounded_hours": float(data["rounded_hours"]),
                "notes": entry["notes"],
                "billable_rate": float(data["billable_rate"] or 0),
                "cost_rate": float(data["cost_rate"] or 0),
            }
        )
    return rows


def setup_backend(db, name, fake):
    project = next(p for p in fake.store.projects.values() if (p["code"] or "").startswith("BULK"))
    emails = [u["email"] for u in fake.store.users.values() if u["email"].startswith("bulk")]
    return step(
        db,
        "psa_setup",
        name,
        fake.url,
        fake.account_id,
        fake.personal_access_token,
        project["code"],
        json.dumps(emails),
    )


def test_approved_time_import_against_the_orm(bench_db, tmp_path):
    db = bench_db
    small = harvest_with(SMALL)
    large = harvest_with(ENTRIES, offset=1)
    try:
        small_setup = setup_backend(db, "small", small)
        large_setup = setup_backend(db, "large", large)
        assert small_setup["linked"] == large_setup["linked"] >= 2
        data = tmp_path / "entries.json"
        data.write_text(json.dumps(entries_as_data(large)))

        # The ORM baseline brackets the connector's run (half before, half after): on a shared
        # machine the load drifts, and both figures then see the same conditions on average.
        half = ENTRIES // 2
        before = step(db, "psa_baseline", json.dumps(large_setup), data, 0, half)
        ours_small = step(db, "psa_connector", small_setup["backend_id"])
        requests_before = len(large.server.requests)
        ours = step(db, "psa_connector", large_setup["backend_id"])
        requests = len(large.server.requests) - requests_before
        after = step(db, "psa_baseline", json.dumps(large_setup), data, half, ENTRIES - half)
    finally:
        small.stop()
        large.stop()

    orm = {key: before[key] + after[key] for key in ("count", "seconds", "cpu")}
    rate = ENTRIES / ours["seconds"]
    orm_rate = orm["count"] / orm["seconds"]
    ratio = rate / orm_rate
    cpu_ratio = (ENTRIES / ours["cpu"]) / (orm["count"] / orm["cpu"])
    growth = ours["max_rss_mb"] / ours_small["max_rss_mb"]
    jobs = {}
    for row in ours["jobs"]:
        entry = jobs.setdefault(row["operation"], {"count": 0, "ms": 0.0, "states": {}})
        entry["count"] += row["count"]
        entry["ms"] += row["ms"]
        entry["states"][row["state"]] = row["count"]
    print(
        "\n".join(
            [
                "",
                "=== connector_psa benchmark ===",
                f"data      {ENTRIES} approved Harvest time entries (2 people, 1 project), fake "
                "Harvest on loopback, pages of 2000; 1 runner process",
                f"connector pull -> last line: {ours['seconds']:7.1f} s = {rate:7.1f} entries/s "
                f"({ours['lines']} lines, {ours['bindings']} bindings, {requests} API calls)",
                *(
                    f"          {op:22} {e['count']:5d} jobs "
                    f"{', '.join(f'{n} {s}' for s, n in sorted(e['states'].items()))}; "
                    f"{e['ms'] / 1000:6.1f} s in handlers"
                    for op, e in sorted(jobs.items())
                ),
                f"ORM       batch create of the same lines (batches of 500, same modules): "
                f"{orm['seconds']:7.1f} s = {orm_rate:7.1f} lines/s",
                f"ratio     connector / ORM = {ratio:.0%} (target >= {TARGET_RATIO:.0%}): "
                f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}; per CPU second of the Odoo "
                f"process: {cpu_ratio:.0%} (connector {ours['cpu']:.1f} s, ORM {orm['cpu']:.1f} s)",
                f"memory    peak RSS {ours_small['max_rss_mb']:.0f} MB at {SMALL} entries, "
                f"{ours['max_rss_mb']:.0f} MB at {ENTRIES} (x{growth:.2f}, target <= "
                f"x{MEMORY_GROWTH}): {'PASS' if growth <= MEMORY_GROWTH else 'FAIL'}",
                "",
            ]
        )
    )
    # Counts, not timings (machines are noisy): every entry became exactly one line.
    assert ours["lines"] == ours["distinct"] == ours["bindings"] == ENTRIES
    assert ours_small["lines"] == SMALL
    assert orm["count"] == ENTRIES
    # (The token's owner, "Api Owner", has no employee: its person job needs attention.)
    imports = {op: e for op, e in jobs.items() if op != "psa.person.sync"}
    assert set(imports) == {"stream.pull", "psa.time.batch"}, imports
    assert all(state == "done" for e in imports.values() for state in e["states"]), imports
