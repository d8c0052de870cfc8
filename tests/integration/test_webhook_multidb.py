"""Webhooks on a server that hosts several databases and has no dbfilter: the database named in
the URL receives the event (connector_base is server-wide in .odoo_config)."""

import importlib.util
import json
import subprocess
import sys
import time

import requests

from .conftest import ROOT, _config, free_port, query, wait_until
from .test_queue_processes import reset_queue, setup

SECRET = "multi-db-webhook-secret"


def _signatures():
    """The engine's signature module, loaded from its file (the tests never import Odoo)."""
    path = ROOT / "addons" / "connector_base" / "engine" / "signatures.py"
    spec = importlib.util.spec_from_file_location("connector_signatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_webhook_reaches_the_database_named_in_the_url(integration_db, logs_dir):
    db = integration_db
    reset_queue(db)
    backend_id = setup(db, "make_backend")
    key = setup(db, "webhook_key", backend_id, SECRET)
    other_db = f"{db}_other"
    subprocess.run(["dropdb", "--if-exists", other_db], check=True)
    subprocess.run(["createdb", other_db], check=True)  # a second database on the server
    port = free_port()
    log = open(logs_dir / "multidb.log", "w")  # noqa: SIM115 - closed below
    # No -d and no --db-filter: every database of the server is served.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "-c",
            _config(),
            f"--http-port={port}",
            "--max-cron-threads=0",
            "--log-level=info",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _up(base), timeout=60, message="the multi-database server")
        dbs = requests.post(f"{base}/web/database/list", json={"params": {}}, timeout=10).json()
        assert {db, other_db} <= set(dbs["result"]), f"the server lists several databases: {dbs}"
        url = f"{base}/connector/webhook/{db}/{key}"
        body = json.dumps(
            {
                "id": "evt-multi-1",
                "type": "record.upsert",
                "object_id": "M-1",
                "data": {"name": "Multi"},
            }
        ).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Connector-Timestamp": str(timestamp),
            "X-Connector-Signature": _signatures().sign_generic(
                SECRET, timestamp, "POST", url, body
            ),
        }
        response = requests.post(url, data=body, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        jobs = query(
            db,
            "SELECT id, operation, state FROM connector_job WHERE idempotency_key = %s",
            ("event:evt-multi-1",),
        )
        assert len(jobs) == 1 and jobs[0][1] == "generic.event", jobs
        assert response.json()["jobs"] == [jobs[0][0]]
        wrong = requests.post(
            f"{base}/connector/webhook/{other_db}/{key}", data=body, headers=headers, timeout=60
        )
        assert wrong.status_code == 404, "another database does not know this backend"
        missing = requests.post(
            f"{base}/connector/webhook/no_such_db/{key}", data=body, headers=headers, timeout=60
        )
        assert missing.status_code == 404
        print(f"\n[integration] multi-database server: webhook for {db} queued job {jobs[0][0]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        subprocess.run(["dropdb", "--if-exists", "--force", other_db], check=False)


def _up(base):
    try:
        return requests.get(f"{base}/web/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False
