"""ps_billing_rules' pure package imports no Odoo (connectors and these tests rely on it)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addons" / "ps_billing_rules"
MODULES = [path.stem for path in sorted((ADDON / "engine").glob("*.py")) if path.stem != "__init__"]


def test_billing_engine_modules_do_not_import_odoo():
    # A fresh interpreter: in this one pytest-odoo may have imported Odoo already.
    code = textwrap.dedent(
        f"""
        import importlib, sys, types
        package = types.ModuleType("ps_billing_rules")
        package.__path__ = [{str(ADDON)!r}]
        sys.modules["ps_billing_rules"] = package
        for name in {MODULES!r}:
            importlib.import_module("ps_billing_rules.engine." + name)
        leaked = sorted(name for name in sys.modules if name == "odoo" or name.startswith("odoo."))
        print(",".join(leaked))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"an engine module failed to import:\n{result.stderr}"
    assert result.stdout.strip() == "", f"the billing engine imported Odoo: {result.stdout}"
    expected = {"allocation", "caps", "constants", "invoice_lines", "periods", "schedule"}
    assert expected <= set(MODULES), f"expected the engine modules, found {MODULES}"
    assert not (ADDON / "logic").exists(), "the pure package is engine/, not logic/"
