"""``make demo`` and ``make stop``.

The demo: prerequisites, the Python requirements when they changed, a throwaway cluster, the fake
remote servers (every ``tests/fakes/demo_*.py``), a database with the suite and its demo data
(a line per addon as it installs), then the Odoo server on loopback; the URL and the logins come
last. Ctrl-C or ``make stop`` ends the Odoo server and the fake servers first (SIGTERM, then
SIGKILL after a grace period), then the cluster, quietly.

Safe by default: the server listens on 127.0.0.1 unless ``--host`` says otherwise, the database
manager is off (``--db-manager`` turns it on), and the master password is generated for each
demo, stored hashed in the effective configuration, and printed once when the manager is on.
"""

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
import urllib.request

from .console import PhaseTable, Step, duration, plain, relay, say
from .errors import HarnessError
from .odoo import (
    create_database,
    ensure_encryption_key,
    filestore,
    odoo_command,
    suite_addons,
    write_odoo_config,
)
from .paths import CACHE, FAKES_DIR, LOG_DIR, ROOT, RUN_DIR
from .pg import Cluster
from .prereqs import check_prerequisites, install
from .processes import (
    Child,
    Interrupted,
    pid_alive,
    read_pids,
    stop_group,
    stopping,
    write_pid,
)

PREFIX = "demo"
HARNESS_MARKER = "harness.py demo"
SERVER_READY_TIMEOUT = 180
FAKE_READY_TIMEOUT = 15
LEVEL = re.compile(r"^\S+ \S+ \d+ (?P<level>[A-Z]+) ")


def demo_fake_servers():
    """The fake remote servers the demo needs: each connector addon ships a ``demo_*.py``."""
    return sorted(FAKES_DIR.glob("demo_*.py"))


def _hash_master_password(password):
    """Odoo's own scheme (pbkdf2_sha512 via passlib, an Odoo dependency): the effective
    configuration then holds no usable secret."""
    try:
        from passlib.context import CryptContext
    except ImportError:
        return password
    return CryptContext(schemes=["pbkdf2_sha512"], pbkdf2_sha512__rounds=600_000).hash(password)


def _port_free(host, port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class ServerLog:
    """Relays the Odoo server's warnings and errors (and the traceback lines after them); every
    line goes to the log file. ``verbose`` relays everything."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.serious = False

    def feed(self, line):
        match = LEVEL.match(line)
        if match:
            self.serious = match["level"] in ("WARNING", "ERROR", "CRITICAL")
        if self.verbose or self.serious:
            relay(line, "odoo")


class Demo:
    def __init__(self, opts):
        self.opts = opts
        self.started = time.monotonic()
        self.cluster = Cluster("demo", durable=False)
        self.env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.fakes = []
        self.server = None
        self.table = PhaseTable()

    def step(self, name, **kwargs):
        return Step(name, PREFIX, **kwargs)

    def run(self):
        for name, pid, _marker in read_pids():
            if name == "harness" and pid != os.getpid():
                raise HarnessError(f"a demo is already running (pid {pid}): make stop first")
        write_pid("harness", os.getpid(), HARNESS_MARKER)
        try:
            self.start()
            self.serve()
        except Interrupted as exc:
            plain()
            cause = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM, make stop"}
            say(f"stopping ({cause.get(exc.signum, exc)}) ...", PREFIX)
        finally:
            with stopping():
                self.stop()
        return 0

    def start(self):
        opts = self.opts
        with self.step("prerequisites", announce=False) as step:
            check_prerequisites(PREFIX, odoo=True, postgresql=True)
            install(PREFIX, only_if_needed=True)
            if not _port_free(opts.host, opts.port):
                raise HarnessError(
                    f"port {opts.port} on {opts.host} is in use (another Odoo? ss -ltnp shows "
                    "which process): make stop, or choose another port: make demo PORT=8070"
                )
        self.table.add("prerequisites, requirements", step.elapsed, "ok")

        with self.step("PostgreSQL cluster") as step:
            step.note = self.cluster.start()
        self.table.add("PostgreSQL cluster", step.elapsed, step.note)
        self.env.update(self.cluster.env())
        ensure_encryption_key(self.env)

        self.master_password = secrets.token_urlsafe(15)
        self.config = write_odoo_config(
            self.cluster,
            "demo",
            include_tests=False,
            extra={
                "http_port": opts.port,
                "http_interface": opts.host,
                "list_db": bool(opts.db_manager),
                "admin_passwd": _hash_master_password(self.master_password),
            },
        )

        scripts = demo_fake_servers()
        with self.step(f"fake remote servers ({', '.join(s.stem for s in scripts)})") as step:
            for script in scripts:
                self.start_fake(script)
        self.table.add("fake remote servers", step.elapsed, f"{len(scripts)} scripts")

        shutil.rmtree(filestore(self.config, opts.database), ignore_errors=True)
        started = time.monotonic()
        modules = create_database(
            self.cluster,
            self.config,
            opts.database,
            suite_addons(include_tests=False),
            self.env,
            prefix=PREFIX,
            verbose=True,
        )
        self.table.add(
            f"database {opts.database}",
            time.monotonic() - started,
            f"{len(modules)} modules, demo data",
        )

        url = f"http://127.0.0.1:{opts.port}/web/health"
        log = ServerLog(opts.verbose)
        self.server = Child(
            "odoo",
            odoo_command(self.config, "-d", opts.database),
            env=self.env,
            log_path=LOG_DIR / "demo-odoo.log",
            on_line=log.feed,
        )
        (LOG_DIR / "demo-odoo.log").unlink(missing_ok=True)
        with self.step("Odoo server") as step:
            self.server.start()
            write_pid("odoo", self.server.pid, str(self.config))
            deadline = time.monotonic() + SERVER_READY_TIMEOUT
            while not _answers(url):
                if self.server.poll() is not None:
                    raise HarnessError(
                        f"the Odoo server exited with status {self.server.poll()}; its log is "
                        f"{LOG_DIR / 'demo-odoo.log'}"
                    )
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"the Odoo server did not answer {url} in {SERVER_READY_TIMEOUT} s"
                    )
                time.sleep(0.5)
            step.note = f"pid {self.server.pid}"
        self.table.add("Odoo server start", step.elapsed, "answers /web/health")
        self.table.print(time.monotonic() - self.started)
        self.banner()

    def start_fake(self, script):
        child = Child(
            script.stem,
            [sys.executable, str(script)],
            env=self.env,
            log_path=LOG_DIR / f"{script.stem}.log",
            on_line=lambda line: relay(line, script.stem),
        )
        (LOG_DIR / f"{script.stem}.log").unlink(missing_ok=True)
        child.keep_lines = True
        child.start()
        self.fakes.append(child)
        write_pid(f"fake-{script.stem}", child.pid, str(script))
        deadline = time.monotonic() + FAKE_READY_TIMEOUT
        while not child.lines and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if child.poll() is not None:
            child.wait()
            raise HarnessError(
                f"the fake server {script.relative_to(ROOT)} exited with status {child.poll()} "
                "(its message is above)"
            )

    def banner(self):
        opts = self.opts
        host = "localhost" if opts.host in ("127.0.0.1", "localhost") else opts.host
        if opts.host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        plain()
        say(f"Odoo is ready: http://{host}:{opts.port}  (database {opts.database})", PREFIX)
        if opts.host in ("127.0.0.1", "localhost", "::1"):
            say(
                "listening on loopback only (make demo HOST=0.0.0.0 to open it to your network)",
                PREFIX,
            )
        else:
            say(
                f"WARNING: listening on {opts.host}: anyone who reaches this machine can log in "
                "with the demo logins below",
                PREFIX,
            )
        logins = demo_logins(self.cluster, opts.database)
        if logins:
            say("log in as (the password is the login):", PREFIX)
            width = max(len(login) for login, *_ in logins)
            for login, name, roles in logins:
                say(f"  {login:<{width}}  {name}" + (f"  ({roles})" if roles else ""), PREFIX)
        if opts.db_manager:
            say(
                f"database manager: http://{host}:{opts.port}/web/database/manager, master "
                f"password {self.master_password} (shown this once; new at each make demo)",
                PREFIX,
            )
        else:
            say(
                "database manager: off (make demo DB_MANAGER=1 turns it on with a master password)",
                PREFIX,
            )
        say(
            f"server log: {(LOG_DIR / 'demo-odoo.log').relative_to(ROOT)} (warnings and errors "
            "also appear here); Ctrl-C or make stop ends the demo",
            PREFIX,
        )

    def serve(self):
        while True:
            status = self.server.poll()
            if status is not None:
                self.server.wait()
                say(
                    f"the Odoo server exited with status {status}; see {LOG_DIR / 'demo-odoo.log'}",
                    PREFIX,
                )
                return
            for fake in list(self.fakes):
                if fake.poll() is not None:
                    say(f"the fake server {fake.name} exited with status {fake.poll()}", PREFIX)
                    self.fakes.remove(fake)
            time.sleep(0.5)

    def stop(self):
        if self.server and self.server.running():
            started = time.monotonic()
            how = self.server.stop()
            say(f"  Odoo server: {how} in {duration(time.monotonic() - started)}", PREFIX)
        running = [f for f in self.fakes if f.running()]
        if running:
            started = time.monotonic()
            hows = {f.name: f.stop() for f in running}
            say(
                "  fake servers: "
                + ", ".join(f"{name} {how}" for name, how in hows.items())
                + f" in {duration(time.monotonic() - started)}",
                PREFIX,
            )
        started = time.monotonic()
        note = self.cluster.stop()
        if note:
            say(f"  PostgreSQL cluster {note} in {duration(time.monotonic() - started)}", PREFIX)
        shutil.rmtree(RUN_DIR, ignore_errors=True)
        if self.server or note:
            say(f"demo stopped after {duration(time.monotonic() - self.started)}", PREFIX)


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def demo_logins(cluster, dbname):
    """(login, name, roles) of the active internal users whose password is their login (the
    demo's convention, checked against the stored hashes), roles from the suite's groups."""
    try:
        from passlib.context import CryptContext
    except ImportError:
        return []
    context = CryptContext(schemes=["pbkdf2_sha512", "plaintext"])
    suite = ",".join(f"'{a}'" for a in suite_addons(include_tests=False))
    users = cluster.psql(
        dbname,
        "SELECT u.id, u.login, COALESCE(u.password, ''), p.name FROM res_users u "
        "JOIN res_partner p ON p.id = u.partner_id WHERE u.active AND NOT u.share ORDER BY u.id",
        fetch=True,
    )
    groups = cluster.psql(
        dbname,
        "SELECT r.uid, g.id, g.name->>'en_US' FROM res_groups_users_rel r "
        "JOIN res_groups g ON g.id = r.gid JOIN ir_model_data d ON d.model = 'res.groups' "
        f"AND d.res_id = g.id WHERE d.module IN ({suite}) OR (d.module = 'base' AND d.name = 'group_system')",
        fetch=True,
    )
    implied = cluster.psql(dbname, "SELECT gid, hid FROM res_groups_implied_rel", fetch=True)
    implies = {}
    for gid, hid in implied:
        implies.setdefault(gid, set()).add(hid)

    def closure(gid):
        seen, todo = set(), [gid]
        while todo:
            for hid in implies.get(todo.pop(), ()):
                if hid not in seen:
                    seen.add(hid)
                    todo.append(hid)
        return seen

    by_user = {}
    for uid, gid, name in groups:
        by_user.setdefault(uid, {})[gid] = name
    found = []
    for uid, login, hashed, name in users:
        with contextlib.suppress(ValueError, TypeError):
            if hashed and context.verify(login, hashed):
                mine = by_user.get(uid, {})
                below = set().union(*(closure(g) for g in mine)) if mine else set()
                roles = [label for gid, label in mine.items() if gid not in below]
                found.append((login, name, ", ".join(sorted(roles))))
    return found


def cmd_demo(opts):
    return Demo(opts).run()


def cmd_stop(opts):
    """Stop a running demo (its harness stops its children in order), anything a crashed demo
    left running, then the throwaway clusters of .cache/ that no live run is using."""
    pids = read_pids()
    for name, pid, _marker in pids:
        if name == "harness":
            say(f"stopping the demo (pid {pid}) ...", "stop")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid):
                say(f"the demo (pid {pid}) did not stop in 60 s; stopping its processes", "stop")
            else:
                say("the demo stopped (its own terminal shows how)", "stop")
    for name, pid, _marker in read_pids():
        if name == "harness":
            continue
        how = stop_group(pid, lambda pid=pid: not pid_alive(pid))
        say(f"{name} (pid {pid}): {how}", "stop")
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    for directory in sorted(CACHE.glob("pg-*")) if CACHE.exists() else []:
        name = directory.name[3:]
        owner = re.fullmatch(r"(?:test|bench)-(\d+)", name)
        if owner and pid_alive(int(owner.group(1))):
            say(
                f"{directory.relative_to(ROOT)}: left running, its run (pid {owner.group(1)}) is in progress",
                "stop",
            )
            continue
        note = Cluster(name).stop()
        if note:
            say(note, "stop")
    # Configuration files and filestores of make test / make bench runs that ended abruptly.
    leftovers = list(CACHE.glob("odoo-*-*.conf")) + list(CACHE.glob("filestore-*-*"))
    for path in sorted(leftovers) if CACHE.exists() else []:
        owner = re.search(r"-(?:test|bench)-(\d+)", path.name)
        if owner and not pid_alive(int(owner.group(1))):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
            say(f"{path.relative_to(ROOT)}: removed (its run ended)", "stop")
    return 0
