"""Steps run in an Odoo process of their own, for the integration tests and the benchmarks:

    python3 odoo_steps.py <odoo config> <database> <step> [args]

The test process never imports Odoo; every step commits like a real caller and prints one JSON
line (with the peak resident memory of its process).
"""

import json
import resource
import sys
import time


def main():
    config_path, dbname, command, *args = sys.argv[1:]
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", config_path, "-d", dbname, "--log-level=warn"])
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = STEPS[command](env, *args)
        cr.commit()
    if not isinstance(result, dict):
        result = {"result": result}
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def make_backend(env, batch_size="50", budget="3", lease="8"):
    """An active generic backend whose integration user is a Connector User; fast leases."""
    ICP = env["ir.config_parameter"]
    ICP.set_param("connector_base.runner_time_budget", budget)
    ICP.set_param("connector_base.lease_seconds", lease)
    ICP.set_param("web.base.url.freeze", "True")
    user = env["res.users"].create(
        {
            "name": "Integration runner",
            "login": f"integration_{env['res.users'].search_count([])}",
            "groups_id": [
                (
                    6,
                    0,
                    [
                        env.ref("base.group_user").id,
                        env.ref("connector_base.group_connector_user").id,
                    ],
                )
            ],
        }
    )
    backend = env["connector.backend"].create(
        {
            "name": "Integration",
            "user_id": user.id,
            "batch_size": int(batch_size),
            "max_attempts": 5,
        }
    )
    backend.action_activate()
    # Start with the runner crons idle: the enqueue's trigger wakes them.
    return backend.id


def enqueue_trace(env, backend_id, count, sleep="0"):
    backend = env["connector.backend"].browse(int(backend_id))
    specs = [
        {
            "operation": "test.trace",
            "payload": {"sleep": float(sleep)},
            "idempotency_key": f"trace:{i}",
        }
        for i in range(int(count))
    ]
    jobs = env["connector.job"]._enqueue_many(backend, specs)
    return len(jobs)


def orm_create(env, count, chunk="1000"):
    """Baseline: plain ORM create of a trivial model, committed per chunk."""
    count, chunk = int(count), int(chunk)
    Record = env["connector.test.record"]
    started = time.perf_counter()
    for offset in range(0, count, chunk):
        Record.create(
            [{"name": f"r{offset + i}", "value": i} for i in range(min(chunk, count - offset))]
        )
        env.cr.commit()
    return {"count": count, "seconds": time.perf_counter() - started}


def enqueue(env, backend_id, count, prefix, chunk="1000"):
    """Durable enqueue of no-op jobs in batches (one commit per batch, as a pull would)."""
    count, chunk = int(count), int(chunk)
    backend = env["connector.backend"].browse(int(backend_id))
    Job = env["connector.job"]
    started = time.perf_counter()
    for offset in range(0, count, chunk):
        specs = [
            {"operation": "noop", "idempotency_key": f"{prefix}:{offset + i}"}
            for i in range(min(chunk, count - offset))
        ]
        Job._enqueue_many(backend, specs, trigger=False)
        env.cr.commit()
    return {"count": count, "seconds": time.perf_counter() - started}


def run(env, start_at="0"):
    """A queue runner: the cron entry point, called again while it reports remaining work."""
    while time.time() < float(start_at):  # several runners start together
        time.sleep(0.001)
    Job = env["connector.job"]
    started = time.perf_counter()
    done = 0
    while True:
        ran = Job._cron_process_queue(time_budget=10)
        env.cr.commit()
        done += ran
        if not ran:
            break
    return {"done": done, "seconds": time.perf_counter() - started, "started": started}


def webhook_key(env, backend_id, secret):
    """Set the backend's webhook secret; return its webhook key."""
    backend = env["connector.backend"].browse(int(backend_id))
    backend._set_secret("webhook_secret", secret)
    return backend.webhook_key


STEPS = {
    "make_backend": make_backend,
    "webhook_key": webhook_key,
    "enqueue_trace": enqueue_trace,
    "orm_create": orm_create,
    "enqueue": enqueue,
    "run": run,
}

if __name__ == "__main__":
    main()
