"""Crash recovery of the queue with real Odoo servers: SIGKILLed mid-batch, restarted, and long
jobs that outlive the lease. Nothing is lost, nothing runs twice, and work resumes within the
lease plus a few seconds (Odoo's cron threads alone would wait for their next minute)."""

import statistics
import time
from datetime import UTC, datetime, timedelta

from .conftest import query, wait_until
from .test_queue_processes import job_states, reset_queue, setup, traces

LEASE = 10  # seconds; the default is 30 (readme/CONFIGURE.md)
BUDGET = 2
RECOVERY_LIMIT = LEASE + 10


def utcnow():
    """Naive UTC, as Odoo stores datetimes (the runners set done_at from Python)."""
    return datetime.now(UTC).replace(tzinfo=None)


def claimed_by(db, backend_id, pid):
    """Running jobs claimed by the process ``pid`` (claims are host:pid:thread:nonce)."""
    rows = query(
        db,
        """SELECT id FROM connector_job WHERE backend_id = %s AND state = 'running'
           AND split_part(claimed_by, ':', 2) = %s""",
        (backend_id, str(pid)),
    )
    return [row[0] for row in rows]


def measure_recovery(db, backend_id, killed_at, orphans, limit):
    """Seconds from the kill to the next job done (by anyone), and to the last orphan done."""
    started = time.monotonic()
    next_done = orphans_done = None
    while time.monotonic() - started < limit + 20:
        elapsed = time.monotonic() - started
        if next_done is None and query(
            db,
            "SELECT 1 FROM connector_job WHERE backend_id = %s AND state = 'done' "
            "AND done_at > %s LIMIT 1",
            (backend_id, killed_at),
        ):
            next_done = elapsed
        if orphans_done is None and (
            not orphans
            or query(
                db,
                "SELECT count(*) FROM connector_job WHERE id = ANY(%s) AND state = 'done'",
                (orphans,),
            )[0][0]
            == len(orphans)
        ):
            orphans_done = elapsed
        if next_done is not None and orphans_done is not None:
            break
        time.sleep(0.2)
    return next_done, orphans_done


def test_repeated_sigkills_lose_nothing_duplicate_nothing_and_resume_within_the_lease(
    integration_db, servers
):
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend", 10, BUDGET, LEASE)
    running = {"a": servers(db, "a0", cron_threads=2), "b": servers(db, "b0", cron_threads=2)}
    time.sleep(3)  # both servers up, cron threads waiting
    total = 0

    def top_up(minimum=300, count=600):
        """Keep work queued for every kill, whatever the speed of this machine."""
        nonlocal total
        pending = job_states(db, backend_id).get("pending", 0)
        if pending < minimum:
            setup(db, "enqueue_trace", backend_id, count, 0.05, f"round{total}")
            total += count

    top_up()
    # Each round kills the server(s) holding a claim mid-batch, restarts them at once (a
    # supervisor would), and measures the recovery. "both": no server survives the kill.
    rounds = ["one", "one", "both", "one", "one"]
    results = []
    for number, kind in enumerate(rounds, start=1):
        top_up()
        holders = wait_until(
            lambda: [name for name, srv in running.items() if claimed_by(db, backend_id, srv.pid)],
            timeout=90,
            interval=0.05,
            message=f"a server holding a claim for kill {number}",
        )
        victims = list(running) if kind == "both" else holders[:1]
        pids = [running[name].pid for name in victims]
        killed_at = utcnow()
        for name in victims:
            running[name].kill()
        orphans = [job for pid in pids for job in claimed_by(db, backend_id, pid)]
        for name in victims:
            running[name] = servers(db, f"{name}{number}", cron_threads=2)
        next_done, orphans_done = measure_recovery(
            db, backend_id, killed_at, orphans, RECOVERY_LIMIT
        )
        results.append((number, kind, victims, len(orphans), next_done, orphans_done))
    wait_until(
        lambda: job_states(db, backend_id).get("done", 0) == total,
        timeout=600,
        message="all jobs done after the kills",
    )
    lines = [
        f"kill {n} ({kind}: {', '.join(v)}): {orphans} leased jobs orphaned; next job done "
        f"after {_s(nxt)}, orphans done after {_s(orph)}"
        for n, kind, v, orphans, nxt, orph in results
    ]
    recoveries = [r[5] for r in results if r[5] is not None]
    firsts = [r[4] for r in results if r[4] is not None]
    print(
        f"\n[integration] {len(rounds)} SIGKILLs during a batch of {total} jobs "
        f"(lease {LEASE} s, limit lease + 10 s = {RECOVERY_LIMIT} s):\n  "
        + "\n  ".join(lines)
        + (
            f"\n  kill -> next job done: median {statistics.median(firsts):.1f} s, "
            f"max {max(firsts):.1f} s; kill -> orphans done: median "
            f"{statistics.median(recoveries):.1f} s, max {max(recoveries):.1f} s"
            if firsts and recoveries
            else ""
        )
    )
    for number, _kind, _victims, orphans, next_done, orphans_done in results:
        assert orphans > 0, f"kill {number} must hit a claimed batch"
        assert next_done is not None and next_done <= RECOVERY_LIMIT, (
            f"kill {number}: the next job finished {_s(next_done)} after the kill "
            f"(limit {RECOVERY_LIMIT} s)"
        )
        assert orphans_done is not None and orphans_done <= RECOVERY_LIMIT, (
            f"kill {number}: the orphaned jobs finished {_s(orphans_done)} after the kill "
            f"(limit {RECOVERY_LIMIT} s)"
        )
    # 0 lost, 0 duplicated: every job's handler committed exactly once.
    per_job = {}
    for job_id, pid, *_ in traces(db):
        per_job.setdefault(job_id, []).append(pid)
    assert len(per_job) == total, f"{total - len(per_job)} jobs lost"
    duplicated = {job: pids for job, pids in per_job.items() if len(pids) > 1}
    assert not duplicated, f"jobs ran twice: {duplicated}"
    done_attempts = query(
        db,
        """SELECT count(*), count(DISTINCT a.job_id) FROM connector_job_attempt a
           JOIN connector_job j ON j.id = a.job_id
           WHERE j.backend_id = %s AND a.outcome = 'done'""",
        (backend_id,),
    )[0]
    assert done_attempts == (total, total), f"one successful attempt per job: {done_attempts}"
    reclaimed = query(
        db,
        """SELECT count(*) FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
           WHERE j.backend_id = %s AND a.outcome = 'lease_expired'""",
        (backend_id,),
    )[0][0]
    orphaned = sum(r[3] for r in results)
    assert reclaimed == orphaned, f"{orphaned} leased jobs orphaned, {reclaimed} reclaimed"
    pids = {pid for pids_ in per_job.values() for pid in pids_}
    assert len(pids) >= 4, f"the killed and the restarted servers all ran jobs: {pids}"


def test_a_job_longer_than_the_lease_runs_once(integration_db, servers):
    """The runner's heartbeat renews its claim during one long job, and the job's row lock
    keeps it from being reclaimed: neither it nor the rest of its batch runs twice."""
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend", 10, BUDGET, LEASE)
    servers(db, "long_a", cron_threads=2)
    servers(db, "long_b", cron_threads=2)
    time.sleep(3)
    long_sleep = LEASE * 2.5
    setup(db, "enqueue_long_batch", backend_id, long_sleep, 4)
    claim = wait_until(
        lambda: query(
            db,
            "SELECT claimed_by, started_at FROM connector_job WHERE idempotency_key = 'long' "
            "AND state = 'running'",
        ),
        timeout=60,
        interval=0.1,
        message="the long job to start",
    )[0]
    time.sleep(LEASE * 1.5)  # past the first lease: only renewals keep the claim
    renewed = query(
        db, "SELECT lease_until, renewed_at FROM connector_job_lease WHERE name = %s", (claim[0],)
    )
    wait_until(
        lambda: job_states(db, backend_id).get("done", 0) == 5,
        timeout=long_sleep + 60,
        message="the long job and the others to finish",
    )
    expired = query(
        db,
        """SELECT count(*) FROM connector_job_attempt a JOIN connector_job j ON j.id = a.job_id
           WHERE j.backend_id = %s AND a.outcome = 'lease_expired'""",
        (backend_id,),
    )[0][0]
    runs = len(traces(db))
    print(
        f"\n[integration] a {long_sleep:.0f} s job with an {LEASE} s lease: claim renewed until "
        f"{renewed[0][0] if renewed else '?'} (claimed at {claim[1]}); {expired} reclaimed, "
        f"{runs} executions for 5 jobs"
    )
    assert renewed and renewed[0][0] > claim[1] + timedelta(seconds=LEASE), (
        "the heartbeat renewed the claim's lease"
    )
    batch = query(
        db,
        "SELECT count(DISTINCT a.worker) FROM connector_job_attempt a JOIN connector_job j "
        "ON j.id = a.job_id WHERE j.backend_id = %s",
        (backend_id,),
    )[0][0]
    print(f"[integration] the 5 jobs ran under {batch} claim(s)")
    assert expired == 0, "nothing was reclaimed from a live runner"
    assert runs == 5, f"every job ran once ({runs} executions)"


def _s(seconds):
    return "never" if seconds is None else f"{seconds:.1f} s"
