"""The whole loop of issue 13, every addon installed, real commits, over loopback HTTP:

a deal won in the fake Salesforce -> engagement (confirmed governed contract with its project,
connector_crm) -> project provisioned in the fake Harvest (connector_psa) -> time logged and
approved there -> imported as approved timesheet lines -> billed by a ps_billing_rules run ->
invoice posted and paid -> the Harvest entries marked with the invoice, and the CRM deal shows
what was invoiced and paid.

Small on purpose (one deal, two entries): it proves the addons fit together; volume and faults
are the benchmark's and the Odoo tests'. Three Odoo step processes, on a copy of the session's
installed suite database.
"""

import datetime
import json
import time

import pytest

from tests.fakes.harvest import FakeHarvest
from tests.fakes.salesforce_fake import FakeSalesforce

from .conftest import fresh_database
from .test_queue_processes import setup

PEOPLE = {"ann.lead@example.com": "Ann Lead"}
HOURLY = 150.0
ENTRIES = ((6.5, 6.5), (1.1, 1.25))  # (hours logged, what Harvest rounds them to: 15 min)


@pytest.fixture(scope="module")
def loop_db():
    with fresh_database("suite_psa_loop") as dbname:  # a copy of the session's suite database
        yield dbname


@pytest.fixture
def salesforce():
    fake = FakeSalesforce(port=0).start()
    yield fake
    fake.stop()


@pytest.fixture
def harvest():
    fake = FakeHarvest().start()
    yield fake
    fake.stop()


def test_deal_to_paid_invoice_through_harvest(loop_db, salesforce, harvest):
    started = time.monotonic()
    sf = salesforce
    ann = harvest.add_user("Ann", "Lead", "ann.lead@example.com", cost_rates=[(None, 60)])
    config = setup(
        loop_db,
        "loop_setup",
        sf.url,
        sf.client_id,
        sf.client_secret,
        harvest.url,
        harvest.account_id,
        harvest.personal_access_token,
        json.dumps(PEOPLE),
    )
    assert config["linked"] >= 1, f"Ann's Harvest user is linked to her employee: {config}"

    # Sales wins a T&M deal in Salesforce (40 consulting hours at 150).
    for name, kind in config["writeback_fields"]:
        sf.add_field("Opportunity", name, kind)
    product = sf.add_product(
        "Consulting hours", "CONS-H", list_price=HOURLY, QuantityUnitOfMeasure="Hour"
    )
    account = sf.add_account(Name="Loop Customer Inc", AccountNumber="LOOP-1")
    won = datetime.date.today() - datetime.timedelta(days=20)
    deal = sf.add_opportunity(
        account,
        name="Loop: data platform",
        close_date=won.isoformat(),
        lines=[{"product_id": product, "quantity": 40.0, "unit_price": HOURLY}],
        **config["deal_fields"],
    )

    # Odoo: the engagement, and its contract provisioned in Harvest by the same queue run.
    engagement = setup(loop_db, "loop_engagement", config["backend_id"], config["psa_backend_id"])
    assert len(engagement["orders"]) == 1, engagement
    order = engagement["orders"][0]
    assert order["state"] == "sale" and order["governed"] and order["project_id"], order
    assert "psa.provision:done:1" in engagement["jobs"], "\n".join(engagement["jobs"])
    projects = [p for p in harvest.store.projects.values() if p.get("code") == order["psa_code"]]
    assert len(projects) == 1, (
        f"one Harvest project coded {order['psa_code']}: {list(harvest.store.projects.values())}"
    )
    project = projects[0]
    assignments = [
        a for a in harvest.store.task_assignments.values() if a["project_id"] == project["id"]
    ]
    assert len(assignments) == 1, f"one task per contract line: {assignments}"
    task_id = assignments[0]["task_id"]

    # Ann logs her time in Harvest (the PM assigns her); the week is approved.
    harvest.assign_user(project["id"], ann)
    day = won + datetime.timedelta(days=3)
    entries = [
        harvest.log_time(ann, project["id"], task_id, day, hours, "Data model workshop")
        for hours, _rounded in ENTRIES
    ]
    harvest.approve(entries)

    # Odoo: imported, billed, invoice posted and paid; Harvest and the CRM are told.
    billed = setup(
        loop_db, "loop_bill", config["backend_id"], config["psa_backend_id"], order["id"]
    )
    imported = billed["imported"]
    rounded = sum(r for _h, r in ENTRIES)
    assert sorted(line["remote_id"] for line in imported) == sorted(map(str, entries)), imported
    assert all(
        line["approval"] == "approved" and line["date"] == day.isoformat() for line in imported
    ), f"approved lines dated with Harvest's spent_date: {imported}"
    assert {line["so_line"] for line in imported} == {order["lines"][0]["id"]}, imported
    assert sum(line["hours"] for line in imported) == pytest.approx(rounded), imported

    assert len(billed["invoices"]) == 1, billed
    invoice = billed["invoices"][0]
    assert invoice["state"] == "posted" and invoice["payment_state"] in ("paid", "in_payment")
    assert invoice["amount_untaxed"] == pytest.approx(rounded * HOURLY), (
        f"{rounded} rounded hours at {HOURLY}: {invoice}"
    )
    assert billed["billed"] == ["billed"] * len(ENTRIES), billed
    assert billed["marked"] == [invoice["name"]] * len(ENTRIES), billed
    for entry in entries:
        reference = harvest.time_entry(entry)["external_reference"]
        assert reference and reference["group_id"] == invoice["name"], (
            f"Harvest shows Odoo's invoice on entry {entry}: {reference}"
        )
    # Only the PSA's API owner (no employee in Odoo) waits for a person.
    unfinished = [job for job in billed["jobs"] if job.startswith("! ")]
    assert all("psa.person.sync" in job for job in unfinished), billed["jobs"]

    opportunity = next(r for r in sf.records("Opportunity") if r["Id"] == deal)
    assert opportunity.get("Odoo_Invoiced_Total__c") == pytest.approx(invoice["amount_total"]), (
        opportunity
    )
    assert opportunity.get("Odoo_Paid_Total__c") == pytest.approx(invoice["amount_total"]), (
        opportunity
    )
    assert opportunity.get("Odoo_Last_Invoice__c") == invoice["name"], opportunity
    print(f"\n[loop] deal to paid invoice, told back: {time.monotonic() - started:.1f} s")
