"""PostgreSQL for the harness: a throwaway cluster under ``.cache/pg-<name>``, or the server
``PGHOST`` points at (``PGPORT``, ``PGUSER``, ``PGPASSWORD`` as libpq reads them).

The cluster runs as the ``postgres`` user when the harness runs as root, because the server
refuses to run as root.
"""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess

from .errors import HarnessError
from .paths import CACHE

DB_ROLE = "odoo"  # Odoo refuses to connect as "postgres"
DB_PASSWORD = "odoo"

HOW_TO_GET_POSTGRESQL = (
    "Install PostgreSQL 15 or newer (Debian/Ubuntu: apt-get install postgresql; the harness "
    "starts its own throwaway server from the binaries, nothing needs to run), or point "
    "PGHOST/PGPORT/PGUSER/PGPASSWORD at a running server whose user may create databases."
)


def pg_bindir():
    """The folder of initdb/pg_ctl (newest PostgreSQL first), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    for candidate in candidates:
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def postgresql_status():
    """(ok, description): what the harness will use, or why it cannot."""
    if os.environ.get("PGHOST"):
        if not shutil.which("psql"):
            return False, f"PGHOST is set but psql is not installed. {HOW_TO_GET_POSTGRESQL}"
        return True, f"the server at PGHOST={os.environ['PGHOST']}"
    bindir = pg_bindir()
    if not bindir:
        return (
            False,
            f"PostgreSQL server binaries (initdb, pg_ctl) not found. {HOW_TO_GET_POSTGRESQL}",
        )
    if not shutil.which("psql") and not os.path.exists(os.path.join(bindir, "psql")):
        return False, f"psql not found. {HOW_TO_GET_POSTGRESQL}"
    output = run_quiet([f"{bindir}/initdb", "--version"]).stdout
    version = re.search(r"\d+(?:\.\d+)?", output).group(0)
    if int(version.split(".")[0]) < 15:
        return (
            False,
            f"PostgreSQL {version} found in {bindir}; 15 or newer is needed. {HOW_TO_GET_POSTGRESQL}",
        )
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            return False, "running as root needs runuser (Debian: apt-get install util-linux)"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return False, "running as root needs a 'postgres' user to run the server as"
    return True, f"PostgreSQL {version} ({bindir})"


def run_quiet(argv, check=True, env=None, **kwargs):
    """Run a short command in a session of its own (Ctrl-C reaches the harness, not it), its
    output captured; on failure, a HarnessError that shows what it printed."""
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        start_new_session=True,
        env=env,
        **kwargs,
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise HarnessError(f"{' '.join(map(str, argv[:3]))} ... failed:\n{output[-3000:]}")
    return result


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(argv):
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class Cluster:
    """A throwaway PostgreSQL cluster under .cache/pg-<name>, or the server PGHOST points at.

    ``durable=False`` turns fsync off: a throwaway test cluster loses nothing it needs if the
    machine crashes, and commits no longer wait for the disk. Benchmarks keep it on, so that
    commit costs are those of a real server.
    """

    def __init__(self, name, durable=True):
        self.name = name
        self.directory = CACHE / f"pg-{name}"
        self.external = bool(os.environ.get("PGHOST"))
        self.durable = durable

    @property
    def port_file(self):
        return self.directory / "port"

    @property
    def data(self):
        return self.directory / "data"

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

    def env(self):
        """libpq environment for tools and tests that connect to this cluster."""
        conn = self.connection()
        return {
            "PGHOST": conn["db_host"],
            "PGPORT": str(conn["db_port"]),
            "PGUSER": conn["db_user"],
            "PGPASSWORD": conn["db_password"],
            # No NOTICE chatter ("database ... does not exist, skipping") in the terminal.
            "PGOPTIONS": "--client-min-messages=warning",
        }

    def running(self):
        if self.external:
            return True
        if not (self.data / "postmaster.pid").exists() or not self.port_file.exists():
            return False
        status = run_quiet(
            _as_postgres([f"{pg_bindir()}/pg_ctl", "-D", str(self.data), "status"]), check=False
        )
        return status.returncode == 0

    def start(self):
        """Start the cluster (a new one, unless one is running already); returns a note."""
        if self.external:
            return f"using the server at PGHOST={os.environ['PGHOST']}"
        if self.running():
            return f"already running on 127.0.0.1:{self.port_file.read_text().strip()}"
        ok, reason = postgresql_status()
        if not ok:
            raise HarnessError(reason)
        bindir = pg_bindir()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.directory, postgres.pw_uid, postgres.pw_gid)
        run_quiet(
            _as_postgres(
                [
                    f"{bindir}/initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                ]
            )
        )
        port = free_port()
        # Sized for the suite's parallel tests (several Odoo processes and test workers).
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c max_connections=200 -c shared_buffers=256MB "
            f"-c fsync={'on' if self.durable else 'off'}"
        )
        if not self.durable:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        run_quiet(
            _as_postgres(
                [
                    f"{bindir}/pg_ctl",
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.directory / "server.log"),
                    "-w",
                    "start",
                ]
            )
        )
        self.port_file.write_text(str(port))
        self.psql(
            "postgres",
            f"CREATE ROLE {DB_ROLE} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'",
            user="postgres",
        )
        return f"{self.directory.relative_to(CACHE.parent)} on 127.0.0.1:{port}"

    def stop(self):
        """Stop and remove the cluster; returns a note, or None when there was nothing to do."""
        if self.external or not self.directory.exists():
            return None
        bindir = pg_bindir()
        if (self.data / "postmaster.pid").exists() and bindir:
            run_quiet(
                _as_postgres([f"{bindir}/pg_ctl", "-D", str(self.data), "-m", "fast", "stop"]),
                check=False,
            )
        shutil.rmtree(self.directory, ignore_errors=True)
        return f"{self.directory.relative_to(CACHE.parent)} stopped and removed"

    def psql(self, dbname, sql, user=None, fetch=False):
        conn = self.connection()
        env = dict(os.environ, PGPASSWORD=conn["db_password"])
        env["PGOPTIONS"] = "--client-min-messages=warning"
        argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", conn["db_host"], "-p", str(conn["db_port"])]
        argv += ["-U", user or conn["db_user"], "-d", dbname]
        if fetch:
            argv += ["-tA", "-F", "\t"]
        result = run_quiet([*argv, "-c", sql], env=env)
        if fetch:
            return [line.split("\t") for line in result.stdout.splitlines() if line]
        return None

    def database_exists(self, dbname):
        rows = self.psql(
            "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'", fetch=True
        )
        return bool(rows)

    def drop_database(self, dbname):
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def copy_database(self, template, dbname):
        """A copy of ``template`` (which must have no open connection): a file copy, much faster
        than installing the addons again."""
        self.drop_database(dbname)
        version = int(self.psql("postgres", "SHOW server_version_num", fetch=True)[0][0])
        strategy = " STRATEGY = FILE_COPY" if version >= 150000 else ""
        self.psql("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"{strategy}')
