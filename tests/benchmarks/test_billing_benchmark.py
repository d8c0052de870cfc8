"""Billing benchmark: our billing run against Odoo's native invoicing on identical data, and the
KPI reporting over 200,000 timesheet lines. Run by ``make bench``, not ``make test``."""

import json
import os
import subprocess

import pytest

from tests.integration.conftest import fresh_database
from tests.integration.test_queue_processes import setup, step_command

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "1000"))
LINES = int(os.environ.get("BENCH_LINES", "20"))
KPI_LINES = int(os.environ.get("BENCH_KPI_LINES", "200000"))


def step(db, name, *args):
    process = subprocess.run(
        step_command(db, name, *args), capture_output=True, text=True, timeout=3600
    )
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bench_db():
    with fresh_database("suite_bench_billing", "ps_billing_rules") as dbname:
        yield dbname


TARGET_RATIO = 2.0  # our billing run at least twice as fast as Odoo's own invoicing
MAX_GROWTH_MB = 40.0  # resident memory growth from the first chunk to the last


def test_billing_run_against_native_invoicing(bench_db):
    db = bench_db
    governed = setup(db, "make_contracts", CONTRACTS, LINES, "1", "GOV")
    plain = setup(db, "make_contracts", CONTRACTS, LINES, "0", "PLAIN")
    ours = step(db, "bill_with_run", json.dumps(governed["orders"]))
    native = step(db, "bill_natively", json.dumps(plain["orders"]))
    expected = round(CONTRACTS * LINES * 1.5 * 150.0, 2)
    kpi = step(db, "kpi_dataset", KPI_LINES)
    ratio = native["seconds"] / ours["seconds"]
    speed = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    chunks = ours["trace"]
    rss = [round(chunk[3]) for chunk in chunks]
    growth = rss[-1] - rss[0]
    memory = "PASS" if growth <= MAX_GROWTH_MB else "FAIL"
    kpi_ok = "PASS" if kpi["read_group_seconds"] < 2.0 else "FAIL"
    print(
        "\n".join(
            [
                "",
                "=== ps_billing_rules benchmark ===",
                f"data      {CONTRACTS} contracts x {LINES} approved timesheet lines, twice "
                f"(governed: {governed['seconds']:.0f} s to create, plain: {plain['seconds']:.0f} s)",
                f"ours      billing run:           {ours['seconds']:7.1f} s, {ours['invoices']} draft invoices, "
                f"{ours['amount']:,.2f} untaxed, {len(chunks)} chunks, peak RSS {ours['max_rss_mb']:.0f} MB",
                f"native    sale.order._create_invoices: {native['seconds']:7.1f} s, {native['invoices']} draft "
                f"invoices, {native['amount']:,.2f} untaxed, peak RSS {native['max_rss_mb']:.0f} MB",
                f"speed     native / ours = {ratio:.2f} (target >= {TARGET_RATIO:.1f}): {speed}",
                f"memory    RSS after each chunk (MB): {rss}; growth first -> last chunk "
                f"{growth:+.0f} MB (target <= {MAX_GROWTH_MB:.0f} MB, flat with the number of contracts): {memory}",
                f"KPIs      {KPI_LINES} timesheet lines: refresh {kpi['refresh_seconds']:.1f} s -> {kpi['facts']} "
                f"fact rows; grouped read (employee x month, {kpi['groups']} groups) "
                f"{kpi['read_group_seconds'] * 1000:.0f} ms (target < 2 s): {kpi_ok}; dashboard "
                f"{kpi['dashboard_seconds'] * 1000:.0f} ms",
                "",
            ]
        )
    )
    assert ours["invoices"] == native["invoices"] == CONTRACTS
    assert round(ours["amount"], 2) == round(native["amount"], 2) == expected, (
        "both bill the same total"
    )
    assert ratio >= TARGET_RATIO, f"our run is {ratio:.2f}x native, not {TARGET_RATIO}x"
    assert growth <= MAX_GROWTH_MB, f"memory grew {growth:.0f} MB over the run's chunks"
    assert kpi["read_group_seconds"] < 2.0
