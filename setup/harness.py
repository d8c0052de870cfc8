#!/usr/bin/env python3
"""Local harness: throwaway PostgreSQL clusters, test databases, the test suite, the demo.

Used by the Makefile (``make test``, ``make demo``, ``make bench``, ``make stop``). Everything it
creates lives under ``.cache/`` in the repository (ignored by git):

- ``.cache/pg-<name>/``   a PostgreSQL cluster (initdb + pg_ctl; run as the ``postgres`` user when
                          this harness runs as root, because the server refuses to run as root)
- ``.cache/odoo-<name>.conf``  the effective Odoo configuration: ``.odoo_config`` plus the database
                          connection and the addons path of this machine
- ``.cache/run/``         pid files of the demo's processes, so ``make stop`` can clean up

When ``PGHOST`` is set, no cluster is started: the given server is used (``PGPORT``, ``PGUSER``,
``PGPASSWORD`` as libpq reads them).
"""

import argparse
import configparser
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
RUN_DIR = CACHE / "run"
ODOO_CONFIG_TEMPLATE = ROOT / ".odoo_config"
SUITE_ADDONS_DIR = ROOT / "addons"
TEST_ADDONS_DIR = ROOT / "tests" / "addons"
DB_ROLE = "odoo"  # Odoo refuses to connect as "postgres"
DB_PASSWORD = "odoo"


def log(message):
    print(f"[harness] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Odoo discovery
# ---------------------------------------------------------------------------------------------


def odoo_status():
    """Return (importable, reason). Odoo must be 18.x and importable by this interpreter."""
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo.release as r; print(r.version_info[0])"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        return False, f"'import odoo' fails with {sys.executable}: {last}"
    major = probe.stdout.strip()
    if major != "18":
        return False, f"Odoo {major} is importable, but this suite targets Odoo 18.0"
    return True, ""


def odoo_standard_addons_dirs():
    """Odoo's own addons folders on this machine (a source tree keeps them beside odoo/)."""
    out = subprocess.run(
        [sys.executable, "-c", "import odoo, os; print(os.path.dirname(odoo.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout.strip()
    dirs = [os.path.join(out, "addons")]
    source_tree_addons = os.path.abspath(os.path.join(out, "..", "addons"))
    if os.path.isdir(os.path.join(source_tree_addons, "web")):
        dirs.append(source_tree_addons)
    return dirs


def suite_addons(include_tests):
    """Technical names of the suite's addons (and of the test-only addons when asked)."""
    folders = [SUITE_ADDONS_DIR] + ([TEST_ADDONS_DIR] if include_tests else [])
    names = []
    for folder in folders:
        for manifest in sorted(folder.glob("*/__manifest__.py")):
            names.append(manifest.parent.name)
    return names


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


def pg_bindir():
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for candidate in candidates:
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    sys.exit(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install PostgreSQL 15 or newer "
        "(Debian: apt-get install postgresql), or point PGHOST/PGPORT/PGUSER at a running server."
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_as_postgres(argv, **kwargs):
    """Run a PostgreSQL server binary, as the postgres user when we are root."""
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, **kwargs)


class Cluster:
    """A throwaway PostgreSQL cluster under .cache/pg-<name>, or the server PGHOST points at."""

    def __init__(self, name):
        self.name = name
        self.directory = CACHE / f"pg-{name}"
        self.external = bool(os.environ.get("PGHOST"))

    @property
    def port_file(self):
        return self.directory / "port"

    def connection(self):
        if self.external:
            return {
                "db_host": os.environ["PGHOST"],
                "db_port": os.environ.get("PGPORT", "5432"),
                "db_user": os.environ.get("PGUSER", DB_ROLE),
                "db_password": os.environ.get("PGPASSWORD", ""),
            }
        return {
            "db_host": "127.0.0.1",
            "db_port": self.port_file.read_text().strip(),
            "db_user": DB_ROLE,
            "db_password": DB_PASSWORD,
        }

    def running(self):
        if self.external:
            return True
        if not (self.directory / "data" / "postmaster.pid").exists():
            return False
        bindir = pg_bindir()
        status = run_as_postgres(
            [f"{bindir}/pg_ctl", "-D", str(self.directory / "data"), "status"],
            capture_output=True,
        )
        return status.returncode == 0

    def start(self):
        if self.external:
            log(f"using the PostgreSQL server at PGHOST={os.environ['PGHOST']}")
            return
        if self.running():
            log(f"cluster {self.directory} already running on port {self.port_file.read_text()}")
            return
        bindir = pg_bindir()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.directory, postgres.pw_uid, postgres.pw_gid)
        data = self.directory / "data"
        run_as_postgres(
            [f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        port = free_port()
        # Throwaway cluster: sized for the suite's parallel tests (several Odoo processes).
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        )
        run_as_postgres(
            [
                f"{bindir}/pg_ctl",
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self.port_file.write_text(str(port))
        self.psql(
            "postgres",
            f"CREATE ROLE {DB_ROLE} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'",
            user="postgres",
        )
        log(f"PostgreSQL cluster started in {self.directory} on 127.0.0.1:{port}")

    def stop(self):
        if self.external or not (self.directory / "data").exists():
            return
        bindir = pg_bindir()
        run_as_postgres(
            [f"{bindir}/pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
        log(f"PostgreSQL cluster {self.directory} stopped and removed")

    def psql(self, dbname, sql, user=None):
        conn = self.connection()
        env = dict(os.environ, PGPASSWORD=conn["db_password"])
        subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                conn["db_host"],
                "-p",
                str(conn["db_port"]),
                "-U",
                user or conn["db_user"],
                "-d",
                dbname,
                "-c",
                sql,
            ],
            check=True,
            env=env,
        )

    def env(self):
        """libpq environment for tools and tests that connect to this cluster."""
        conn = self.connection()
        return {
            "PGHOST": conn["db_host"],
            "PGPORT": str(conn["db_port"]),
            "PGUSER": conn["db_user"],
            "PGPASSWORD": conn["db_password"],
        }


# ---------------------------------------------------------------------------------------------
# Odoo configuration and databases
# ---------------------------------------------------------------------------------------------


def write_odoo_config(cluster, name, include_tests, extra=None):
    """The effective Odoo configuration: .odoo_config + this machine's connection and paths."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ODOO_CONFIG_TEMPLATE)
    options = parser["options"]
    options.update(cluster.connection())
    addons = [str(SUITE_ADDONS_DIR)]
    if include_tests:
        addons.append(str(TEST_ADDONS_DIR))
    options["addons_path"] = ",".join(addons + odoo_standard_addons_dirs())
    options["data_dir"] = str(CACHE / f"filestore-{name}")
    for key, value in (extra or {}).items():
        options[key] = str(value)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"odoo-{name}.conf"
    with path.open("w") as handle:
        parser.write(handle)
    return path


def odoo_command(config_path, *args):
    return [sys.executable, "-m", "odoo", "-c", str(config_path), *args]


def ensure_encryption_key(env):
    """A throwaway Fernet key for local runs unless one is configured already."""
    if env.get("ODOO_CONNECTOR_KEYS"):
        return env
    key_file = CACHE / "connector_key"
    if not key_file.exists():
        from base64 import urlsafe_b64encode

        key_file.write_text(urlsafe_b64encode(os.urandom(32)).decode())
        key_file.chmod(0o600)
    env["ODOO_CONNECTOR_KEYS"] = key_file.read_text().strip()
    return env


def create_database(cluster, config_path, dbname, addons, env):
    cluster.psql("postgres", f'DROP DATABASE IF EXISTS "{dbname}"')
    log(f"creating database {dbname} with {', '.join(addons)} and demo data")
    started = time.monotonic()
    result = subprocess.run(
        odoo_command(
            config_path,
            "-d",
            dbname,
            "-i",
            ",".join(addons),
            "--stop-after-init",
            "--log-level=warn",
        ),
        env=env,
        cwd=ROOT,
    )
    if result.returncode != 0:
        sys.exit(f"installing {', '.join(addons)} in {dbname} failed (see the log above)")
    log(f"database {dbname} ready in {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def run_pytest(args, env, label):
    log(f"{label}: pytest {' '.join(args)}")
    result = subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT)
    # 5 = no test collected: an addon without tests yet is not a failure of the suite.
    return 0 if result.returncode == 5 else result.returncode


def plain_pytest_args(path, *extra):
    """pytest without the pytest-odoo plugin: these tests start Odoo processes themselves."""
    return [path, "-q", "-s", "-p", "no:cacheprovider", "-p", "no:odoo", *extra]


def cmd_test(opts):
    CACHE.mkdir(exist_ok=True)
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    failures = []

    if run_pytest(
        ["tests/unit", "-q", "-p", "no:cacheprovider", "-p", "no:odoo"], env, "unit tests"
    ):
        failures.append("unit tests")

    importable, reason = odoo_status()
    if not importable:
        print(f"ODOO TESTS NOT RUN: {reason}. Install Odoo 18.0 (see README.md, Prerequisites).")
        return 1 if failures else 0

    cluster = Cluster(f"test-{os.getpid()}")
    dbname = None
    try:
        cluster.start()
        env.update(cluster.env())
        ensure_encryption_key(env)
        dbname = f"suite_test_{os.getpid()}"
        config_path = write_odoo_config(cluster, "test", include_tests=True)
        create_database(cluster, config_path, dbname, suite_addons(include_tests=True), env)

        addon_tests = [
            str(path.relative_to(ROOT))
            for path in sorted(SUITE_ADDONS_DIR.glob("*/tests"))
            if path.is_dir()
        ]
        odoo_args = [
            f"--odoo-config={config_path}",
            f"--odoo-database={dbname}",
            "--odoo-http",
            "--odoo-log-level=warn",
            "-p",
            "no:cacheprovider",
            "-q",
            *addon_tests,
        ]
        if run_pytest(odoo_args, env, "Odoo tests"):
            failures.append("Odoo tests")

        env["SUITE_ODOO_CONFIG"] = str(config_path)
        if run_pytest(plain_pytest_args("tests/integration"), env, "integration tests"):
            failures.append("integration tests")
    finally:
        if cluster.external and dbname:
            # A shared server (PGHOST) keeps nothing of this run.
            subprocess.run(["dropdb", "--if-exists", dbname], env=env, check=False)
        cluster.stop()

    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    print("ALL TEST SUITES PASSED")
    return 0


def cmd_bench(opts):
    importable, reason = odoo_status()
    if not importable:
        sys.exit(f"benchmarks need Odoo 18: {reason}")
    CACHE.mkdir(exist_ok=True)
    cluster = Cluster(f"bench-{os.getpid()}")
    env = dict(os.environ)
    try:
        cluster.start()
        env.update(cluster.env())
        ensure_encryption_key(env)
        config_path = write_odoo_config(cluster, "bench", include_tests=True)
        env["SUITE_ODOO_CONFIG"] = str(config_path)
        return run_pytest(
            plain_pytest_args("tests/benchmarks", *opts.pytest_args), env, "benchmarks"
        )
    finally:
        cluster.stop()


def cmd_dev(opts):
    """Iterate on some addons: a persistent cluster (.cache/pg-dev) and database, reused between
    calls; the database is created on first use, ``--update`` upgrades addons in it, then pytest
    runs the given paths (Odoo tests with pytest-odoo, or ``--plain`` for integration/benchmarks).
    ``make stop`` removes the cluster."""
    importable, reason = odoo_status()
    if not importable:
        sys.exit(f"dev runs need Odoo 18: {reason}")
    CACHE.mkdir(exist_ok=True)
    cluster = Cluster("dev")
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cluster.start()
    env.update(cluster.env())
    ensure_encryption_key(env)
    config_path = write_odoo_config(cluster, "dev", include_tests=True)
    env["SUITE_ODOO_CONFIG"] = str(config_path)
    addons = opts.addons.split(",") if opts.addons else suite_addons(include_tests=True)
    exists = (
        subprocess.run(
            [
                "psql",
                "-X",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{opts.database}'",
                "-d",
                "postgres",
            ],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        == "1"
    )
    if opts.reset or not exists:
        create_database(cluster, config_path, opts.database, addons, env)
    elif opts.update:
        log(f"upgrading {opts.update} in {opts.database}")
        started = time.monotonic()
        result = subprocess.run(
            odoo_command(
                config_path,
                "-d",
                opts.database,
                "-u",
                opts.update,
                "--stop-after-init",
                "--log-level=warn",
            ),
            env=env,
            cwd=ROOT,
        )
        if result.returncode != 0:
            sys.exit("upgrade failed (see the log above)")
        log(f"upgraded in {time.monotonic() - started:.0f} s")
    if not opts.pytest_args:
        log(
            f"database {opts.database} ready; SUITE_ODOO_CONFIG={config_path} "
            + " ".join(f"{k}={v}" for k, v in cluster.env().items())
        )
        return 0
    if opts.plain:
        args = plain_pytest_args(*opts.pytest_args)
    else:
        args = [
            f"--odoo-config={config_path}",
            f"--odoo-database={opts.database}",
            "--odoo-http",
            "--odoo-log-level=warn",
            "-p",
            "no:cacheprovider",
            "-q",
            *opts.pytest_args,
        ]
    return run_pytest(args, env, "dev")


def write_pid(name, pid):
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / f"{name}.pid").write_text(str(pid))


def cmd_demo(opts):
    importable, reason = odoo_status()
    if not importable:
        sys.exit(f"the demo needs Odoo 18: {reason}. See README.md, Prerequisites.")
    CACHE.mkdir(exist_ok=True)
    cluster = Cluster("demo")
    env = ensure_encryption_key(dict(os.environ))
    children = []

    def cleanup(*_args):
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        cluster.stop()
        shutil.rmtree(RUN_DIR, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(0)))
    try:
        cluster.start()
        env.update(cluster.env())
        dbname = opts.database
        config_path = write_odoo_config(
            cluster, "demo", include_tests=False, extra={"http_port": opts.port}
        )
        for fake in demo_fake_servers():
            log(f"starting fake server: {' '.join(fake)}")
            child = subprocess.Popen(fake, env=env, cwd=ROOT)
            children.append(child)
            write_pid(f"fake-{child.pid}", child.pid)
        create_database(cluster, config_path, dbname, suite_addons(include_tests=False), env)
        log(f"Odoo on http://localhost:{opts.port} (login admin / password admin); Ctrl-C stops")
        server = subprocess.Popen(odoo_command(config_path, "-d", dbname), env=env, cwd=ROOT)
        children.append(server)
        write_pid("odoo", server.pid)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        cleanup()
    return 0


def demo_fake_servers():
    """Commands of the fake remote servers the demo needs (each connector addon ships its own)."""
    commands = []
    for script in sorted((ROOT / "tests" / "fakes").glob("demo_*.py")):
        commands.append([sys.executable, str(script)])
    return commands


def cmd_stop(opts):
    for pid_file in sorted(RUN_DIR.glob("*.pid")) if RUN_DIR.exists() else []:
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            log(f"stopped {pid_file.stem} (pid {pid_file.read_text()})")
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    for directory in sorted(CACHE.glob("pg-*")) if CACHE.exists() else []:
        Cluster(directory.name[3:]).stop()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("test", help="the whole test suite (what make test runs)")
    bench = sub.add_parser("bench", help="the benchmarks (what make bench runs)")
    bench.add_argument("pytest_args", nargs="*")
    demo = sub.add_parser("demo", help="a demo database served on http://localhost:8069")
    demo.add_argument("--database", default="suite_demo")
    demo.add_argument("--port", type=int, default=8069)
    sub.add_parser("stop", help="stop what make demo started and remove throwaway clusters")
    dev = sub.add_parser("dev", help="a persistent dev database; runs the given tests in it")
    dev.add_argument("--database", default="suite_dev")
    dev.add_argument("--addons", help="addons of a new database (default: all, with test addons)")
    dev.add_argument("--update", help="comma-separated addons to upgrade before the tests")
    dev.add_argument("--reset", action="store_true", help="drop and create the database again")
    dev.add_argument("--plain", action="store_true", help="plain pytest (integration, benchmarks)")
    dev.add_argument("pytest_args", nargs="*")
    opts = parser.parse_args()
    handler = {
        "test": cmd_test,
        "bench": cmd_bench,
        "demo": cmd_demo,
        "stop": cmd_stop,
        "dev": cmd_dev,
    }
    sys.exit(handler[opts.command](opts))


if __name__ == "__main__":
    main()
