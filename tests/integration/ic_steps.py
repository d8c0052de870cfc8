"""Intercompany steps (ps_intercompany), run by odoo_steps.py in an Odoo process of their own.

``ic_setup`` builds a group of three companies (EUR, USD, GBP: charts, rates, intercompany
accounts, a shared product, consultants with cost rates, projects, an agreement per ordered
pair) and writes approved cross-company timesheet lines of last month in SQL (the point is the
recharge, not the timesheet entry). Each step takes an ``env`` (superuser) and string arguments
and returns a JSON-able dict.
"""

import datetime
import json
import random
import time

from barrier import wait_at

COMPANIES = (("Bench IC EU", "base.EUR"), ("Bench IC US", "base.USD"), ("Bench IC UK", "base.GBP"))
RATES = {"base.EUR": 1.0, "base.USD": 1.08, "base.GBP": 0.85}  # per EUR, the same in every company


def _last_month():
    first = datetime.date.today().replace(day=1)
    end = first - datetime.timedelta(days=1)
    return end.replace(day=1), end


def _company(env, name, currency_xmlid):
    from odoo import Command

    company = env["res.company"].search([("name", "=", name)], limit=1)
    if company:
        return company
    currency = env.ref(currency_xmlid)
    currency.active = True
    # No country: Odoo would install the country's localization (and its dependencies).
    company = env["res.company"].create({"name": name, "currency_id": currency.id})
    env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
    company.currency_id = currency
    own = RATES[currency_xmlid]
    for other_xmlid, rate in RATES.items():
        env["res.currency.rate"].create(
            {
                "name": datetime.date(2000, 1, 1),
                "currency_id": env.ref(other_xmlid).id,
                "company_id": company.id,
                "rate": rate / own,
            }
        )
    env.user.company_ids = [Command.link(company.id)]
    return company


def _accounts(env, company):
    from odoo import Command

    Account = env["account.account"].with_company(company)
    result = {}
    for key, code, kind in (
        ("revenue", "401000", "income"),
        ("cost", "601000", "expense"),
        ("receivable", "121500", "asset_receivable"),
        ("payable", "211500", "liability_payable"),
    ):
        result[key] = Account.search(
            [("code", "=", code), ("company_ids", "in", company.id)], limit=1
        ) or Account.create(
            {
                "code": code,
                "name": f"Intercompany {key}",
                "account_type": kind,
                "reconcile": kind in ("asset_receivable", "liability_payable"),
                "company_ids": [Command.set(company.ids)],
            }
        )
    return result


def ic_setup(env, lines, employees="20", projects="8", seed="7"):
    """The group, its agreements and ``lines`` approved cross-company timesheet lines of last
    month, spread over ``employees`` consultants and ``projects`` projects per company."""
    from odoo import Command

    started = time.perf_counter()
    lines, employees, projects = int(lines), int(employees), int(projects)
    rng = random.Random(int(seed))
    companies = [_company(env, *spec) for spec in COMPANIES]
    env = env(
        context=dict(
            env.context, allowed_company_ids=[c.id for c in companies], tracking_disable=True
        )
    )
    accounts = {company.id: _accounts(env, company) for company in companies}
    fiscal = {}
    for company in companies:
        fiscal[company.id] = {
            kind: env["account.fiscal.position"].create(
                {
                    "name": f"Intercompany {kind}",
                    "company_id": company.id,
                    "tax_ids": [Command.create({"tax_src_id": tax.id, "tax_dest_id": False})]
                    if tax
                    else [],
                }
            )
            for kind, tax in (
                ("sale", company.account_sale_tax_id),
                ("purchase", company.account_purchase_tax_id),
            )
        }
    hour = env.ref("uom.product_uom_hour")
    product = env["product.product"].create(
        {
            "name": "Bench intercompany consulting",
            "type": "service",
            "company_id": False,
            "uom_id": hour.id,
            "uom_po_id": hour.id,
            "taxes_id": [
                Command.set([c.account_sale_tax_id.id for c in companies if c.account_sale_tax_id])
            ],
            "supplier_taxes_id": [
                Command.set(
                    [c.account_purchase_tax_id.id for c in companies if c.account_purchase_tax_id]
                )
            ],
        }
    )
    jobs = [env["hr.job"].create({"name": f"Bench role {i}"}) for i in range(3)]
    date_from, date_to = _last_month()
    staff, work = {}, {}
    for company in companies:
        staff[company.id] = env["hr.employee"].create(
            [
                {
                    "name": f"{company.name} consultant {i}",
                    "company_id": company.id,
                    "job_id": jobs[i % 3].id,
                    "hourly_cost": 0,
                }
                for i in range(employees)
            ]
        )
        env["ps.cost.rate"].create(
            [
                {
                    "employee_id": e.id,
                    "company_id": company.id,
                    "date_from": datetime.date(2000, 1, 1),
                    "cost": 40.0 + (i % 17) * 2.5,
                }
                for i, e in enumerate(staff[company.id])
            ]
        )
        work[company.id] = env["project.project"].create(
            [
                {
                    "name": f"{company.name} project {i}",
                    "company_id": company.id,
                    "allow_timesheets": True,
                }
                for i in range(projects)
            ]
        )
    agreements = []
    for provider in companies:
        for receiver in companies:
            if provider == receiver:
                continue
            p, r = accounts[provider.id], accounts[receiver.id]
            agreements.append(
                env["ps.ic.agreement"]
                .create(
                    {
                        "name": f"{provider.name} -> {receiver.name}",
                        "provider_company_id": provider.id,
                        "receiver_company_id": receiver.id,
                        "date_from": datetime.date(2000, 1, 1),
                        "markup_percent": 5.0 + len(agreements),
                        "markup_ids": [
                            Command.create({"job_id": jobs[0].id, "markup_percent": 0.0})
                        ],
                        "currency_id": receiver.currency_id.id,
                        "product_id": product.id,
                        "revenue_account_id": p["revenue"].id,
                        "receivable_account_id": p["receivable"].id,
                        "cost_account_id": r["cost"].id,
                        "payable_account_id": r["payable"].id,
                        "provider_fiscal_position_id": fiscal[provider.id]["sale"].id,
                        "receiver_fiscal_position_id": fiscal[receiver.id]["purchase"].id,
                    }
                )
                .id
            )
    cost = {
        e.id: 40.0 + (i % 17) * 2.5
        for company in companies
        for i, e in enumerate(staff[company.id])
    }
    rows = []
    days = (date_to - date_from).days + 1
    for index in range(lines):
        provider = companies[index % 3]
        receiver = companies[(index + 1 + index // 3 % 2) % 3]
        employee = staff[provider.id][rng.randrange(employees)]
        project = work[receiver.id][rng.randrange(projects)]
        hours = rng.choice((0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0))
        rows.append(
            (
                receiver.id,
                project.id,
                project.account_id.id,
                employee.id,
                date_from + datetime.timedelta(days=rng.randrange(days)),
                hours,
                cost[employee.id],
            )
        )
    env.flush_all()
    env.cr.execute(
        """INSERT INTO account_analytic_line (company_id, project_id, account_id, employee_id, date,
               unit_amount, ps_cost_rate, name, amount, ps_cost_amount, ps_approval_state,
               ps_billing_state, create_date, write_date, create_uid, write_uid)
           SELECT u.company, u.project, u.account, u.employee, u.day, u.hours, u.cost,
                  'Bench work', -u.hours * u.cost, u.hours * u.cost, 'approved', 'unbilled',
                  now() at time zone 'UTC', now() at time zone 'UTC', 1, 1
           FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::date[], %s::float[], %s::float[])
                AS u(company, project, account, employee, day, hours, cost)""",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )
    env.cr.commit()
    return {
        "companies": [c.id for c in companies],
        "agreements": agreements,
        "date_from": str(date_from),
        "date_to": str(date_to),
        "lines": lines,
        "seconds": time.perf_counter() - started,
    }


def ic_recharge(env, companies_json, reverse="0", barrier="0", post="1", chunk="5"):
    """A recharge run of last month over these companies, processed like the cron does (one
    commit per chunk of ``chunk`` agreements); ``reverse`` walks the agreements in the opposite
    order. Then its invoices are posted (OCA mirrors them) unless ``post`` is 0."""
    companies = json.loads(companies_json)
    env = env(context=dict(env.context, allowed_company_ids=companies))
    date_from, date_to = _last_month()
    run = env["ps.ic.recharge.run"].create(
        {
            "name": "Concurrent recharge" if barrier != "0" else "Bench recharge",
            "date_from": date_from,
            "date_to": date_to,
            "invoice_date": date_to,
            "company_ids": [(6, 0, companies)],
        }
    )
    run.action_start()
    if reverse == "1":
        run.pending_steps = [run.pending_steps[0], *reversed(run.pending_steps[1:])]
    env.cr.commit()
    wait_at(barrier, reverse)  # with a barrier, both runs start together once both are ready
    trace = []
    started = time.perf_counter()
    run.with_context(ps_ic_trace=trace)._process(time_budget=None, chunk_size=int(chunk))
    env.cr.commit()
    recharged = time.perf_counter() - started
    posting = 0.0
    if post == "1" and run.draft_count:
        started = time.perf_counter()
        run.action_post_invoices()
        env.cr.commit()
        posting = time.perf_counter() - started
    invoices = run.recharge_ids.invoice_id
    return {
        "run": run.id,
        "recharge_seconds": recharged,
        "post_seconds": posting,
        "invoices": invoices.ids,
        "invoice_lines": len(invoices.invoice_line_ids),
        "amount": sum(invoices.mapped("amount_untaxed")),
        "trace": trace,
        "concurrent": len(run.line_ids.filtered(lambda line: line.reason == "concurrent")),
        "items": sum(
            run.line_ids.filtered(lambda line: line.line_type == "recharge").mapped("item_count")
        ),
    }


def ic_direct_orm(env, invoice_ids_json):
    """Baseline: the same customer invoices and vendor bills as the recharge produced, created
    and posted directly with the ORM (no mirroring: each company's document made by hand)."""
    from odoo import Command

    invoices = env["account.move"].browse(json.loads(invoice_ids_json))
    bills = env["account.move"].search([("auto_invoice_id", "in", invoices.ids)])
    specs = []
    for move in invoices | bills:
        specs.append(
            (
                move.company_id.id,
                {
                    "move_type": move.move_type,
                    "company_id": move.company_id.id,
                    "journal_id": move.journal_id.id,
                    "partner_id": move.partner_id.id,
                    "currency_id": move.currency_id.id,
                    "invoice_date": move.invoice_date,
                    "fiscal_position_id": move.fiscal_position_id.id,
                    "ref": f"baseline {move.name}",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                                "account_id": line.account_id.id,
                                "analytic_distribution": line.analytic_distribution,
                            }
                        )
                        for line in move.invoice_line_ids
                    ],
                },
            )
        )
    companies = list({company for company, _values in specs})
    env = env(context=dict(env.context, allowed_company_ids=companies))
    env["res.company"].browse(companies).write({"intercompany_invoicing": False})
    env.cr.commit()
    started = time.perf_counter()
    created = env["account.move"]
    for company, values in specs:
        move = env["account.move"].with_company(company).create(values)
        move.action_post()
        created |= move
    env.cr.commit()
    seconds = time.perf_counter() - started
    env["res.company"].browse(companies).write({"intercompany_invoicing": True})
    env.cr.commit()
    return {
        "seconds": seconds,
        "documents": len(created),
        "lines": len(created.invoice_line_ids),
        "amount": sum(
            created.filtered(lambda m: m.move_type == "out_invoice").mapped("amount_untaxed")
        ),
    }


STEPS = {"ic_setup": ic_setup, "ic_recharge": ic_recharge, "ic_direct_orm": ic_direct_orm}
