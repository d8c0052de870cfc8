"""CRM connector steps (connector_crm), run by odoo_steps.py in an Odoo process of their own.

The fake Salesforce runs in the test process; these steps reach it over loopback HTTP. Each
step takes an ``env`` (superuser) and string arguments and returns a JSON-able dict.
"""

import datetime
import json
import time

# The set-up of the CRM connector tests (addons/connector_crm/tests/common.py), for a benchmark.
LEGAL_ENTITY = "Acme Consulting US"
TAX_TREATMENT = "Domestic"
TEMPLATE = "Standard Implementation"
DEAL_BILLING_MODEL = "Mixed"  # per line: each product mapping says how its lines are billed
BILLING_TERMS = {
    "Time and Materials": {"billing_model": "tm"},
    "Fixed Fee": {"billing_model": "fixed_fee", "service_months": 3, "installment_count": 2},
    "Milestones": {"billing_model": "milestone"},
    "Retainer": {
        "billing_model": "retainer",
        "retainer_included": 20,
        "rollover_rule": "capped",
        "rollover_cap": 10,
        "overage_rate": 170,
    },
    "Mixed": {"billing_model": False},
}
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


def crm_setup(env, url, client_id, client_secret):
    """Products, a project template, an integration user and an active Salesforce backend
    (client credentials) on the fake at ``url``, with every mapping the deals need.

    Returns the backend, the ids the baseline needs, and the write-back fields to declare on
    the fake Opportunity (name, type), as an admin would in Salesforce."""
    from odoo import Command

    from odoo.addons.connector_crm.models.connector_backend import SF_WRITEBACK_DEFAULTS

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
            "login": "crm_integration_bench",
            "email": "crm.integration@example.com",
            "groups_id": [Command.set([env.ref(xmlid).id for xmlid in INTEGRATION_GROUPS])],
        }
    )
    backend = env["connector.backend"].create(
        {
            "name": "Salesforce (bench)",
            "backend_type": "salesforce",
            "user_id": user.id,
            "auth_base_url": url,
            "crm_auth_flow": "client_credentials",
            "crm_client_id": client_id,
            "crm_start_date": "2026-01-01",
            "timeout_read": 120,  # the first page of a large pull takes the fake a while
        }
    )
    backend._set_secret("client_secret", client_secret)
    company = env.company
    values = [
        {"kind": "legal_entity", "remote_value": LEGAL_ENTITY, "target_company_id": company.id},
        {"kind": "tax_treatment", "remote_value": TAX_TREATMENT},
        {"kind": "project_template", "remote_value": TEMPLATE, "template_project_id": template.id},
    ]
    values += [
        dict(terms, kind="billing_model", remote_value=name)
        for name, terms in BILLING_TERMS.items()
    ]
    env["connector.crm.value.map"].create([dict(v, backend_id=backend.id) for v in values])
    env["connector.crm.product.map"].create(
        [
            {
                "backend_id": backend.id,
                "remote_code": code,
                "product_id": products[code].id,
                "billing_model": PRODUCTS[code][1],
            }
            for code in PRODUCTS
        ]
    )
    backend.action_activate()
    writeback = [
        (
            name,
            "date" if key.endswith("_date") else "double" if key in NUMERIC_WRITEBACK else "string",
        )
        for key, name in SF_WRITEBACK_DEFAULTS.items()
    ]
    return {
        "backend_id": backend.id,
        "user_id": user.id,
        "template_id": template.id,
        "products": {code: product.id for code, product in products.items()},
        "writeback_fields": writeback,
        "deal_fields": {
            "Legal_Entity__c": LEGAL_ENTITY,
            "Tax_Treatment__c": TAX_TREATMENT,
            "Billing_Model__c": DEAL_BILLING_MODEL,
            "Project_Template__c": TEMPLATE,
        },
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
    if model == "fixed_fee":
        terms = BILLING_TERMS["Fixed Fee"]
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
        terms = BILLING_TERMS["Retainer"]
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


def crm_connector(env, backend_id, profile_path=""):
    """Pull the deals stream and run the queue like a runner cron does, until it is empty.

    Times the whole and, from the database, the moment the last engagement was committed."""
    backend = env["connector.backend"].browse(int(backend_id))
    stream = backend.stream_ids.filtered(lambda s: s.code == "crm_deals")
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start_utc = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    stream._schedule_pull(datetime.datetime.now().replace(microsecond=0), source="user")
    env.cr.commit()
    calls = ran = 0
    while True:
        # What a runner cron does (ir.cron._run_job): a cursor of its own for up to 10 calls
        # while the runner reports remaining work, then a new cron run.
        with env.registry.cursor() as cr:
            Job = env(cr=cr)["connector.job"]
            for _call in range(CRON_CALLS_PER_RUN):
                ran = Job._cron_process_queue()
                cr.commit()
                calls += 1
                if not ran:
                    break
        if not ran:
            break
    drained = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_path)
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
    # The last engagement: its order's transaction began when its job began (the runner
    # commits after each job); add the job's own duration.
    cr.execute(
        """SELECT o.create_date, j.duration_ms FROM sale_order o
           JOIN connector_job j ON j.result_model = 'sale.order' AND j.result_id = o.id
                AND j.operation = 'crm.engagement.create'
           WHERE o.crm_backend_id = %s ORDER BY o.create_date DESC LIMIT 1""",
        (backend.id,),
    )
    row = cr.fetchone()
    last_engagement = (row[0] - start_utc).total_seconds() + (row[1] or 0.0) / 1000 if row else None
    cr.execute(
        """SELECT crm_deal_id, count(*) FROM sale_order WHERE crm_backend_id = %s
           GROUP BY crm_deal_id HAVING count(*) > 1""",
        (backend.id,),
    )
    duplicates = cr.fetchall()
    cr.execute(
        """SELECT count(*) FROM connector_binding
           WHERE backend_id = %s AND remote_type = 'deal'""",
        (backend.id,),
    )
    bindings = cr.fetchone()[0]
    order_ids = env["sale.order"].search([("crm_backend_id", "=", backend.id)]).ids
    cr.execute(
        """SELECT count(*) FILTER (WHERE NOT crm_push_pending), count(*) FROM connector_binding
           WHERE backend_id = %s AND remote_type = 'deal'""",
        (backend.id,),
    )
    pushed, _total = cr.fetchone()
    return dict(
        _order_counts(env, order_ids),
        seconds=last_engagement,
        drained_seconds=drained,
        runner_calls=calls,
        jobs=jobs,
        duplicates=len(duplicates),
        deal_bindings=bindings,
        written_back=pushed,
    )


STEPS = {
    "crm_setup": crm_setup,
    "crm_baseline": crm_baseline,
    "crm_connector": crm_connector,
}
