#!/usr/bin/env python3
"""The fake PSA tools of ``make demo``: Harvest on 127.0.0.1:8083, Kantata on 127.0.0.1:8084.

``setup/harness.py demo`` starts every ``tests/fakes/demo_*.py`` from the repository root and
stops it with SIGTERM (Ctrl-C sends SIGINT too); both stop the servers cleanly. Both fakes are
seeded with last month of the demo consultancy (``tests/fakes/psa_seed.py``: three projects whose
codes are the Odoo demo contracts' references, four people, time and expenses), including an
entry edited after approval, one deleted after approval and a week un-approved after approval.
The credentials below are those the demo backends of ``connector_psa`` are configured with:
change them together. Harvest's rate limit is on (100 requests per 15 s), as in Harvest.
"""

import signal
import sys
import threading
from pathlib import Path

# Run as a script, Python puts tests/fakes/ on sys.path, not the repository root the fakes'
# own imports (tests.fakes...) start from.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes.harvest import FakeHarvest  # noqa: E402
from tests.fakes.kantata import FakeKantata  # noqa: E402

HARVEST_PORT = 8083
KANTATA_PORT = 8084

# What the demo backends are configured with (connector_psa demo data).
HARVEST_ACCOUNT_ID = 123456
HARVEST_TOKEN = "fake-harvest-pat"
HARVEST_CLIENT_ID = "fake-harvest-client"
HARVEST_CLIENT_SECRET = "fake-harvest-secret"
KANTATA_TOKEN = "fake-kantata-token"
KANTATA_CLIENT_ID = "fake-kantata-client"
KANTATA_CLIENT_SECRET = "fake-kantata-secret"


def build_fakes():
    harvest = FakeHarvest(
        account_id=HARVEST_ACCOUNT_ID,
        personal_access_token=HARVEST_TOKEN,
        client_id=HARVEST_CLIENT_ID,
        client_secret=HARVEST_CLIENT_SECRET,
        port=HARVEST_PORT,
    )
    kantata = FakeKantata(
        client_id=KANTATA_CLIENT_ID,
        client_secret=KANTATA_CLIENT_SECRET,
        api_token=KANTATA_TOKEN,
        port=KANTATA_PORT,
    )
    return harvest, kantata


def main():
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    harvest, kantata = build_fakes()
    started = []
    try:
        for name, fake, port in (
            ("Harvest", harvest, HARVEST_PORT),
            ("Kantata", kantata, KANTATA_PORT),
        ):
            try:
                fake.start()
            except OSError as exc:
                print(
                    f"[demo_psa] cannot listen on 127.0.0.1:{port} for the fake {name} ({exc}): "
                    "stop what uses that port (ss -ltnp) and start the demo again",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
            started.append(fake)
        # Seeded after start: receipt URLs point at the running server.
        seeded = {"Harvest": harvest.seed_demo(), "Kantata": kantata.seed_demo()}
        start, end = seeded["Harvest"]["month"]
        counts = ", ".join(
            f"{name} {len(ids['entries'])} entries/{len(ids['expenses'])} expenses"
            for name, ids in seeded.items()
        )
        print(
            f"[demo_psa] fake Harvest on {harvest.url}, fake Kantata on {kantata.url} "
            f"({start:%Y-%m-%d}..{end:%Y-%m-%d}: {counts}; SIGTERM or Ctrl-C stops them)",
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
