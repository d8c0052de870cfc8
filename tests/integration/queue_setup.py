"""Prepare the integration database from an Odoo environment: run as a script in its own
process (``python3 queue_setup.py <config> <db> <command> [args]``), so that the test process
never imports Odoo and every write is committed like a real caller would."""

import json
import sys


def main():
    config_path, dbname, command, *args = sys.argv[1:]
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", config_path, "-d", dbname, "--log-level=warn"])
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = COMMANDS[command](env, *args)
        cr.commit()
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


COMMANDS = {"make_backend": make_backend, "enqueue_trace": enqueue_trace}

if __name__ == "__main__":
    main()
