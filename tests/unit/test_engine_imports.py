"""The engine is importable without Odoo (workers, scripts and these tests rely on it)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ADDON = Path(__file__).resolve().parents[2] / "addons" / "connector_base"
MODULES = [path.stem for path in sorted((ADDON / "engine").glob("*.py")) if path.stem != "__init__"]


def test_engine_modules_do_not_import_odoo():
    # A fresh interpreter: in this one pytest-odoo has already imported Odoo.
    code = textwrap.dedent(
        f"""
        import importlib, sys, types
        package = types.ModuleType("connector_base")
        package.__path__ = [{str(ADDON)!r}]
        sys.modules["connector_base"] = package
        for name in {MODULES!r}:
            importlib.import_module("connector_base.engine." + name)
        leaked = sorted(name for name in sys.modules if name == "odoo" or name.startswith("odoo."))
        print(",".join(leaked))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"an engine module failed to import:\n{result.stderr}"
    assert result.stdout.strip() == "", f"the engine imported Odoo: {result.stdout}"
    assert len(MODULES) >= 8, f"expected the engine modules, found {MODULES}"
