"""CRM connector steps (connector_crm), run by odoo_steps.py in an Odoo process of their own.

The fake CRMs run in the test process; these steps reach them over loopback HTTP. Each step
takes an ``env`` (superuser) and string arguments and returns a JSON-able dict. The mappings are
the Odoo tests' (``map_backend`` of addons/connector_crm/tests/common.py).
"""

import datetime
import json
import os
import socket
import time

LEGAL_ENTITY = "Acme Consulting US"
TAX_TREATMENT = "Domestic"
TEMPLATE = "Standard Implementation"
DEAL_BILLING_MODEL = "Mixed"  # per line: each product mapping says how its lines are billed
# Salesforce product code -> (Odoo product values, default billing model of the mapping).
PRODUCTS = {
    "IMPL": (
        {
            "name": "Implementation (bench)",
            "default_code": "B-IMPL",
            "invoice_policy": "order",
            "service_type": "manual",
            "service_tracking": "project_only",
            "list_price": 40000,
        },
        "fixed_fee",
    ),
    "CONS-H": (
        {
            "name": "Consulting hours (bench)",
            "default_code": "B-CONS",
            "invoice_policy": "delivery",
            "service_type": "timesheet",
            "service_tracking": "task_in_project",
            "list_price": 150,
            "hours": True,
        },
        "tm",
    ),
    "SUP-RET": (
        {
            "name": "Support retainer (bench)",
            "default_code": "B-SUP",
            "invoice_policy": "order",
            "service_type": "timesheet",
            "service_tracking": "project_only",
            "list_price": 2500,
        },
        "retainer",
    ),
    "TRAIN": (
        {
            "name": "Training day (bench)",
            "default_code": "B-TRAIN",
            "invoice_policy": "order",
            "service_type": "manual",
            "service_tracking": "task_in_project",
            "list_price": 1200,
        },
        "fixed_fee",
    ),
}
INTEGRATION_GROUPS = (
    "base.group_user",
    "connector_base.group_connector_user",
    "sales_team.group_sale_manager",
    "project.group_project_manager",
    "account.group_account_invoice",
    "ps_billing_rules.group_billing_user",
)
CRON_CALLS_PER_RUN = 10  # odoo.addons.base.models.ir_cron.MAX_BATCH_PER_CRON_JOB
NUMERIC_WRITEBACK = ("invoiced_total", "paid_total", "outstanding", "overdue", "percent_complete")


def crm_setup(env, url, client_id, client_secret, backend_type="salesforce"):
    """Products, a project template, an integration user and an active Salesforce (client
    credentials) or HubSpot (private app token ``client_secret``) backend on the fake at
    ``url``, with every mapping the deals need.

    Returns the backend, the ids the baseline needs, and the write-back fields to declare on
    the fake Opportunity (name, type), as an admin would in Salesforce."""
    from odoo import Command

    from odoo.addons.connector_crm.const import SF_WRITEBACK_DEFAULTS
    from odoo.addons.connector_crm.tests.common import map_backend

    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    hour = env.ref("uom.product_uom_hour").id
    products = {}
    for code, (values, _model) in PRODUCTS.items():
        values = dict(values, type="service")
        if values.pop("hours", False):
            values.update(uom_id=hour, uom_po_id=hour)
        products[code] = env["product.product"].create(values)
    template = env["project.project"].create(
        {
            "name": "Template: implementation (bench)",
            "allow_billable": True,
            "allow_milestones": True,
            "task_ids": [
                Command.create({"name": name})
                for name in ("Kick-off", "Design", "Build", "Go-live")
            ],
            "milestone_ids": [
                Command.create({"name": "Design signed off"}),
                Command.create({"name": "Go-live"}),
            ],
        }
    )
    user = env["res.users"].create(
        {
            "name": "CRM integration (bench)",
            "login": f"crm_integration_{backend_type}",
            "email": "crm.integration@example.com",
            "groups_id": [Command.set([env.ref(xmlid).id for xmlid in INTEGRATION_GROUPS])],
        }
    )
    values = {
        "name": f"{backend_type} (bench)",
        "backend_type": backend_type,
        "user_id": user.id,
        "crm_client_id": client_id,
        "crm_start_date": "2026-01-01",
        "timeout_read": 120,  # the first page of a large pull takes the fake a while
    }
    if backend_type == "salesforce":
        values.update(auth_base_url=url, crm_auth_flow="client_credentials")
    else:
        values.update(api_base_url=url, auth_base_url=url, crm_auth_flow="private_app")
    backend = env["connector.backend"].create(values)
    backend._set_secret(
        "client_secret" if backend_type == "salesforce" else "api_token", client_secret
    )
    map_backend(
        env,
        backend,
        companies={LEGAL_ENTITY: env.company},
        templates={TEMPLATE: template},
        products={code: (products[code], PRODUCTS[code][1]) for code in PRODUCTS},
    )
    backend.action_activate()
    writeback = [
        (
            name,
            "date" if key.endswith("_date") else "double" if key in NUMERIC_WRITEBACK else "string",
        )
        for key, name in SF_WRITEBACK_DEFAULTS.items()
    ]
    deal_fields = {
        "Legal_Entity__c": LEGAL_ENTITY,
        "Tax_Treatment__c": TAX_TREATMENT,
        "Billing_Model__c": DEAL_BILLING_MODEL,
        "Project_Template__c": TEMPLATE,
    }
    if backend_type == "hubspot":
        deal_fields = {
            "legal_entity": LEGAL_ENTITY,
            "tax_treatment": TAX_TREATMENT,
            "billing_model": DEAL_BILLING_MODEL,
            "project_template": TEMPLATE,
            "deal_currency_code": env.company.currency_id.name,
        }
    return {
        "backend_id": backend.id,
        "user_id": user.id,
        "template_id": template.id,
        "products": {code: product.id for code, product in products.items()},
        "writeback_fields": writeback,
        "deal_fields": deal_fields,
    }


def _baseline_line(product_id, model, line, close_date):
    """The values the connector gives a contract line (engagement._line_values), by hand."""
    from dateutil.relativedelta import relativedelta

    from odoo import Command

    values = {
        "product_id": product_id,
        "name": line["name"],
        "product_uom_qty": line["quantity"],
        "price_unit": line["price_unit"],
        "discount": line["discount"],
        "ps_billing_model": model,
    }
    from odoo.addons.connector_crm.models.connector_crm_demo import BILLING_MODELS as TERMS

    if model == "fixed_fee":
        terms = TERMS["Fixed Fee"]
        count = terms["installment_count"]
        values.update(
            ps_service_start=close_date,
            ps_service_end=close_date + relativedelta(months=terms["service_months"], days=-1),
            ps_installment_ids=[
                Command.create(
                    {
                        "name": f"Installment {index + 1} of {count}",
                        "date": close_date + relativedelta(months=index),
                        "percentage": 100.0 / count,
                    }
                )
                for index in range(count)
            ],
        )
    elif model == "retainer":
        terms = TERMS["Retainer"]
        values.update(
            ps_retainer_included=terms["retainer_included"],
            ps_retainer_unit="hours",
            ps_retainer_period="monthly",
            ps_retainer_start=close_date,
            ps_rollover_rule=terms["rollover_rule"],
            ps_rollover_cap=terms["rollover_cap"],
            ps_rollover_expiry=3,
            ps_overage_rate=terms["overage_rate"],
        )
    return values


def crm_baseline(env, setup_json, deals_path):
    """The same customers and confirmed contracts (same lines, billing terms and project
    template) created directly with the ORM, by the integration user, one transaction per deal
    like the connector's jobs; timed."""
    from odoo.addons.connector_crm.models.connector_crm_engagement import (
        ENGAGEMENT_CREATE_CONTEXT,
    )

    setup = json.loads(setup_json)
    with open(deals_path) as handle:
        deals = json.load(handle)
    user = env["res.users"].browse(setup["user_id"])
    company = env.company
    # The same import context as the connector's (no tracking, no creation notes): the
    # comparison is then about what the connector adds, not about chatter.
    context = dict(ENGAGEMENT_CREATE_CONTEXT, allowed_company_ids=[company.id])
    uenv = env(user=user.id, su=False, context=context)
    models_by_code = {code: model for code, (_values, model) in PRODUCTS.items()}
    Partner, Order = uenv["res.partner"], uenv["sale.order"]
    started = time.perf_counter()
    pricelist = uenv["product.pricelist"].search(
        [("currency_id", "=", company.currency_id.id), ("company_id", "in", (company.id, False))],
        order="company_id, sequence, id",
        limit=1,
    )
    partners = {}
    order_ids = []
    for deal in deals:
        account = deal["account"]
        partner_id = partners.get(account["id"])
        if not partner_id:
            partner_id = partners[account["id"]] = Partner.create(
                {"name": account["name"], "ref": account["ref"], "is_company": True}
            ).id
        close_date = datetime.date.fromisoformat(deal["close_date"])
        order = Order.create(
            {
                "partner_id": partner_id,
                "company_id": company.id,
                "pricelist_id": pricelist.id,
                "origin": f"Salesforce {deal['id']}",
                "crm_project_template_id": setup["template_id"],
                "ps_billing_cycle": "monthly",
                "order_line": [
                    (
                        0,
                        0,
                        _baseline_line(
                            setup["products"][line["code"]],
                            models_by_code[line["code"]],
                            line,
                            close_date,
                        ),
                    )
                    for line in deal["lines"]
                ],
            }
        )
        order.action_confirm()
        order_ids.append(order.id)
        env.cr.commit()
    seconds = time.perf_counter() - started
    return dict(_order_counts(env, order_ids), seconds=seconds, partners=len(partners))


def _order_counts(env, order_ids):
    orders = env["sale.order"].browse(order_ids)
    projects = orders.project_ids
    return {
        "orders": len(orders),
        "confirmed": len(orders.filtered(lambda o: o.state == "sale")),
        "with_project": len(orders.filtered("project_ids")),
        "projects": len(projects),
        "tasks": env["project.task"].search_count([("project_id", "in", projects.ids)]),
        "lines": len(orders.order_line),
        "amount": round(sum(orders.mapped("amount_untaxed")), 2),
    }


def crm_schedule_pull(env, backend_id):
    """Queue the deals pull of the backend (committed): runners started after take it."""
    backend = env["connector.backend"].browse(int(backend_id))
    stream = backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
    stream._schedule_pull(datetime.datetime.now().replace(microsecond=0), source="user")
    env.cr.commit()
    return {"stream_id": stream.id}


def _busy(cr):
    cr.execute("SELECT count(*) FROM connector_job WHERE state IN ('pending', 'running')")
    return cr.fetchone()[0]


def crm_run(env, start_at="0", profile_path=""):
    """One queue runner as a runner cron works (ir.cron._run_job): a cursor of its own for up
    to 10 calls while it reports remaining work, then a new cron run; it stops when the queue
    has had nothing pending or running for a moment (the other runner may still add jobs)."""
    while time.time() < float(start_at):  # the runners start together, registries loaded
        time.sleep(0.001)
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    done = calls = 0
    idle_since = None
    while True:
        with env.registry.cursor() as cr:
            Job = env(cr=cr)["connector.job"]
            for _call in range(CRON_CALLS_PER_RUN):
                ran = Job._cron_process_queue()
                cr.commit()
                calls += 1
                done += ran
                if not ran:
                    break
            if ran:
                idle_since = None
                continue
            if _busy(cr):
                idle_since = None
                time.sleep(0.1)
                continue
        idle_since = idle_since or time.perf_counter()
        if time.perf_counter() - idle_since > 2.0:
            break
        time.sleep(0.1)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
    return {"done": done, "calls": calls, "seconds": time.perf_counter() - started}


def crm_stats(env, backend_id, start_at="0"):
    """What the connector made: contracts, projects, jobs, duplicates; the moment the last
    engagement was committed, from ``start_at`` (epoch seconds)."""
    backend = env["connector.backend"].browse(int(backend_id))
    cr = env.cr
    cr.execute(
        """SELECT operation, state, count(*), sum(duration_ms) FROM connector_job
           WHERE backend_id = %s GROUP BY operation, state ORDER BY operation, state""",
        (backend.id,),
    )
    jobs = [
        {"operation": op, "state": state, "count": count, "ms": ms or 0.0}
        for op, state, count, ms in cr.fetchall()
    ]
    # The last engagement: its job's attempt ended when its transaction committed.
    cr.execute(
        """SELECT max(a.ended_at) FROM connector_job_attempt a
           JOIN connector_job j ON j.id = a.job_id
           WHERE j.backend_id = %s AND j.operation = 'crm.engagement.create'
             AND a.outcome = 'done'""",
        (backend.id,),
    )
    last = cr.fetchone()[0]
    start = datetime.datetime.fromtimestamp(float(start_at), datetime.UTC).replace(tzinfo=None)
    cr.execute(
        """SELECT crm_deal_id, count(*) FROM sale_order WHERE crm_backend_id = %s
           GROUP BY crm_deal_id HAVING count(*) > 1""",
        (backend.id,),
    )
    duplicates = cr.fetchall()
    cr.execute(
        """SELECT count(*), count(*) FILTER (WHERE NOT crm_push_pending) FROM connector_binding
           WHERE backend_id = %s AND remote_type = 'deal'""",
        (backend.id,),
    )
    bindings, pushed = cr.fetchone()
    order_ids = env["sale.order"].search([("crm_backend_id", "=", backend.id)]).ids
    return dict(
        _order_counts(env, order_ids),
        seconds=(last - start).total_seconds() if last else None,
        jobs=jobs,
        duplicates=len(duplicates),
        deal_bindings=bindings,
        written_back=pushed,
    )


def crm_pull_only(env, backend_id):
    """Run only the deals pull of the backend, page job after page job, each as the queue
    runner runs a job (claim, its own savepoint and commit), until the pull is finished; the
    engagement jobs it queues stay pending. Returns the time, pages and jobs queued."""
    from odoo import fields

    backend = env["connector.backend"].browse(int(backend_id))
    stream = backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
    Job = env["connector.job"]
    handler_backend = Job._handler_backend(backend)
    worker = f"{socket.gethostname()}:{os.getpid()}:pull-only"
    stream._schedule_pull(fields.Datetime.now(), source="user")
    env.cr.commit()
    started = time.perf_counter()
    pages = 0
    while True:
        now = fields.Datetime.now()
        env.cr.execute(
            """UPDATE connector_job SET state = 'running', attempts = attempts + 1,
                   lease_until = %s, claimed_by = %s, started_at = %s
               WHERE id = (SELECT id FROM connector_job
                           WHERE backend_id = %s AND operation = 'stream.pull'
                             AND state = 'pending' AND eta <= %s
                           ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED)
               RETURNING id, operation, attempts, max_attempts, correlation_id, create_date,
                         record_key, company_id""",
            (now + datetime.timedelta(minutes=5), worker, now, backend.id, now),
        )
        rows = env.cr.dictfetchall()
        env.cr.commit()
        if not rows:
            env.cr.execute(
                """SELECT min(eta) FROM connector_job WHERE backend_id = %s
                   AND operation = 'stream.pull' AND state = 'pending'""",
                (backend.id,),
            )
            eta = env.cr.fetchone()[0]
            if eta is None:
                break
            time.sleep(max(0.0, (eta - fields.Datetime.now()).total_seconds()) + 0.1)
            continue
        Job._run_claimed_job(handler_backend, worker, rows[0])
        env.cr.commit()
        pages += 1
    seconds = time.perf_counter() - started
    env.cr.execute(
        """SELECT operation, state, count(*), max(attempts) FROM connector_job
           WHERE backend_id = %s GROUP BY operation, state""",
        (backend.id,),
    )
    jobs = [
        {"operation": op, "state": state, "count": count, "max_attempts": attempts}
        for op, state, count, attempts in env.cr.fetchall()
    ]
    env.cr.execute(
        """SELECT count(DISTINCT payload::jsonb ->> 'deal_id') FROM connector_job
           WHERE backend_id = %s AND operation = 'crm.engagement.create'""",
        (backend.id,),
    )
    distinct = env.cr.fetchone()[0]
    stream.invalidate_recordset()
    return {
        "seconds": seconds,
        "pages": pages,
        "jobs": jobs,
        "distinct_deals": distinct,
        "cursor_date": str(stream.cursor_date),
        "cursor_value": stream.cursor_value or "",
    }


STEPS = {
    "crm_setup": crm_setup,
    "crm_baseline": crm_baseline,
    "crm_schedule_pull": crm_schedule_pull,
    "crm_run": crm_run,
    "crm_stats": crm_stats,
    "crm_pull_only": crm_pull_only,
}
