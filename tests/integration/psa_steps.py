"""PSA connector steps (connector_psa), run by odoo_steps.py in an Odoo process of their own.

The fake Harvest runs in the test process; these steps reach it over loopback HTTP. Each step
takes an ``env`` (superuser) and string arguments and returns a JSON-able dict.
"""

import datetime
import json
import time

INTEGRATION_GROUPS = (
    "base.group_user",
    "connector_base.group_connector_user",
    "ps_billing_rules.group_billing_manager",
    "hr_timesheet.group_timesheet_manager",
    "hr_expense.group_hr_expense_manager",
    "hr.group_hr_user",
    "project.group_project_manager",
    "sales_team.group_sale_salesman_all_leads",
    "account.group_account_invoice",
)
BATCH_ENTRIES = 500


def psa_setup(env, name, url, account_id, token, code, emails_json):
    """A governed T&M contract coded ``code`` with its project, the employees of ``emails``,
    and an active Harvest backend on ``url`` whose people are linked (queue run here)."""
    from odoo import Command

    from odoo.addons.connector_base.const import CTX_NO_AUDIT

    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    env["ir.config_parameter"].set_param("connector_base.runner_time_budget", "30")
    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    login = "psa_bench_integration"
    user = env["res.users"].search([("login", "=", login)])
    if not user:
        user = env["res.users"].create(
            {
                "name": "PSA Integration (bench)",
                "login": login,
                "groups_id": [Command.set([env.ref(xmlid).id for xmlid in INTEGRATION_GROUPS])],
            }
        )
    hour = env.ref("uom.product_uom_hour")
    product = env["product.product"].create(
        {
            "name": f"Consulting ({name})",
            "type": "service",
            "invoice_policy": "delivery",
            "service_type": "timesheet",
            "service_tracking": "project_only",
            "list_price": 150.0,
            "uom_id": hour.id,
            "uom_po_id": hour.id,
        }
    )
    partner = env["res.partner"].create({"name": f"Bench customer {name}", "is_company": True})
    order = env["sale.order"].create(
        {
            "partner_id": partner.id,
            "psa_project_code": code,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": 100000,
                        "price_unit": 150.0,
                        "ps_billing_model": "tm",
                    }
                )
            ],
        }
    )
    order.action_confirm()
    employees = {
        email: env["hr.employee"].create({"name": email.split("@")[0], "work_email": email}).id
        for email in json.loads(emails_json)
    }
    backend = env["connector.backend"].create(
        {
            "name": f"Harvest bench {name}",
            "backend_type": "harvest",
            "api_base_url": url,
            "auth_base_url": url,
            "psa_account_id": str(account_id),
            "psa_contact_email": "bench@example.com",
            "psa_start_date": datetime.date(2000, 1, 1),
            "psa_provisioning": False,
            "psa_batch_entries": BATCH_ENTRIES,
            "rate_limit": 0,
            "timeout_read": 120,
            "user_id": user.id,
        }
    )
    backend._set_secret("api_token", token)
    backend.with_context(**{CTX_NO_AUDIT: True}).action_activate()
    people = backend.stream_ids.filtered(lambda s: s.code == "psa_people")
    people._schedule_pull(datetime.datetime.now(), source="user")
    env.cr.commit()
    Job = env["connector.job"]
    while Job._cron_process_queue(time_budget=30):
        env.cr.commit()
    linked = env["connector.binding"].search_count(
        [("backend_id", "=", backend.id), ("remote_type", "=", "user")]
    )
    return {
        "backend_id": backend.id,
        "user_id": user.id,
        "project_id": order.project_id.id,
        "sale_line_id": order.order_line.id,
        "employees": employees,
        "linked": linked,
    }


def psa_baseline(env, setup_json, entries_path, offset="0", count="0"):
    """The same timesheet lines (same values, the PSA ones included) created with the ORM in
    batches, by the integration user, one commit per batch; timed (wall and CPU of this
    process), then removed. ``offset``/``count``: a slice of the entries."""
    setup = json.loads(setup_json)
    with open(entries_path) as handle:
        entries = json.load(handle)
    entries = entries[int(offset) :][: int(count) or None]
    user = env["res.users"].browse(setup["user_id"])
    uenv = env(user=user.id, su=False, context={"allowed_company_ids": user.company_ids.ids})
    Line = uenv["account.analytic.line"]
    now = datetime.datetime.now().replace(microsecond=0)
    currency = env.ref("base.EUR").id
    created = []
    started, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(entries), BATCH_ENTRIES):
        chunk = entries[offset : offset + BATCH_ENTRIES]
        lines = Line.create(
            [
                {
                    "name": entry["notes"],
                    "date": entry["date"],
                    "employee_id": setup["employees"][entry["email"]],
                    "project_id": setup["project_id"],
                    "so_line": setup["sale_line_id"],
                    "unit_amount": entry["rounded_hours"],
                    "ps_billing_state": "unbilled",
                    "ps_approval_state": "approved",
                    "ps_approved_by_id": user.id,
                    "ps_approved_on": now,
                    "psa_backend_id": setup["backend_id"],
                    "psa_remote_id": f"baseline-{entry['id']}",
                    "psa_user_ref": entry["user_id"],
                    "psa_project_ref": entry["project_id"],
                    "psa_task_ref": entry["task_id"],
                    "psa_task_name": entry["task_name"],
                    "psa_hours": entry["hours"],
                    "psa_rounded_hours": entry["rounded_hours"],
                    "psa_quantity": entry["rounded_hours"],
                    "psa_spent_on": entry["date"],
                    "psa_billable": True,
                    "psa_notes": entry["notes"],
                    "psa_approval": "approved",
                    "psa_billable_rate": entry["billable_rate"],
                    "psa_cost_rate": entry["cost_rate"],
                    "psa_currency_id": currency,
                    "psa_invoiced": False,
                    "psa_invoice_ref": False,
                    "psa_updated_at": now,
                    "psa_deleted": False,
                    "ps_nonbillable_reason": False,
                    "task_id": False,
                    "psa_fingerprint": "baseline",
                }
                for entry in chunk
            ]
        )
        created.extend(lines.ids)
        env.cr.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    count = len(created)
    env.cr.execute("DELETE FROM account_analytic_line WHERE id = ANY(%s)", (created,))
    env.cr.commit()
    return {"count": count, "seconds": seconds, "cpu": cpu}


def psa_connector(env, backend_id):
    """Pull the backend's approved time and run the queue until it is empty, as the cron does
    (one runner); timed from the pull to the last line."""
    backend = env["connector.backend"].browse(int(backend_id))
    stream = backend.stream_ids.filtered(lambda s: s.code == "psa_time")
    Job = env["connector.job"]
    started, cpu = time.perf_counter(), time.process_time()
    stream._schedule_pull(datetime.datetime.now(), source="user")
    env.cr.commit()
    while Job._cron_process_queue(time_budget=30):
        env.cr.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    env.cr.execute(
        """SELECT count(*), count(DISTINCT psa_remote_id) FROM account_analytic_line
           WHERE psa_backend_id = %s""",
        (backend.id,),
    )
    lines, distinct = env.cr.fetchone()
    env.cr.execute(
        """SELECT operation, state, count(*), COALESCE(sum(duration_ms), 0)
           FROM connector_job WHERE backend_id = %s GROUP BY operation, state""",
        (backend.id,),
    )
    jobs = [
        {"operation": op, "state": state, "count": count, "ms": ms}
        for op, state, count, ms in env.cr.fetchall()
    ]
    bindings = env["connector.binding"].search_count(
        [("backend_id", "=", backend.id), ("remote_type", "=", "time_entry")]
    )
    return {
        "seconds": seconds,
        "cpu": cpu,
        "lines": lines,
        "distinct": distinct,
        "bindings": bindings,
        "jobs": jobs,
    }


# ----------------------------------------------------------------------------------------------
# The whole loop (test_psa_whole_loop.py): CRM deal -> engagement -> Harvest project -> approved
# time -> timesheet lines -> billing run -> invoice posted and paid -> Harvest and CRM told.
# ----------------------------------------------------------------------------------------------


def _drain(env):
    """Run the queue as the runner crons do, until nothing is runnable (one commit per call)."""
    Job = env["connector.job"]
    calls = 0
    while Job._cron_process_queue(time_budget=30):
        env.cr.commit()
        calls += 1
    env.cr.commit()
    return calls


def _jobs(env, backend_ids):
    """``operation:state:count`` per operation and state, then each unfinished job's error."""
    env.cr.execute(
        """SELECT operation, state, count(*) FROM connector_job WHERE backend_id = ANY(%s)
           GROUP BY operation, state ORDER BY operation, state""",
        (list(backend_ids),),
    )
    counts = [f"{op}:{state}:{count}" for op, state, count in env.cr.fetchall()]
    env.cr.execute(
        """SELECT operation, record_key, last_error FROM connector_job
           WHERE backend_id = ANY(%s) AND state != 'done' ORDER BY id""",
        (list(backend_ids),),
    )
    return counts + [f"! {op} {key}: {error}" for op, key, error in env.cr.fetchall()]


def loop_setup(env, sf_url, sf_client_id, sf_secret, harvest_url, account_id, token, people_json):
    """The CRM connector's set-up (crm_steps.crm_setup) and an active Harvest backend with
    provisioning on, whose people pull has linked the employees of ``people`` (email -> name)."""
    from crm_steps import crm_setup

    from odoo import Command

    from odoo.addons.connector_base.const import CTX_NO_AUDIT

    company = env.company
    if not company.chart_template:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    crm = crm_setup(env, sf_url, sf_client_id, sf_secret)
    user = env["res.users"].create(
        {
            "name": "PSA Integration (loop)",
            "login": "psa_loop_integration",
            "groups_id": [Command.set([env.ref(xmlid).id for xmlid in INTEGRATION_GROUPS])],
        }
    )
    employees = {
        email: env["hr.employee"].create({"name": name, "work_email": email, "hourly_cost": 60}).id
        for email, name in json.loads(people_json).items()
    }
    backend = env["connector.backend"].create(
        {
            "name": "Harvest (loop)",
            "backend_type": "harvest",
            "api_base_url": harvest_url,
            "auth_base_url": harvest_url,
            "psa_account_id": str(account_id),
            "psa_contact_email": "loop@example.com",
            "psa_web_url": harvest_url,
            "psa_start_date": datetime.date(2000, 1, 1),
            "psa_provisioning": True,
            "psa_mark_billed": True,
            "rate_limit": 0,
            "user_id": user.id,
        }
    )
    backend._set_secret("api_token", token)
    backend.with_context(**{CTX_NO_AUDIT: True}).action_activate()
    people = backend.stream_ids.filtered(lambda s: s.code == "psa_people")
    people._schedule_pull(datetime.datetime.now(), source="user")
    env.cr.commit()
    _drain(env)
    linked = env["connector.binding"].search_count(
        [("backend_id", "=", backend.id), ("remote_type", "=", "user")]
    )
    return dict(crm, psa_backend_id=backend.id, employees=employees, linked=linked)


def loop_engagement(env, crm_backend_id, psa_backend_id):
    """Pull the won deals; the queue turns each into an engagement (confirmed contract with a
    project) whose confirmation provisions it in Harvest (same queue run)."""
    crm_backend = env["connector.backend"].browse(int(crm_backend_id))
    stream = crm_backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
    stream._schedule_pull(datetime.datetime.now().replace(microsecond=0), source="user")
    env.cr.commit()
    _drain(env)
    orders = env["sale.order"].search([("crm_backend_id", "=", crm_backend.id)])
    return {
        "orders": [
            {
                "id": order.id,
                "name": order.name,
                "state": order.state,
                "governed": order.ps_governed,
                "project_id": order.project_id.id,
                "psa_code": order.psa_project_code,
                "lines": [
                    {"id": line.id, "name": line.name, "model": line.ps_billing_model}
                    for line in order.order_line
                ],
                "messages": order.message_ids.mapped("body"),
            }
            for order in orders
        ],
        "jobs": _jobs(env, [int(crm_backend_id), int(psa_backend_id)]),
    }


def loop_bill(env, crm_backend_id, psa_backend_id, order_id):
    """Import the approved time, bill the contract with a billing run, post the invoice, pay
    it, and run the queue (mark-back in Harvest, write-back to the CRM)."""
    from odoo import Command

    backend = env["connector.backend"].browse(int(psa_backend_id))
    order = env["sale.order"].browse(int(order_id))
    stream = backend.stream_ids.filtered(lambda s: s.code == "psa_time")
    stream._schedule_pull(datetime.datetime.now(), source="user")
    env.cr.commit()
    _drain(env)
    lines = env["account.analytic.line"].search([("psa_backend_id", "=", backend.id)])
    imported = [
        {
            "remote_id": line.psa_remote_id,
            "hours": line.unit_amount,
            "date": str(line.date),
            "so_line": line.so_line.id,
            "project_id": line.project_id.id,
            "approval": line.ps_approval_state,
            "billing": line.ps_billing_state,
        }
        for line in lines
    ]
    today = datetime.date.today()
    run = env["ps.billing.run"].create(
        {
            "name": "Whole loop",
            "period_end": today,
            "invoice_date": today,
            "respect_cycle": False,
            "order_ids": [Command.set(order.ids)],
        }
    )
    run.action_run_now()
    invoice = run.invoice_ids
    invoice.action_post()
    env.cr.commit()
    env["account.payment.register"].with_context(
        active_model="account.move", active_ids=invoice.ids
    ).create({})._create_payments()
    env.cr.commit()
    _drain(env)
    lines.invalidate_recordset()
    return {
        "imported": imported,
        "invoices": [
            {
                "name": move.name,
                "state": move.state,
                "payment_state": move.payment_state,
                "amount_untaxed": move.amount_untaxed,
                "amount_total": move.amount_total,
                "lines": [
                    {"quantity": line.quantity, "price_unit": line.price_unit}
                    for line in move.invoice_line_ids
                ],
            }
            for move in invoice
        ],
        "billed": [line.ps_billing_state for line in lines],
        "marked": [line.psa_marked_invoice_id.name for line in lines],
        "jobs": _jobs(env, [int(crm_backend_id), int(psa_backend_id)]),
    }


STEPS = {
    "psa_setup": psa_setup,
    "psa_baseline": psa_baseline,
    "psa_connector": psa_connector,
    "loop_setup": loop_setup,
    "loop_engagement": loop_engagement,
    "loop_bill": loop_bill,
}
