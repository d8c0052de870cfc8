"""Two recharge runs started at the same moment in two Odoo processes, on the same period:
nothing is recharged twice, everything once, and the two runs really overlapped."""

import json
import subprocess

import pytest

from .conftest import query
from .test_queue_processes import setup, step_command

LINES = 6000


@pytest.fixture(scope="module")
def ic_db(integration_db):
    """The session's integration database: the whole suite, ps_intercompany included."""
    return integration_db


def result_of(process):
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err[-4000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_recharge_runs_at_once_recharge_every_item_exactly_once(ic_db, tmp_path):
    db = ic_db
    made = setup(db, "ic_setup", LINES)
    companies = json.dumps(made["companies"])
    barrier = tmp_path / "recharge-runs-ready"  # both processes load Odoo, then start together
    runs = [
        subprocess.Popen(
            step_command(db, "ic_recharge", companies, reverse, barrier, "0", "1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for reverse in ("0", "1")
    ]
    first, second = (result_of(process) for process in runs)

    # Every timesheet line charged exactly once, under its own agreement.
    twice = query(
        db,
        """SELECT item_ref, count(*) FROM ps_ic_recharge_entry
           WHERE kind = 'charge' AND item_model = 'account.analytic.line'
           GROUP BY item_ref HAVING count(*) > 1""",
    )
    assert twice == [], f"items charged twice: {twice[:10]}"
    charged = query(
        db,
        """SELECT count(DISTINCT l.id) FROM account_analytic_line l
           JOIN ps_ic_recharge_entry x ON x.item_model = 'account.analytic.line' AND x.item_ref = l.id
           WHERE l.company_id = ANY(%s)""",
        (made["companies"],),
    )[0][0]
    assert charged == LINES, f"{charged} of {LINES} lines recharged"
    per_agreement = dict(
        query(
            db,
            """SELECT agreement_id, count(*) FROM ps_ic_recharge
               WHERE agreement_id = ANY(%s) GROUP BY agreement_id""",
            (made["agreements"],),
        )
    )
    assert per_agreement == dict.fromkeys(made["agreements"], 1), (
        f"one recharge per agreement and period, never two: {per_agreement}"
    )
    assert first["items"] + second["items"] == LINES
    assert len(first["invoices"]) + len(second["invoices"]) == len(made["agreements"])
    assert first["invoices"] and second["invoices"], "both runs recharged agreements"
    ledger = query(
        db,
        "SELECT round(sum(amount)::numeric, 2) FROM ps_ic_recharge_entry WHERE agreement_id = ANY(%s)",
        (made["agreements"],),
    )[0][0]
    rounding = 0.005 * (first["invoice_lines"] + second["invoice_lines"]) + 0.01
    assert abs(float(ledger) - (first["amount"] + second["amount"])) <= rounding, (
        f"the invoices carry what the ledger recorded: {ledger} vs {first['amount'] + second['amount']}"
    )

    # The two runs really ran at the same time.
    spans = {
        name: (
            min(start for _s, start, _e in run["trace"]),
            max(end for _s, _b, end in run["trace"]),
        )
        for name, run in (("first", first), ("second", second))
    }
    overlap = min(spans["first"][1], spans["second"][1]) - max(
        spans["first"][0], spans["second"][0]
    )
    assert overlap > 0, f"the runs did not overlap: {spans}"
    print(
        f"\n[integration] two recharge runs over {len(made['agreements'])} agreements overlapped "
        f"{overlap:.2f} s: {len(first['invoices'])} + {len(second['invoices'])} invoices, "
        f"{first['concurrent'] + second['concurrent']} agreement(s) skipped as being recharged by "
        f"the other run; {LINES} timesheet lines recharged once"
    )
