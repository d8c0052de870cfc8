"""Every addon's pure package (``engine/``) is importable without Odoo.

Workers, scripts and the unit tests rely on it, and it keeps decisions testable without a
database. Each package is imported in a fresh interpreter where ``odoo`` is an empty stub: a
module that imports anything of Odoo fails to import there. The stub holds the suite's addons as
``odoo.addons.<addon>`` (pure modules of one addon import another's through that name).
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ADDONS = Path(__file__).resolve().parents[2] / "addons"
# ``engine`` is the one name of the pure package; ``logic`` is the older name, checked until it
# is renamed.
PURE_PACKAGES = ("engine", "logic")


def pure_packages():
    found = []
    for addon in sorted(ADDONS.iterdir()):
        if not (addon / "__manifest__.py").is_file():
            continue
        for name in PURE_PACKAGES:
            package = addon / name
            if (package / "__init__.py").is_file():
                modules = [p.stem for p in sorted(package.glob("*.py")) if p.stem != "__init__"]
                found.append((addon.name, name, modules))
    return found


PACKAGES = pure_packages()


def test_the_suite_has_pure_packages():
    names = {addon for addon, _package, _modules in PACKAGES}
    assert {"connector_base", "connector_crm"} <= names, f"pure packages found: {names}"
    base = next(modules for addon, _p, modules in PACKAGES if addon == "connector_base")
    assert len(base) >= 8, f"expected connector_base's engine modules, found {base}"


@pytest.mark.parametrize(
    ("addon", "package", "modules"), PACKAGES, ids=[f"{a}.{p}" for a, p, _m in PACKAGES]
)
def test_pure_package_imports_no_odoo(addon, package, modules):
    # A fresh interpreter: in this one pytest-odoo may already have imported Odoo.
    code = textwrap.dedent(
        f"""
        import importlib, sys, types
        addons = {str(ADDONS)!r}
        for name in ("odoo", "odoo.addons"):
            stub = types.ModuleType(name)
            stub.__path__ = []
            sys.modules[name] = stub
        import os
        suite = sorted(d for d in os.listdir(addons)
                       if os.path.isfile(os.path.join(addons, d, "__manifest__.py")))
        for name in suite:
            for alias in (name, "odoo.addons." + name):
                package = types.ModuleType(alias)
                package.__path__ = [os.path.join(addons, name)]
                sys.modules[alias] = package
        for module in {modules!r}:
            importlib.import_module("{addon}.{package}." + module)
        allowed = {{"odoo", "odoo.addons"}}
        leaked = sorted(
            name for name in sys.modules
            if (name == "odoo" or name.startswith("odoo."))
            and name not in allowed
            and name.split(".")[2] not in suite
        )
        print(",".join(leaked))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, (
        f"{addon}/{package} does not import without Odoo (an Odoo import in a pure module?):\n"
        f"{result.stderr[-3000:]}"
    )
    assert result.stdout.strip() == "", f"{addon}/{package} imported Odoo: {result.stdout}"
