"""Steps run in an Odoo process of their own, for the integration tests and the benchmarks:

    python3 odoo_steps.py <odoo config> <database> <step> [args]

The test process never imports Odoo; every step commits like a real caller and prints one JSON
line (with the peak resident memory of its process).
"""

import json
import resource
import sys
import time

import crm_steps
import ic_steps
import psa_steps
from barrier import wait_at


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
            "backend_type": "test",
            "user_id": user.id,
            "batch_size": int(batch_size),
            "max_attempts": 5,
        }
    )
    backend.action_activate()
    # Start with the runner crons idle: the enqueue's trigger wakes them.
    return backend.id


def enqueue_trace(env, backend_id, count, sleep="0", prefix="trace"):
    backend = env["connector.backend"].browse(int(backend_id))
    specs = [
        {
            "operation": "test.trace",
            "payload": {"sleep": float(sleep)},
            "idempotency_key": f"{prefix}:{i}",
        }
        for i in range(int(count))
    ]
    jobs = env["connector.job"]._enqueue_many(backend, specs)
    return len(jobs)


def enqueue_long_batch(env, backend_id, long_sleep, shorts):
    """One long traced job followed by short ones, queued together (one claim takes them all)."""
    backend = env["connector.backend"].browse(int(backend_id))
    specs = [
        {
            "operation": "test.trace",
            "payload": {"sleep": float(long_sleep)},
            "idempotency_key": "long",
        }
    ]
    specs += [
        {"operation": "test.trace", "payload": {"sleep": 0.01}, "idempotency_key": f"short:{i}"}
        for i in range(int(shorts))
    ]
    return len(env["connector.job"]._enqueue_many(backend, specs))


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


def claim_conflict(env, backend_id):
    """Two runners claiming at the same moment (REPEATABLE READ): this one's snapshot predates
    the other's committed claim, so its first claim hits a serialization failure; the runner's
    retry (a fresh transaction) then claims other jobs."""
    from odoo import SUPERUSER_ID, api, fields
    from odoo.modules.registry import Registry

    from odoo.addons.connector_base.models.connector_job_claim import ClaimConflict

    Job = env["connector.job"]
    backend = env["connector.backend"].browse(int(backend_id))
    specs = [{"operation": "noop", "idempotency_key": f"conflict:{i}"} for i in range(6)]
    Job._enqueue_many(backend, specs, trigger=False)
    env.cr.commit()
    now = fields.Datetime.now()
    env.cr.execute("SELECT count(*) FROM connector_job")  # this runner's snapshot
    with Registry(env.cr.dbname).cursor() as other_cr:
        other = api.Environment(other_cr, SUPERUSER_ID, {})
        _claim, other_rows = other["connector.job"]._claim_batch(
            other["connector.backend"].browse(backend.id), "other-runner", 3, now
        )
        other_cr.commit()
    conflict = None
    try:
        Job._claim_batch(backend, "this-runner", 3, now)
    except ClaimConflict as exc:
        conflict = str(exc).splitlines()[0]
    claimed = Job._claim_with_retries(backend, "this-runner", now)
    env.cr.commit()
    return {
        "conflict": conflict,
        "other": sorted(row["id"] for row in other_rows),
        "retried": sorted(row["id"] for row in claimed[1]) if claimed else None,
    }


def webhook_key(env, backend_id, secret):
    """Set the backend's webhook secret; return its webhook key."""
    backend = env["connector.backend"].browse(int(backend_id))
    backend._set_secret("webhook_secret", secret)
    return backend.webhook_key


# --------------------------------------------------------------------------------------------
# Billing (ps_billing_rules)
# --------------------------------------------------------------------------------------------


def _billing_setup(env):
    """A chart of accounts, a service product, an employee, one shared project; idempotent."""
    from odoo import Command

    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    product = env["product.product"].search([("default_code", "=", "BENCH-TM")], limit=1)
    if not product:
        product = env["product.product"].create(
            {
                "name": "Consulting (bench)",
                "default_code": "BENCH-TM",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "timesheet",
                "service_tracking": "no",
                "list_price": 150.0,
                "uom_id": env.ref("uom.product_uom_hour").id,
                "uom_po_id": env.ref("uom.product_uom_hour").id,
                "taxes_id": [Command.clear()],
            }
        )
    employee = env["hr.employee"].search([("name", "=", "Bench Consultant")], limit=1) or env[
        "hr.employee"
    ].create({"name": "Bench Consultant", "hourly_cost": 50.0})
    project = env["project.project"].search([("name", "=", "Bench delivery")], limit=1) or env[
        "project.project"
    ].create({"name": "Bench delivery", "allow_timesheets": True})
    partner = env["res.partner"].search([("name", "=", "Bench Customer")], limit=1) or env[
        "res.partner"
    ].create({"name": "Bench Customer", "is_company": True})
    return product, employee, project, partner


def make_contracts(env, count, lines_each, governed="1", prefix="C"):
    """``count`` confirmed contracts of one T&M line at 150/h with ``lines_each`` approved
    timesheet lines of 1.5 h each (dated last month); governed or plain Odoo orders."""
    import datetime

    from odoo import Command

    product, employee, project, partner = _billing_setup(env)
    count, lines_each, governed = int(count), int(lines_each), governed == "1"
    started = time.perf_counter()
    orders = env["sale.order"].create(
        [
            {
                "partner_id": partner.id,
                "client_order_ref": f"{prefix}-{index}",
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": 1000,
                            "price_unit": 150.0,
                            "ps_billing_model": "tm" if governed else False,
                        }
                    )
                ],
            }
            for index in range(count)
        ]
    )
    orders.action_confirm()
    day = datetime.date.today().replace(day=1) - datetime.timedelta(days=20)
    env["account.analytic.line"].create(
        [
            {
                "name": f"Work {index}",
                "employee_id": employee.id,
                "project_id": project.id,
                "so_line": order.order_line.id,
                "unit_amount": 1.5,
                "date": day,
                "ps_approval_state": "approved",
            }
            for order in orders
            for index in range(lines_each)
        ]
    )
    return {"orders": orders.ids, "seconds": time.perf_counter() - started}


def bill_with_run(env, order_ids_json, reverse="0", barrier=""):
    """A billing run over these contracts (period: last month), processed like the cron does
    (commit per contract); ``reverse`` walks the contracts in the opposite order. With a
    ``barrier`` path, the run starts once both runs (``reverse`` 0 and 1) are ready: a process
    that loaded Odoo late does not find the other one's work already done."""
    import datetime

    order_ids = json.loads(order_ids_json)
    period_end = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    run = env["ps.billing.run"].create(
        {
            "name": "Concurrent run",
            "period_end": period_end,
            "invoice_date": period_end,
            "order_ids": [(6, 0, order_ids)],
        }
    )
    run.action_start()
    if reverse == "1":
        run.pending_groups = list(reversed(run.pending_groups))
    env.cr.commit()
    wait_at(barrier, reverse)
    trace = []
    started = time.perf_counter()
    run.with_context(ps_billing_trace=trace)._process(time_budget=None)
    env.cr.commit()
    return {
        "run": run.id,
        "seconds": time.perf_counter() - started,
        "invoices": len(run.invoice_ids),
        "amount": sum(run.invoice_ids.mapped("amount_untaxed")),
        "trace": trace,
        "concurrent_skips": len(run.line_ids.filtered(lambda line: line.reason == "concurrent")),
    }


def bill_natively(env, order_ids_json):
    """Odoo's own invoicing of plain orders: one _create_invoices call (one invoice per order)."""
    orders = env["sale.order"].browse(json.loads(order_ids_json))
    started = time.perf_counter()
    invoices = orders._create_invoices(grouped=True)
    env.cr.commit()
    return {
        "seconds": time.perf_counter() - started,
        "invoices": len(invoices),
        "amount": sum(invoices.mapped("amount_untaxed")),
    }


def kpi_dataset(env, lines, employees="50"):
    """``lines`` approved timesheet lines over 12 months and ``employees`` employees, written in
    SQL (the point is the reporting, not the ORM), then the KPI refresh and a grouped read timed."""
    import datetime

    _product, _employee, project, _partner = _billing_setup(env)
    lines, employees = int(lines), int(employees)
    staff = env["hr.employee"].create(
        [{"name": f"KPI consultant {i}", "hourly_cost": 40 + i} for i in range(employees)]
    )
    order = env["sale.order"].search([("ps_governed", "=", True), ("state", "=", "sale")], limit=1)
    company = env.company
    first_day = datetime.date.today().replace(day=1) - datetime.timedelta(days=365)
    started = time.perf_counter()
    env.cr.execute(
        """INSERT INTO account_analytic_line (company_id, name, date, amount, unit_amount,
               project_id, employee_id, so_line, ps_approval_state, ps_billing_state, ps_rate,
               ps_rate_currency_id, ps_cost_rate, ps_cost_amount, create_date, write_date)
           SELECT %(company)s, 'KPI work', %(first)s::date + (g %% 365), 0, 1 + (g %% 8) / 2.0,
                  %(project)s, (%(staff)s::int[])[1 + g %% %(n)s], %(so_line)s, 'approved',
                  CASE WHEN g %% 3 = 0 THEN 'billed' ELSE 'unbilled' END, 150.0, %(currency)s,
                  50.0, 50.0 * (1 + (g %% 8) / 2.0), now(), now()
           FROM generate_series(1, %(lines)s) g""",
        {
            "company": company.id,
            "first": first_day,
            "project": project.id,
            "staff": staff.ids,
            "n": employees,
            "so_line": order.order_line[:1].id or None,
            "currency": company.currency_id.id,
            "lines": lines,
        },
    )
    env.cr.commit()
    inserted = time.perf_counter() - started
    Fact = env["ps.kpi.fact"]
    started = time.perf_counter()
    facts = Fact._refresh(first_day, datetime.date.today())
    env.cr.commit()
    refresh = time.perf_counter() - started
    started = time.perf_counter()
    groups = Fact._read_group(
        [("period", ">=", first_day)],
        ["employee_id", "period:month"],
        [
            "billable_hours:sum",
            "capacity_hours:sum",
            "billed_value:sum",
            "standard_value:sum",
            "margin:sum",
        ],
    )
    read = time.perf_counter() - started
    started = time.perf_counter()
    dashboard = env["ps.kpi.dashboard"].create(
        {
            "date_from": first_day,
            "date_to": datetime.date.today(),
            "group_by": "employee_id",
            "refreshed": True,
        }
    )
    dashboard.action_compute()
    dashboard_seconds = time.perf_counter() - started
    return {
        "insert_seconds": inserted,
        "refresh_seconds": refresh,
        "facts": facts,
        "groups": len(groups),
        "read_group_seconds": read,
        "dashboard_seconds": dashboard_seconds,
    }


STEPS = {
    "make_backend": make_backend,
    "webhook_key": webhook_key,
    "claim_conflict": claim_conflict,
    "enqueue_trace": enqueue_trace,
    "enqueue_long_batch": enqueue_long_batch,
    "orm_create": orm_create,
    "enqueue": enqueue,
    "run": run,
    "make_contracts": make_contracts,
    "bill_with_run": bill_with_run,
    "bill_natively": bill_natively,
    "kpi_dataset": kpi_dataset,
    **crm_steps.STEPS,
    **psa_steps.STEPS,
    **ic_steps.STEPS,
}

if __name__ == "__main__":
    main()
