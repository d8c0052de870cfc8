"""Intercompany benchmark: 50,000 cross-company timesheet lines over 3 companies recharged (a
run reading, pricing and recording every line, one invoice per agreement, then posted so that
OCA account_invoice_inter_company mirrors each as a vendor bill), against the time to create and
post the same invoices and bills directly with the ORM, measured in the same run.
Run by ``make bench``, not ``make test``."""

import json
import os
import subprocess

import pytest

from tests.integration.conftest import fresh_database, query
from tests.integration.test_queue_processes import setup, step_command

LINES = int(os.environ.get("BENCH_IC_LINES", "50000"))
EMPLOYEES = os.environ.get("BENCH_IC_EMPLOYEES", "20")
PROJECTS = os.environ.get("BENCH_IC_PROJECTS", "8")


def step(db, name, *args):
    process = subprocess.run(
        step_command(db, name, *args), capture_output=True, text=True, timeout=3600
    )
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bench_db():
    with fresh_database("suite_bench_ic", "ps_intercompany") as dbname:
        yield dbname


def test_recharge_against_direct_orm_creation(bench_db):
    db = bench_db
    query(db, "UPDATE ir_cron SET active = false")  # nothing else competes for the machine
    made = setup(db, "ic_setup", LINES, EMPLOYEES, PROJECTS)
    ours = step(db, "ic_recharge", json.dumps(made["companies"]))
    ours_total = ours["recharge_seconds"] + ours["post_seconds"]
    baseline = step(db, "ic_direct_orm", json.dumps(ours["invoices"]))
    charged = query(
        db,
        "SELECT count(*) FROM ps_ic_recharge_entry WHERE kind = 'charge' AND agreement_id = ANY(%s)",
        (made["agreements"],),
    )[0][0]
    mirrored = query(
        db,
        "SELECT count(*) FROM account_move WHERE auto_invoice_id = ANY(%s) AND state = 'posted'",
        (ours["invoices"],),
    )[0][0]
    ratio = baseline["seconds"] / ours_total
    passed = ours_total <= baseline["seconds"]
    print(
        "\n".join(
            [
                "",
                "=== ps_intercompany benchmark ===",
                f"data      {LINES} approved cross-company timesheet lines, 3 companies (EUR, USD, GBP), "
                f"{EMPLOYEES} consultants and {PROJECTS} projects each, {len(made['agreements'])} agreements "
                f"(set up in {made['seconds']:.0f} s)",
                f"ours      recharge run: {ours['recharge_seconds']:7.1f} s ({charged} lines priced and recorded, "
                f"{len(ours['invoices'])} invoices, {ours['invoice_lines']} invoice lines)",
                f"          posting + OCA mirrors: {ours['post_seconds']:7.1f} s ({mirrored} vendor bills posted)",
                f"          total: {ours_total:7.1f} s",
                f"direct    ORM create + post of the same {baseline['documents']} invoices and bills "
                f"({baseline['lines']} lines): {baseline['seconds']:7.1f} s",
                f"ratio     direct / ours = {ratio:.2f} (above 1: the recharge is faster)",
                "target: the recharge (run + posting with mirrors) no slower than the direct ORM creation",
                f"{'PASS' if passed else 'FAIL'}",
                "",
            ]
        )
    )
    assert charged == LINES, f"{charged} of {LINES} lines recharged"
    assert mirrored == len(ours["invoices"]) == len(made["agreements"])
    assert abs(baseline["amount"] - ours["amount"]) < 0.01, "the baseline creates the same invoices"
    assert passed, f"recharge {ours_total:.1f} s > direct ORM {baseline['seconds']:.1f} s"
