"""ps_intercompany's engine is importable without Odoo."""

import subprocess
import sys
import textwrap
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addons" / "ps_intercompany"
MODULES = [path.stem for path in sorted((ADDON / "engine").glob("*.py")) if path.stem != "__init__"]


def test_engine_modules_do_not_import_odoo():
    code = textwrap.dedent(
        f"""
        import importlib, sys, types
        package = types.ModuleType("ps_intercompany")
        package.__path__ = [{str(ADDON)!r}]
        sys.modules["ps_intercompany"] = package
        for name in {MODULES!r}:
            importlib.import_module("ps_intercompany.engine." + name)
        leaked = sorted(name for name in sys.modules if name == "odoo" or name.startswith("odoo."))
        print(",".join(leaked))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"an engine module failed to import:\n{result.stderr}"
    assert result.stdout.strip() == "", f"the engine imported Odoo: {result.stdout}"
    assert set(MODULES) >= {
        "pricing",
        "corrections",
        "grouping",
        "matching",
        "netting",
        "periods",
        "money",
    }
