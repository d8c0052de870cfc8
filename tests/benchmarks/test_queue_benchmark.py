"""Queue benchmark: enqueue and processing rates of no-op jobs, against a baseline measured in
the same run (plain ORM creates of a trivial model). Run by ``make bench``, not ``make test``.

No-op jobs take the path of real jobs: claim (SKIP LOCKED, lease), savepoint, handler dispatch,
state change with fencing, attempt row, commit per job.
"""

import json
import os
import subprocess
import time

import pytest

from tests.integration.conftest import fresh_database, query
from tests.integration.test_queue_processes import setup, step_command

JOBS = int(os.environ.get("BENCH_JOBS", "20000"))
DRAIN_JOBS = int(os.environ.get("BENCH_DRAIN_JOBS", "100000"))


def _config():
    return os.environ["SUITE_ODOO_CONFIG"]


def worker(db, step, *args):
    return subprocess.Popen(
        step_command(db, step, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def result_of(process):
    out, err = process.communicate(timeout=3600)
    assert process.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


def step(db, name, *args):
    return result_of(worker(db, name, *args))


def drain(db, runners):
    start_at = time.time() + 3  # let every process load its registry first
    processes = [worker(db, "run", start_at) for _ in range(runners)]
    results = [result_of(p) for p in processes]
    done = sum(r["done"] for r in results)
    seconds = max(r["seconds"] for r in results)
    return done, seconds, results


@pytest.fixture(scope="module")
def bench_db():
    with fresh_database("suite_bench", "connector_base_test,ps_billing_rules") as dbname:
        yield dbname


def test_queue_throughput(bench_db):
    db = bench_db
    backend_id = setup(db, "make_backend", 100, 10, 300)
    query(db, "UPDATE ir_cron SET active = false")  # nothing else competes for the machine
    lines = []

    baseline = step(db, "orm_create", JOBS)
    orm_rate = JOBS / baseline["seconds"]
    lines.append(f"baseline  ORM create of {JOBS} trivial records: {orm_rate:8.0f} records/s")

    enqueued = step(db, "enqueue", backend_id, JOBS, "one")
    enqueue_rate = JOBS / enqueued["seconds"]
    lines.append(
        f"enqueue   {JOBS} no-op jobs in batches of 1000: {enqueue_rate:8.0f} jobs/s "
        f"({enqueue_rate / orm_rate:.2f}x the ORM baseline)"
    )

    done, seconds, _ = drain(db, 1)
    assert done == JOBS, f"one runner ran {done} of {JOBS} jobs"
    one_rate = done / seconds
    lines.append(
        f"process   1 runner : {one_rate:8.0f} jobs/s, {1000 / one_rate:.2f} ms per job "
        f"({one_rate / orm_rate:.2f}x the ORM create rate)"
    )

    step(db, "enqueue", backend_id, JOBS, "two")
    done, seconds, results = drain(db, 2)
    assert done == JOBS, f"two runners ran {done} of {JOBS} jobs"
    two_rate = done / seconds
    split = " + ".join(str(r["done"]) for r in results)
    lines.append(
        f"process   2 runners: {two_rate:8.0f} jobs/s ({split}), {two_rate / one_rate:.2f}x one runner"
    )
    states = dict(query(db, "SELECT state, count(*) FROM connector_job GROUP BY state"))
    assert states == {"done": 2 * JOBS}, f"every job done exactly once: {states}"
    attempts = query(db, "SELECT count(*) FROM connector_job_attempt")[0][0]
    assert attempts == 2 * JOBS, "one attempt per job"

    step(db, "enqueue", backend_id, DRAIN_JOBS, "drain")
    done, seconds, results = drain(db, 1)
    assert done == DRAIN_JOBS
    rss = results[0]["max_rss_mb"]
    lines.append(
        f"drain     {DRAIN_JOBS} queued jobs with 1 runner: {done / seconds:8.0f} jobs/s, "
        f"peak resident memory {rss:.0f} MB"
    )

    print("\n" + "\n".join(["", "=== connector_base queue benchmark ===", *lines, ""]))
    print(
        "targets: >= 500 jobs/s one runner | two runners >= 1.3x | enqueue >= 2000 jobs/s | "
        "100k drain < 400 MB"
    )
    assert one_rate >= 500, f"one runner: {one_rate:.0f} jobs/s < 500"
    assert two_rate >= 1.3 * one_rate, f"two runners only {two_rate / one_rate:.2f}x one"
    assert enqueue_rate >= 2000, f"enqueue: {enqueue_rate:.0f} jobs/s < 2000"
    assert rss < 400, f"draining {DRAIN_JOBS} jobs peaked at {rss:.0f} MB"
