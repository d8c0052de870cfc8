"""Where things are: the repository, and ``.cache/`` where the harness keeps what it creates."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
RUN_DIR = CACHE / "run"
LOG_DIR = CACHE / "logs"
ODOO_CONFIG_TEMPLATE = ROOT / ".odoo_config"
SUITE_ADDONS_DIR = ROOT / "addons"
TEST_ADDONS_DIR = ROOT / "tests" / "addons"
FAKES_DIR = ROOT / "tests" / "fakes"
REQUIREMENTS = ROOT / "requirements.txt"
REQUIREMENTS_TEST = ROOT / "requirements-test.txt"
REQUIREMENTS_OCA = ROOT / "requirements-oca.txt"
CONSTRAINTS = ROOT / "setup" / "constraints-odoo18.txt"
COMMITTED_DURATIONS = ROOT / "setup" / "test-durations.json"
MEASURED_DURATIONS = CACHE / "test-durations.json"
