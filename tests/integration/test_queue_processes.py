"""The queue under several real Odoo processes: concurrency, crash recovery, racing enqueues."""

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import _config, connect, query, wait_until

HERE = Path(__file__).parent


def step_command(dbname, step, *args):
    """The command running one step of odoo_steps.py in an Odoo process of its own."""
    return [sys.executable, str(HERE / "odoo_steps.py"), _config(), dbname, step, *map(str, args)]


def setup(dbname, step, *args):
    out = subprocess.run(step_command(dbname, step, *args), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data.get("result", data)


def reset_queue(dbname):
    query(dbname, "DELETE FROM connector_job")
    query(dbname, "DELETE FROM connector_test_record")
    query(dbname, "UPDATE connector_backend SET state = 'paused'")


def job_states(dbname, backend_id):
    return dict(
        query(
            dbname,
            "SELECT state, count(*) FROM connector_job WHERE backend_id = %s GROUP BY state",
            (backend_id,),
        )
    )


def traces(dbname):
    """(job id, pid, start, end) of every execution that committed."""
    return query(
        dbname, "SELECT job_ref, pid, t_start, t_end FROM connector_test_record WHERE job_ref > 0"
    )


def test_two_runners_drain_one_queue_exactly_once_and_overlap(integration_db, servers):
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend", 25, 3, 30)
    total = 1200
    a = servers(db, "runner_a")
    b = servers(db, "runner_b")
    time.sleep(3)  # both servers up, cron threads waiting
    setup(db, "enqueue_trace", backend_id, total, 0.004)
    wait_until(
        lambda: job_states(db, backend_id).get("done", 0) == total,
        timeout=240,
        message=f"{total} jobs done by two runners",
    )
    rows = traces(db)
    per_job = {}
    for job_id, *_ in rows:
        per_job[job_id] = per_job.get(job_id, 0) + 1
    assert len(per_job) == total, "every job ran"
    assert set(per_job.values()) == {1}, "no job ran twice"
    attempts = query(
        db,
        """SELECT count(*), count(DISTINCT job_id) FROM connector_job_attempt a
           JOIN connector_job j ON j.id = a.job_id WHERE j.backend_id = %s""",
        (backend_id,),
    )[0]
    assert attempts == (total, total), f"one attempt per job, got {attempts}"
    by_pid = {}
    for _job, pid, start, end in rows:
        first, last, count = by_pid.get(pid, (start, end, 0))
        by_pid[pid] = (min(first, start), max(last, end), count + 1)
    assert set(by_pid) == {a.pid, b.pid}, f"both server processes ran jobs: {by_pid.keys()}"
    for pid, (_first, _last, count) in by_pid.items():
        assert count >= total * 0.1, f"process {pid} ran only {count} jobs"
    # Overlap: a job of one process started while a job of the other was running, many times.
    spans = sorted((start, end, pid) for _job, pid, start, end in rows)
    overlapping = 0
    latest_end = {}
    for start, end, pid in spans:
        if any(other != pid and other_end > start for other, other_end in latest_end.items()):
            overlapping += 1
        latest_end[pid] = max(latest_end.get(pid, 0), end)
    print(
        f"\n[integration] {total} jobs, per process: "
        + ", ".join(f"pid {pid}: {c} jobs" for pid, (_f, _l, c) in by_pid.items())
        + f"; {overlapping} jobs started while the other process was running one"
    )
    assert overlapping >= total * 0.1, f"the runners did not overlap in time ({overlapping})"


def test_a_claim_that_conflicts_with_another_runners_is_retried(integration_db):
    """Two runners claiming at the same moment: the one whose snapshot predates the other's
    committed claim gets a serialization failure (REPEATABLE READ). It is retried in a fresh
    transaction and claims other jobs (and, when it keeps conflicting, the runner reports work
    remaining instead of "0 left": tests in addons/connector_base/tests/test_recovery.py)."""
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend", 3)
    result = setup(db, "claim_conflict", backend_id)
    assert result["conflict"] and "serialize" in result["conflict"], (
        f"the stale snapshot must conflict, got {result}"
    )
    assert result["retried"], f"the retry claimed nothing: {result}"
    assert not set(result["retried"]) & set(result["other"]), "no job claimed twice"
    print(
        f"\n[integration] claim conflict: {result['conflict']!r}; the retry claimed "
        f"{len(result['retried'])} other jobs"
    )


def _enqueue_same_key(config_path, dbname, backend_id, key, barrier, results, role):
    """One Odoo process inserting the same idempotency key as the other, at the same moment."""
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry
    from odoo.service.model import retrying

    odoo.tools.config.parse_config(["-c", config_path, "-d", dbname, "--log-level=warn"])
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("SELECT pg_backend_pid()")
        results[f"{role}_pid"] = cr.fetchone()[0]
        barrier.wait(timeout=60)  # both transactions open
        if role == "second":
            barrier.wait(timeout=60)  # the first one has inserted, not committed
        tries = []

        def enqueue():
            tries.append(1)
            return env["connector.job"]._enqueue_many(
                env["connector.backend"].browse(backend_id),
                [{"operation": "noop", "idempotency_key": key}],
                trigger=False,
            )

        if role == "second":
            # As every Odoo request is run: retried on serialization failures.
            job = retrying(enqueue, env)
            results["second_tries"] = len(tries)
        else:
            job = enqueue()
        if role == "first":
            barrier.wait(timeout=60)  # let the second insert now
            # Commit only once the second transaction is blocked on our uncommitted row.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with connect(dbname) as probe, probe.cursor() as pcr:
                    pcr.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                        (results["second_pid"],),
                    )
                    row = pcr.fetchone()
                if row and row[0] == "Lock":
                    results["second_was_blocked"] = True
                    break
                time.sleep(0.05)
        cr.commit()
        results[role] = job.ids


def test_racing_enqueues_of_one_key_create_one_job(integration_db):
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        results = manager.dict()
        barrier = ctx.Barrier(2)
        procs = [
            ctx.Process(
                target=_enqueue_same_key,
                args=(_config(), db, backend_id, "race:deal:1:v1", barrier, results, role),
            )
            for role in ("first", "second")
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=120)
            assert proc.exitcode == 0, f"{proc.name} failed"
        results = dict(results)
    count = query(
        db, "SELECT count(*) FROM connector_job WHERE idempotency_key = 'race:deal:1:v1'"
    )[0][0]
    assert results.get("second_was_blocked"), "the second insert must have waited on the first"
    assert count == 1, f"two racing transactions created {count} jobs"
    assert results["first"] == results["second"], "both callers get the same job back"
    print(
        f"\n[integration] racing enqueues -> one job {results['first']}; the second insert "
        f"waited on the first and took {results['second_tries']} tries (Odoo's retrying)"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(os.EX_USAGE)
