"""Repository-wide pytest rules (no Odoo import here: the unit tests run without Odoo).

A skipped test is a test that did not run. Odoo skips browser tours silently when Chromium or
websocket-client is missing, so every skip fails the run instead of passing quietly.
"""

import logging

import pytest

_skipped = []


class _PytestOdooImportNoise(logging.Filter):
    """pytest-odoo imports odoo.tests while collecting, before it enables test mode, and Odoo
    logs that as an ERROR ("Importing test framework..."): expected here, not a failure."""

    def filter(self, record):
        return not str(record.msg).startswith("Importing test framework")


logging.getLogger("odoo.tests.common").addFilter(_PytestOdooImportNoise())


def pytest_runtest_logreport(report):
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _skipped and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) were skipped; every test must run here "
            "(install what the reason names, e.g. Debian chromium for tours):",
            red=True,
        )
        for line in _skipped:
            terminalreporter.write_line(f"  SKIPPED {line}", red=True)
