"""Odoo for the harness: discovery, effective configuration files, databases with progress."""

import configparser
import os
import re
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from datetime import datetime

from .console import Step, duration, relay, say
from .errors import HarnessError
from .paths import CACHE, LOG_DIR, ODOO_CONFIG_TEMPLATE, ROOT, SUITE_ADDONS_DIR, TEST_ADDONS_DIR
from .processes import Child

HOW_TO_GET_ODOO = (
    "Install Odoo 18.0 Community so that this python3 imports it: Odoo's source (branch 18.0 "
    "of the odoo/odoo repository) with its requirements.txt installed and the checkout on "
    "sys.path (a .pth file in site-packages), or use the Docker path (docker compose up). "
    "See README.md, Prerequisites."
)


def odoo_status():
    """Return (importable, reason or location). Odoo must be 18.x and importable by this
    interpreter, from any directory."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import odoo.release as r, odoo; print(r.version_info[0], odoo.__path__[0])",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        return False, f"'import odoo' fails with {sys.executable}: {last}"
    major, location = probe.stdout.split(maxsplit=1)
    if major != "18":
        return False, f"Odoo {major} is importable, but this suite targets Odoo 18.0"
    return True, f"Odoo 18 at {location.strip()}"


def require_odoo(what):
    importable, reason = odoo_status()
    if not importable:
        raise HarnessError(f"{what} needs Odoo 18: {reason}.\n{HOW_TO_GET_ODOO}")
    return reason


def _has_addons(folder):
    return os.path.isdir(folder) and any(
        os.path.isfile(os.path.join(folder, entry, "__manifest__.py"))
        for entry in os.listdir(folder)
    )


def odoo_standard_addons_dirs():
    """Odoo's own addons folders on this machine, then every other ``odoo/addons`` folder of the
    ``odoo.addons`` namespace package: that is where pip puts OCA wheels (odoo-addon-*), in
    site-packages. Odoo would find those through the namespace anyway; listing them makes the
    effective configuration say where each addon comes from."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import odoo, odoo.addons, os; print(os.path.dirname(odoo.__file__)); "
            "print('\\n'.join(odoo.addons.__path__))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout.splitlines()
    odoo_dir, namespace = out[0], out[1:]
    dirs = [os.path.join(odoo_dir, "addons")]
    source_tree_addons = os.path.abspath(os.path.join(odoo_dir, "..", "addons"))
    if os.path.isdir(os.path.join(source_tree_addons, "web")):
        dirs.append(source_tree_addons)
    for folder in namespace:
        folder = os.path.abspath(folder)
        if folder not in dirs and _has_addons(folder):
            dirs.append(folder)
    return dirs


def suite_addons(include_tests):
    """Technical names of the suite's addons (and of the test-only addons when asked)."""
    folders = [SUITE_ADDONS_DIR] + ([TEST_ADDONS_DIR] if include_tests else [])
    return [m.parent.name for folder in folders for m in sorted(folder.glob("*/__manifest__.py"))]


def write_odoo_config(cluster, name, include_tests, extra=None):
    """The effective Odoo configuration: .odoo_config + this machine's connection and paths."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ODOO_CONFIG_TEMPLATE)
    options = parser["options"]
    options.update(cluster.connection())
    addons = [str(SUITE_ADDONS_DIR)] + ([str(TEST_ADDONS_DIR)] if include_tests else [])
    options["addons_path"] = ",".join(addons + odoo_standard_addons_dirs())
    options["data_dir"] = str(CACHE / f"filestore-{name}")
    for key, value in (extra or {}).items():
        options[key] = str(value)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"odoo-{name}.conf"
    # The file may hold a hashed master password: readable by its owner only.
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    with path.open("w") as handle:
        parser.write(handle)
    return path


def data_dir(config_path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config_path)
    return parser["options"]["data_dir"]


def filestore(config_path, dbname):
    return os.path.join(data_dir(config_path), "filestore", dbname)


def odoo_command(config_path, *args):
    return [sys.executable, "-m", "odoo", "-c", str(config_path), *args]


def ensure_encryption_key(env):
    """A throwaway Fernet key for local runs unless one is configured already."""
    if env.get("ODOO_CONNECTOR_KEYS"):
        return env
    key_file = CACHE / "connector_key"
    if not key_file.exists():
        CACHE.mkdir(exist_ok=True)
        key_file.write_text(urlsafe_b64encode(os.urandom(32)).decode())
        key_file.chmod(0o600)
    env["ODOO_CONNECTOR_KEYS"] = key_file.read_text().strip()
    return env


# ---------------------------------------------------------------------------------------------
# Installing addons, with progress read from Odoo's log
# ---------------------------------------------------------------------------------------------

LOG_RECORD = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[\w.]+): (?P<msg>.*)$"
)
LOADING_MODULE = re.compile(r"Loading module (?P<module>\w+) \((?P<index>\d+)/(?P<count>\d+)\)")
MODULE_LOADED = re.compile(r"Module (?P<module>\w+) loaded in (?P<seconds>[\d.]+)s")
LOADING_DEMO = re.compile(r"Module (?P<module>\w+): loading demo")
LOADING_FILE = re.compile(r"loading (?P<module>\w+)/(?P<file>\S+)")
SERIOUS = ("WARNING", "ERROR", "CRITICAL")


def _log_time(stamp):
    """Seconds of an Odoo log timestamp (``2026-01-05 10:00:07,500``)."""
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


class ModuleProgress:
    """Reads the log of ``odoo -i ...`` (``odoo.modules.loading`` at INFO) and reports each
    module as it finishes loading, with its time and that of its demo data. Warnings and errors
    (and the traceback lines after them) are relayed as they are; the rest stays in the log."""

    def __init__(self, prefix, show_module):
        self.prefix = prefix
        self.show_module = show_module  # module name -> bool: print a line for it
        self.current = None
        self.current_since = None
        self.current_file = None
        self.index = 0
        self.count = 0
        self.demo_since = None
        self.demo_logged_at = None
        self.modules = []  # (name, seconds, demo seconds)
        self.errors = []
        self._relay_continuation = False

    def feed(self, line):
        record = LOG_RECORD.match(line)
        if not record:
            if self._relay_continuation:
                relay(line, "odoo")
                self.errors.append(line)
            return
        level, msg = record["level"], record["msg"]
        self._relay_continuation = level in SERIOUS
        if level in SERIOUS:
            relay(line, "odoo")
            if level != "WARNING":
                self.errors.append(line)
            return
        if match := LOADING_MODULE.match(msg):
            self.current, self.current_since = match["module"], time.monotonic()
            self.index, self.count = int(match["index"]), int(match["count"])
            self.current_file, self.demo_since = None, None
        elif match := LOADING_DEMO.match(msg):
            self.demo_since = time.monotonic()
            self.demo_logged_at = _log_time(record["time"])
        elif match := MODULE_LOADED.match(msg):
            demo = None
            if self.demo_since:
                demo = _log_time(record["time"]) - self.demo_logged_at
            self._loaded(match["module"], float(match["seconds"]), demo)
        elif match := LOADING_FILE.match(msg):
            self.current_file = match["file"]

    def _loaded(self, module, seconds, demo):
        self.modules.append((module, seconds, demo))
        if self.show_module(module):
            width = len(str(self.count))
            note = f" (demo data {duration(demo)})" if demo and demo >= 0.5 else ""
            say(
                f"  {f'({self.index:>{width}}/{self.count})'} {module:<36} {duration(seconds):>7}{note}",
                self.prefix,
            )
        self.current = None

    def status(self):
        if not self.current:
            return f"{len(self.modules)} modules loaded"
        doing = (
            f"{self.current} ({self.index}/{self.count}) for "
            f"{duration(time.monotonic() - self.current_since)}"
        )
        if self.demo_since:
            return f"{doing}, now its demo data"
        return f"{doing}, now {self.current_file}" if self.current_file else doing


def install_addons(config_path, dbname, addons, env, prefix, verbose, demo=True, mode="-i"):
    """``odoo -d dbname -i addons --stop-after-init`` with a line per module (``verbose``: every
    module; otherwise the suite's own), a heartbeat on long modules, warnings relayed."""
    suite = set(suite_addons(include_tests=True))
    progress = ModuleProgress(prefix, show_module=lambda m: verbose or m in suite)
    log_path = LOG_DIR / f"install-{dbname}.log"
    if log_path.exists():
        log_path.unlink()
    argv = odoo_command(
        config_path,
        "-d",
        dbname,
        mode,
        ",".join(addons),
        "--stop-after-init",
        "--log-level=warn",
        "--log-handler=odoo.modules.loading:INFO",
        *([] if demo else ["--without-demo=all"]),
    )
    verb = "installing" if mode == "-i" else "upgrading"
    what = f"database {dbname}: {verb} {', '.join(addons)}" + (
        (" and their dependencies" if len(addons) > 1 else " and its dependencies")
        if mode == "-i"
        else ""
    )
    with Step(
        what + (" with demo data" if demo and mode == "-i" else ""),
        prefix,
        progress.status,
        short=f"database {dbname}",
    ) as step:
        child = Child(f"odoo-{mode[1:]}", argv, env=env, log_path=log_path, on_line=progress.feed)
        try:
            status = child.start().wait()
        finally:
            child.stop()
        step.note = f"{len(progress.modules)} modules loaded; log: {log_path.relative_to(ROOT)}"
        if status != 0:
            step.failed = True
    if status != 0:
        raise HarnessError(
            f"{verb} {', '.join(addons)} in {dbname} failed (exit status {status}); the Odoo log "
            f"is {log_path}" + ("" if progress.errors else " (no error line was logged)")
        )
    return progress.modules


def create_database(cluster, config_path, dbname, addons, env, prefix="harness", verbose=False):
    cluster.drop_database(dbname)
    return install_addons(config_path, dbname, addons, env, prefix, verbose)
