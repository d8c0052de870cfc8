"""Two billing runs started at the same moment in two Odoo processes bill nothing twice."""

import json
import subprocess

from .conftest import query
from .test_queue_processes import setup, step_command


def result_of(process):
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_runs_at_once_bill_every_item_exactly_once(integration_db, tmp_path):
    db = integration_db
    contracts, lines_each = 40, 10
    made = setup(db, "make_contracts", contracts, lines_each, "1", "RACE")
    order_ids = made["orders"]
    barrier = tmp_path / "billing-runs-ready"  # both processes load Odoo, then start together
    runs = [
        subprocess.Popen(
            step_command(db, "bill_with_run", json.dumps(order_ids), reverse, barrier),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for reverse in ("0", "1")
    ]
    first, second = (result_of(process) for process in runs)

    # Every timesheet line billed exactly once, on a live invoice of its own contract.
    rows = query(
        db,
        """SELECT count(*), count(l.ps_invoice_line_id), count(DISTINCT l.ps_invoice_line_id)
           FROM account_analytic_line l JOIN sale_order_line sol ON sol.id = l.so_line
           WHERE sol.order_id = ANY(%s)""",
        (order_ids,),
    )[0]
    assert rows[0] == contracts * lines_each and rows[1] == rows[0], f"every line billed: {rows}"
    per_order = dict(
        query(
            db,
            """SELECT sol.order_id, count(DISTINCT aml.move_id)
           FROM account_move_line aml JOIN account_move m ON m.id = aml.move_id
           JOIN sale_order_line sol ON sol.id = aml.ps_sale_line_id
           WHERE sol.order_id = ANY(%s) AND m.state != 'cancel'
           GROUP BY sol.order_id""",
            (order_ids,),
        )
    )
    assert len(per_order) == contracts and set(per_order.values()) == {1}, (
        f"one invoice per contract, never two: {per_order}"
    )
    qty = query(
        db,
        "SELECT DISTINCT qty_invoiced FROM sale_order_line WHERE order_id = ANY(%s)",
        (order_ids,),
    )
    assert qty == [(lines_each * 1.5,)], f"Odoo's invoiced quantity is right: {qty}"
    total = first["amount"] + second["amount"]
    assert round(total, 2) == contracts * lines_each * 1.5 * 150.0
    assert first["invoices"] + second["invoices"] == contracts
    assert first["invoices"] > 0 and second["invoices"] > 0, "both runs billed contracts"

    # The two runs really ran at the same time.
    spans = {
        name: (
            min(start for _g, start, _e, _rss in run["trace"]),
            max(end for _g, _s, end, _rss in run["trace"]),
        )
        for name, run in (("first", first), ("second", second))
    }
    overlap = min(spans["first"][1], spans["second"][1]) - max(
        spans["first"][0], spans["second"][0]
    )
    assert overlap > 0, f"the runs did not overlap: {spans}"
    print(
        f"\n[integration] two billing runs over {contracts} contracts overlapped {overlap:.2f} s: "
        f"{first['invoices']} + {second['invoices']} invoices, "
        f"{first['concurrent_skips'] + second['concurrent_skips']} contract(s) skipped as being "
        f"billed by the other run; {contracts * lines_each} lines billed once"
    )
