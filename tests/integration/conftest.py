"""Multi-process integration tests: real commits, real Odoo server processes, a database of
their own (created here, dropped at the end).

Run by ``make test`` after the Odoo tests; ``SUITE_ODOO_CONFIG`` (set by setup/harness.py) is the
Odoo configuration to use and the PG* variables point at the same PostgreSQL server.
"""

import configparser
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _config():
    path = os.environ.get("SUITE_ODOO_CONFIG")
    if not path:
        pytest.exit(
            "SUITE_ODOO_CONFIG is not set: run the integration tests through `make test`",
            returncode=2,
        )
    return path


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def query(dbname, sql, params=None):
    with contextlib.closing(connect(dbname)) as conn, conn.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall() if cr.description else None


def odoo_command(dbname, *args):
    """An Odoo server command line on the harness's configuration."""
    return [sys.executable, "-m", "odoo", "-c", _config(), "-d", dbname, *args]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """A real Odoo server process (its own process group, so it can be SIGKILLed whole)."""

    def __init__(self, dbname, log_path, cron_threads=1, extra_args=()):
        self.dbname = dbname
        self.log_path = log_path
        self.cron_threads = cron_threads
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            odoo_command(
                self.dbname,
                f"--db-filter=^{self.dbname}$",
                f"--http-port={self.port}",
                f"--max-cron-threads={self.cron_threads}",
                *(self.extra_args or ["--log-level=info"]),
            ),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self):
        return self.process.pid

    def kill(self):
        """SIGKILL, no chance to clean up: what a crashed or OOM-killed worker looks like."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        if getattr(self, "log", None):
            self.log.close()


def wait_until(predicate, timeout, interval=0.5, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def suite_modules():
    """Every addon of the suite and the test addon: what a firm installs, together."""
    names = sorted(p.parent.name for p in (ROOT / "addons").glob("*/__manifest__.py"))
    return ",".join(["connector_base_test", *names])


def _filestore(dbname):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(_config())
    return Path(parser["options"]["data_dir"]) / "filestore" / dbname


def _install(dbname, modules):
    subprocess.run(["dropdb", "--if-exists", dbname], check=True)
    started = time.monotonic()
    result = subprocess.run(
        odoo_command(
            dbname,
            "-i",
            modules,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    print(
        f"\n[setup] database {dbname} ({modules}) installed in {time.monotonic() - started:.0f} s"
    )


def _drop(dbname):
    subprocess.run(["dropdb", "--if-exists", "--force", dbname], check=False)
    shutil.rmtree(_filestore(dbname), ignore_errors=True)


# Installed databases of this session, by module list: each is installed once and copied for
# every test module that asks for it (a copy takes seconds, an install minutes).
_TEMPLATES = {}


@pytest.fixture(scope="session", autouse=True)
def _drop_templates():
    yield
    for template in _TEMPLATES.values():
        _drop(template)


@contextlib.contextmanager
def fresh_database(prefix, modules=None):
    """A fresh database with ``modules`` (default: the whole suite) and no demo data, dropped
    after: a copy (``CREATE DATABASE ... TEMPLATE``, filestore copied) of a database installed
    once per session with those modules."""
    modules = modules or suite_modules()
    template = _TEMPLATES.get(modules)
    if template is None:
        template = f"suite_template_{len(_TEMPLATES) + 1}_{os.getpid()}"
        _install(template, modules)
        _TEMPLATES[modules] = template
    dbname = f"{prefix}_{os.getpid()}"
    _drop(dbname)
    subprocess.run(["createdb", "-T", template, dbname], check=True)
    if _filestore(template).exists():
        shutil.copytree(_filestore(template), _filestore(dbname))
    try:
        yield dbname
    finally:
        _drop(dbname)


@pytest.fixture(scope="session")
def integration_db():
    with fresh_database("suite_integration") as dbname:
        yield dbname


@pytest.fixture
def logs_dir(tmp_path):
    return tmp_path


@pytest.fixture
def servers(logs_dir):
    started = []

    def start(dbname, name, cron_threads=1):
        server = OdooServer(dbname, logs_dir / f"{name}.log", cron_threads).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
