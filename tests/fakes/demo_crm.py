#!/usr/bin/env python3
"""The fake CRMs of ``make demo``: Salesforce on 127.0.0.1:8081, HubSpot on 127.0.0.1:8082.

``setup/harness.py demo`` starts every ``tests/fakes/demo_*.py`` with the interpreter that runs
the harness, from the repository root, and stops it with SIGTERM (Ctrl-C in the terminal sends
SIGINT as well); both stop the servers cleanly. The ports and credentials are those of the two
demo backends of ``connector_crm`` (``demo/connector_crm_demo.xml`` and
``models/connector_crm_demo.py``): change them together.

Both fakes are seeded with their demo deals (``seed_demo``): closed-won deals of every billing
model, an open deal, and a won deal with an unmapped product code (NEW-SKU) that ends in the
needs-attention list. The Salesforce org also has the Opportunity custom fields the write-back
fills (``SF_WRITEBACK_DEFAULTS`` of ``connector_crm``); the HubSpot fake accepts any property,
so nothing is declared there.
"""

import signal
import sys
import threading
from pathlib import Path

# Run as a script, Python puts tests/fakes/ on sys.path, not the repository root the fakes'
# own imports (tests.fakes.http_fake) start from.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.hubspot import FakeHubSpot  # noqa: E402
from tests.fakes.salesforce import FakeSalesforce  # noqa: E402

SALESFORCE_PORT = 8081
HUBSPOT_PORT = 8082

# What the demo backends are configured with (connector_crm demo data).
SALESFORCE_CLIENT_ID = "fake-client-id"
SALESFORCE_CLIENT_SECRET = "fake-client-secret"
HUBSPOT_CLIENT_ID = "fake-hs-client"
HUBSPOT_CLIENT_SECRET = "fake-hs-secret"
HUBSPOT_PRIVATE_APP_TOKEN = "pat-na1-fake-token"

# Opportunity fields of the write-back: connector_crm's SF_WRITEBACK_DEFAULTS, with the types an
# admin gives them in Salesforce (as in connector_crm/tests/common.py).
SALESFORCE_WRITEBACK_FIELDS = {
    "Odoo_Invoiced_Total__c": "double",
    "Odoo_Paid_Total__c": "double",
    "Odoo_Outstanding__c": "double",
    "Odoo_Overdue__c": "double",
    "Odoo_Last_Invoice__c": "string",
    "Odoo_Last_Invoice_Date__c": "date",
    "Odoo_Last_Invoice_Status__c": "string",
    "Odoo_Project_Status__c": "string",
    "Odoo_Milestones_Reached__c": "string",
    "Odoo_Percent_Complete__c": "double",
}


def build_fakes():
    salesforce = FakeSalesforce(
        client_id=SALESFORCE_CLIENT_ID,
        client_secret=SALESFORCE_CLIENT_SECRET,
        port=SALESFORCE_PORT,
    )
    for name, field_type in SALESFORCE_WRITEBACK_FIELDS.items():
        salesforce.add_field("Opportunity", name, field_type)
    salesforce.seed_demo()
    hubspot = FakeHubSpot(
        client_id=HUBSPOT_CLIENT_ID,
        client_secret=HUBSPOT_CLIENT_SECRET,
        private_app_token=HUBSPOT_PRIVATE_APP_TOKEN,
        port=HUBSPOT_PORT,
    )
    hubspot.seed_demo()
    return salesforce, hubspot


def main():
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    salesforce, hubspot = build_fakes()
    started = []
    try:
        for name, fake, port in (
            ("Salesforce", salesforce, SALESFORCE_PORT),
            ("HubSpot", hubspot, HUBSPOT_PORT),
        ):
            try:
                fake.start()
            except OSError as exc:
                print(
                    f"[demo_crm] cannot listen on 127.0.0.1:{port} for the fake {name} ({exc}): "
                    "stop what uses that port (ss -ltnp) and start the demo again",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            started.append(fake)
        print(
            f"[demo_crm] fake Salesforce on {salesforce.url}, fake HubSpot on {hubspot.url} "
            "(demo deals seeded; SIGTERM or Ctrl-C stops them)",
            flush=True,
        )
        while not stop.wait(1.0):
            pass
    finally:
        for fake in reversed(started):
            fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
