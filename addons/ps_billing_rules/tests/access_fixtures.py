"""Records of ps_billing_rules for connector_base's access matrix (test_access_matrix.py loads
``fixtures(case)`` of every suite addon that has this module): each billing button is pressed on
one of these, as a user of each group. Built on the demo's Globex contract (the test database
has demo data); without it, the buttons are listed as "no record"."""

from datetime import date, timedelta


def fixtures(case):
    env = case.env
    globex = env.ref("ps_billing_rules.partner_demo_globex", raise_if_not_found=False)
    contract = globex and env["sale.order"].search(
        [("partner_id", "=", globex.id), ("ps_governed", "=", True)], limit=1
    )
    if not contract:
        return {}
    today = date.today()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    waiting = env["account.analytic.line"].search(
        [("so_line.order_id", "=", contract.id), ("ps_approval_state", "=", "submitted")],
        limit=1,
    )
    records = {
        "ps.billing.run": env["ps.billing.run"].create(
            {
                "name": "Matrix run",
                "period_end": last_month_end,
                "order_ids": [(6, 0, contract.ids)],
            }
        ),
        "ps.billing.run.wizard": env["ps.billing.run.wizard"].create(
            {"period_end": last_month_end, "partner_ids": [(6, 0, globex.ids)]}
        ),
        "ps.kpi.dashboard": env["ps.kpi.dashboard"].create({}),
        "ps.period.close.wizard": env["ps.period.close.wizard"].create(
            {"period_end": last_month_end}
        ),
        "ps.prebill": env["ps.prebill"]._for_contract(contract, today),
    }
    if waiting:
        # The time of Globex's analyst waiting for approval (the demo's "Time to approve").
        records["account.analytic.line"] = waiting
    return records
