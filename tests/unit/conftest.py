"""Fast unit tests of the addons' pure-Python code: no Odoo, no database.

The pure modules live inside each addon (e.g. ``addons/connector_base/engine``). Importing them as
``odoo.addons.<addon>.engine`` would execute the addon's ``__init__`` (which imports Odoo), so this
conftest registers each addon folder as a bare package named after the addon: tests import
``connector_base.engine.backoff`` and nothing else of the addon is executed.
"""

import sys
import types
from pathlib import Path

import pytest

ADDONS = Path(__file__).resolve().parents[2] / "addons"

# Pure modules of one addon import those of another through Odoo's namespace
# (``odoo.addons.connector_base.engine``): without Odoo, ``odoo`` and ``odoo.addons`` are bare
# packages here and each addon is also registered under that name (tests of such modules import
# everything through ``odoo.addons.<addon>`` so that each class exists once).
for name in ("odoo", "odoo.addons"):
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.__path__ = []
        sys.modules[name] = stub

for addon_dir in sorted(ADDONS.iterdir()):
    # An addon whose engine is written before its Odoo part has no manifest yet: its engine is
    # still importable the same way.
    is_addon = (addon_dir / "__manifest__.py").is_file() or (addon_dir / "engine").is_dir()
    if is_addon and addon_dir.name not in sys.modules:
        for name in (addon_dir.name, f"odoo.addons.{addon_dir.name}"):
            package = types.ModuleType(name)
            package.__path__ = [str(addon_dir)]
            sys.modules[name] = package


# pytest-odoo (installed for the Odoo tests) registers autouse fixtures that build an Odoo
# registry, which needs a database. Unit tests need none: these same-named fixtures override
# the plugin's for this directory only.
@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="session", autouse=True)
def load_http():
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    yield
