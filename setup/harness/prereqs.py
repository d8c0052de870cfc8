"""Prerequisites (checked up front, with how to get what is missing) and ``make install``.

Odoo 18 and PostgreSQL are prerequisites: the harness checks them and says how to get them.
Everything else it can install itself: the suite's Python requirements (Odoo's own pins kept as
constraints) and the OCA addons the suite depends on, which come from PyPI as wheels whose
metadata requires an ``odoo`` distribution that no registry has, so they install with
``pip --no-deps`` in a step of their own.
"""

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys

from .console import Step, relay, say
from .errors import HarnessError
from .odoo import HOW_TO_GET_ODOO, odoo_standard_addons_dirs, odoo_status
from .paths import (
    CACHE,
    CONSTRAINTS,
    REQUIREMENTS,
    REQUIREMENTS_OCA,
    REQUIREMENTS_TEST,
    SUITE_ADDONS_DIR,
)
from .pg import postgresql_status
from .processes import Child

CHROME_NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
HOW_TO_GET_CHROMIUM = (
    "The browser tours of make test need Chromium or Google Chrome on the PATH "
    "(Debian: apt-get install chromium; Odoo looks for " + ", ".join(CHROME_NAMES) + ")."
)
STAMP = CACHE / "requirements.stamp"
PIP = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]


def chromium_status():
    for name in CHROME_NAMES:
        if path := shutil.which(name):
            return True, path
    return False, HOW_TO_GET_CHROMIUM


def check_prerequisites(prefix, odoo=True, postgresql=True, chromium=False):
    """Check what the command needs before it starts; one error listing all that is missing."""
    found, missing = [], []
    if sys.version_info[:2] != (3, 11):
        found.append(
            f"Python {sys.version.split()[0]} (the suite's pins are for 3.11; "
            "setup/constraints-odoo18.txt has 3.12 lines too)"
        )
    else:
        found.append(f"Python {sys.version.split()[0]}")
    checks = []
    if odoo:
        checks.append(("Odoo 18.0", odoo_status, HOW_TO_GET_ODOO))
    if postgresql:
        checks.append(("PostgreSQL", postgresql_status, ""))
    if chromium:
        checks.append(("Chromium", chromium_status, ""))
    for label, check, how in checks:
        ok, text = check()
        if ok:
            found.append(text if label != "Chromium" else f"Chromium ({text})")
        else:
            missing.append(f"- {label}: {text}" + (f"\n  {how}" if how else ""))
    if missing:
        raise HarnessError("missing prerequisites:\n" + "\n".join(missing))
    say("prerequisites: " + "; ".join(found), prefix)


# ---------------------------------------------------------------------------------------------
# make install
# ---------------------------------------------------------------------------------------------


def _requirement_names(path):
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0])
    return names


def oca_addons():
    """(requirement, addon technical name) of requirements-oca.txt: odoo-addon-<name>==18.0.x."""
    pairs = []
    if REQUIREMENTS_OCA.exists():
        for line in REQUIREMENTS_OCA.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            distribution = re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0]
            if not distribution.lower().startswith("odoo-addon-"):
                raise HarnessError(
                    f"{REQUIREMENTS_OCA.name}: {line!r} is not an OCA addon wheel (odoo-addon-*)"
                )
            addon = distribution[len("odoo-addon-") :].replace("-", "_").replace(".", "_").lower()
            pairs.append((line, addon))
    return pairs


def _stamp_value():
    digest = hashlib.sha256(sys.executable.encode())
    for path in (REQUIREMENTS, REQUIREMENTS_TEST, REQUIREMENTS_OCA, CONSTRAINTS):
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def _missing_distributions():
    names = _requirement_names(REQUIREMENTS) + _requirement_names(REQUIREMENTS_TEST)
    names += [re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0] for spec, _ in oca_addons()]
    missing = []
    for name in names:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def requirements_up_to_date():
    return STAMP.exists() and STAMP.read_text() == _stamp_value() and not _missing_distributions()


def _pip(args, prefix, tolerate_failure=False):
    # As root (containers, CI), pip's warning about root is noise: the harness says what it does.
    env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore")
    child = Child("pip", [*PIP, *args], env=env, on_line=lambda line: relay(line, "pip"))
    try:
        status = child.start().wait()
    finally:
        child.stop()
    if status != 0:
        if tolerate_failure and not _missing_distributions():
            say("pip failed (see above), but every required package is installed: going on", prefix)
            return False
        raise HarnessError(
            f"pip install {' '.join(map(str, args))} failed (see above). Install the requirements "
            "yourself (README.md, Prerequisites), e.g. in the virtualenv that has Odoo 18, and set "
            "SUITE_SKIP_INSTALL=1 if this Python is managed by other means."
        )
    return True


def install(prefix="install", only_if_needed=False):
    """The suite's Python requirements with Odoo's pins, then the OCA wheels with --no-deps,
    then checks that Odoo still imports and finds every OCA addon."""
    if only_if_needed and os.environ.get("SUITE_SKIP_INSTALL"):
        missing = _missing_distributions()
        if missing:
            raise HarnessError(
                f"SUITE_SKIP_INSTALL is set but these packages are missing: {', '.join(missing)}"
            )
        say(
            "Python requirements and OCA addons: installed by other means (SUITE_SKIP_INSTALL)",
            prefix,
        )
        return
    if only_if_needed and requirements_up_to_date():
        say("Python requirements and OCA addons: up to date (make install reinstalls)", prefix)
        return
    had_odoo, _ = odoo_status()
    tolerate = only_if_needed  # make demo/test go on with what is installed; make install fails
    with Step("Python requirements (pip, Odoo 18's pins kept)", prefix, short="requirements"):
        ok = _pip(
            ["-r", REQUIREMENTS, "-r", REQUIREMENTS_TEST, "-c", CONSTRAINTS], prefix, tolerate
        )
    if had_odoo and not odoo_status()[0]:
        raise HarnessError(
            "installing the requirements broke 'import odoo': "
            f"{odoo_status()[1]}. Reinstall Odoo's requirements.txt."
        )
    addons = oca_addons()
    if addons:
        with Step(
            "OCA addons (pip --no-deps: no registry has the 'odoo' they require)",
            prefix,
            short="OCA addons",
        ) as step:
            ok = _pip(["--no-deps", "-r", REQUIREMENTS_OCA], prefix, tolerate) and ok
            if had_odoo:
                step.note = check_oca_addons([addon for _, addon in addons])
            else:
                step.note = "not checked: Odoo is not importable"
    if ok:  # after a tolerated failure, the next run tries again
        STAMP.parent.mkdir(exist_ok=True)
        STAMP.write_text(_stamp_value())


CHECK_ADDONS = """
import sys
import odoo
from odoo.modules.module import get_manifest, get_module_path
odoo.tools.config.parse_config(["--addons-path=" + sys.argv[1], "--log-level=warn"])
for name in sys.argv[2:]:
    path = get_module_path(name, display_warning=False)
    manifest = get_manifest(name) if path else {}
    print(name, path or "-", manifest.get("version", "-"), manifest.get("installable", False))
"""


def check_oca_addons(addons):
    """Each OCA addon imports as ``odoo.addons.<name>`` from ``/`` (no help from the working
    directory), and Odoo's module discovery finds it, installable, with the harness's addons
    path: a database created by the harness can install it."""
    problems, found = [], []
    for addon in addons:
        probe = subprocess.run(
            [sys.executable, "-c", f"import odoo.addons.{addon}"],
            cwd="/",
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            problems.append(f"'import odoo.addons.{addon}' fails from /: {last}")
    addons_path = ",".join([str(SUITE_ADDONS_DIR), *odoo_standard_addons_dirs()])
    probe = subprocess.run(
        [sys.executable, "-c", CHECK_ADDONS, addons_path, *addons],
        cwd="/",
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        problems.append(f"Odoo's module discovery failed: {probe.stderr.strip()[-2000:]}")
    else:
        for line in probe.stdout.splitlines():
            name, path, version, installable = line.split(" ")
            if path == "-" or installable != "True":
                problems.append(f"Odoo does not find {name} as an installable addon")
            else:
                found.append(f"{name} {version} in {path.rsplit('/', 1)[0]}")
    if problems:
        raise HarnessError("OCA addons installed but not usable:\n- " + "\n- ".join(problems))
    return "; ".join(found)
