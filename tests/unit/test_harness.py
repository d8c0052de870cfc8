"""The harness's own logic (setup/harness/): reading pytest's and Odoo's output, balancing the
Odoo test processes, the OCA requirements, the phase table. No Odoo, no database."""

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "setup"))

from harness import console, odoo, prereqs, pytest_runs


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("430 passed in 14.78s", {"passed": 430}),
        ("188 passed in 275.64s (0:04:35)", {"passed": 188}),
        (
            "==== 1 failed, 186 passed, 1 skipped, 2 warnings in 301.2s ====",
            {"failed": 1, "passed": 186, "skipped": 1, "warnings": 2},
        ),
        ("2 errors in 3.1s", {"errors": 2}),
        ("1 error, 3 passed in 1.0s", {"errors": 1, "passed": 3}),
        ("........................................ [ 38%]", None),
        ("FAILED addons/x/tests/test_y.py::T::test_z - AssertionError", None),
    ],
)
def test_pytest_closing_line_is_read_into_counts(line, expected):
    assert pytest_runs.parse_counts(line) == expected


def test_split_puts_long_files_first_and_balances_the_processes():
    estimates = {"a.py": 300, "b.py": 200, "c.py": 150, "d.py": 100, "e.py": 50, "f.py": 10}
    groups = pytest_runs.split(estimates, 2)
    assert len(groups) == 2
    totals = sorted(total for _files, total in groups)
    assert totals == [400, 410], f"longest-first greedy split, got {groups}"
    files = sorted(f for group, _total in groups for f in group)
    assert files == sorted(estimates), "every file runs exactly once"


def test_split_never_makes_an_empty_process():
    groups = pytest_runs.split({"only.py": 12.0}, 2)
    assert groups == [(["only.py"], 12.0)]


def test_unknown_test_files_are_estimated_from_their_number_of_tests(tmp_path, monkeypatch):
    monkeypatch.setattr(pytest_runs, "ROOT", tmp_path)
    (tmp_path / "known.py").write_text(
        "class T:\n    def test_a(self): ...\n    def test_b(self): ...\n"
    )
    (tmp_path / "new.py").write_text("".join(f"    def test_{i}(self): ...\n" for i in range(5)))
    estimates = pytest_runs.estimate(["known.py", "new.py"], {"known.py": 8.0})
    assert estimates["known.py"] == 8.0, "a measured file keeps its measured time"
    assert estimates["new.py"] == pytest.approx(20.0), "5 tests at the 4 s per test measured"


def test_junit_report_gives_seconds_per_test_file(tmp_path, monkeypatch):
    monkeypatch.setattr(pytest_runs, "ROOT", tmp_path)
    tests = tmp_path / "addons" / "x" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_y.py").write_text("")
    report = tmp_path / "junit.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="addons.x.tests.test_y.TestY" name="test_a" time="2.5"/>'
        '<testcase classname="addons.x.tests.test_y.TestY" name="test_b" time="1.5"/>'
        '<testcase classname="addons.x.tests.test_gone.T" name="test_c" time="9"/>'
        "</testsuite></testsuites>"
    )
    assert pytest_runs.junit_durations([report]) == {"addons/x/tests/test_y.py": 4.0}


def test_pytest_progress_counts_marks_of_complete_and_partial_lines(monkeypatch):
    monkeypatch.setattr(pytest_runs, "relay", lambda line, prefix: None)
    run = pytest_runs.PytestRun("odoo 1/2", ["-q"], env={})
    run._line("." * 70 + "F." + " [ 38%]")
    run.child.partial = "..E"
    assert run.progress() == "75 tests done, 38%+, 2 failing"
    run._line("1 failed, 74 passed in 10.0s")
    assert run.counts == {"failed": 1, "passed": 74}


ODOO_LOG = """\
2026-01-05 10:00:00,001 42 INFO suite_demo odoo.modules.loading: loading 1 modules...
2026-01-05 10:00:00,002 42 INFO suite_demo odoo.modules.loading: Loading module base (1/1)
2026-01-05 10:00:03,000 42 INFO suite_demo odoo.modules.loading: loading base/data/res_bank.xml
2026-01-05 10:00:05,000 42 INFO suite_demo odoo.modules.loading: Module base loaded in 5.00s, 8000 queries
2026-01-05 10:00:06,000 42 INFO suite_demo odoo.modules.loading: Loading module connector_base (2/3)
2026-01-05 10:00:07,000 42 INFO suite_demo odoo.modules.loading: Module connector_base: loading demo
2026-01-05 10:00:07,500 42 WARNING suite_demo odoo.models: something to look at
Traceback (most recent call last):
  File "x.py", line 1
2026-01-05 10:00:09,000 42 INFO suite_demo odoo.modules.loading: Module connector_base loaded in 3.00s, 900 queries
"""


def test_odoo_install_log_becomes_a_line_per_module_with_warnings_relayed(capsys):
    progress = odoo.ModuleProgress("demo", show_module=lambda module: True)
    for line in ODOO_LOG.splitlines():
        progress.feed(line)
        if "Loading module connector_base" in line:
            assert progress.status().startswith("connector_base (2/3) for ")
    out = capsys.readouterr().out
    assert [m[0] for m in progress.modules] == ["base", "connector_base"]
    assert "(1/1) base" in out and "5.0 s" in out
    assert "(2/3) connector_base" in out and "demo data" in out
    assert "WARNING suite_demo odoo.models: something to look at" in out
    assert 'File "x.py", line 1' in out, "the traceback after a warning is relayed with it"
    assert "res_bank.xml" not in out, "INFO lines stay in the log file"


def test_oca_requirements_name_the_addons(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements-oca.txt"
    requirements.write_text(
        "# comment\nodoo-addon-account-invoice-inter-company==18.0.1.0.8  # why\n"
        "odoo-addon-base_multi_company==18.0.1.0.1\n"
    )
    monkeypatch.setattr(prereqs, "REQUIREMENTS_OCA", requirements)
    assert [addon for _spec, addon in prereqs.oca_addons()] == [
        "account_invoice_inter_company",
        "base_multi_company",
    ]
    requirements.write_text("requests==2.31.0\n")
    with pytest.raises(prereqs.HarnessError, match="not an OCA addon wheel"):
        prereqs.oca_addons()


def test_phase_table_shows_each_phase_its_time_and_failures():
    table = console.PhaseTable()
    table.add("unit tests", 14.8, "430 passed")
    table.add("Odoo tests (2 processes)", 185, "1 failed, 187 passed", ok=False)
    lines = table.render(total_seconds=230)
    assert lines[0].split() == ["phase", "time", "result"]
    assert "unit tests" in lines[2] and "14.8 s" in lines[2] and "430 passed" in lines[2]
    assert "3 min 05 s" in lines[3] and "FAILED: 1 failed" in lines[3]
    assert lines[-1].startswith("total") and "3 min 50 s" in lines[-1]


IGNORES_SIGTERM = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def _started(code):
    from harness.processes import Child

    child = Child("probe", [sys.executable, "-c", code], on_line=lambda line: None)
    child.keep_lines = True
    child.start()
    deadline = time.monotonic() + 10
    while not child.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    return child


def test_stop_ends_a_child_with_sigterm_and_keeps_its_output_out_of_the_terminal():
    child = _started("import time; print('ready', flush=True); time.sleep(60)")
    assert child.stop(grace=5) == "stopped"
    assert child.poll() == -signal.SIGTERM
    assert child.relaying is False, "a stopping child's last words go to its log only"


def test_stop_kills_a_child_that_ignores_sigterm_after_the_grace_period():
    child = _started(IGNORES_SIGTERM)
    started = time.monotonic()
    how = child.stop(grace=1)
    assert how.startswith("killed"), how
    assert child.poll() == -signal.SIGKILL
    assert 1 <= time.monotonic() - started < 8, "SIGKILL follows the grace period"


def test_children_run_in_their_own_session_so_ctrl_c_reaches_the_harness_only():
    child = _started("import time; print('ready', flush=True); time.sleep(60)")
    try:
        assert os.getsid(child.pid) == child.pid != os.getsid(0)
    finally:
        child.stop(grace=5)


def test_missing_prerequisites_are_all_named_with_how_to_get_them(monkeypatch):
    monkeypatch.setattr(prereqs, "odoo_status", lambda: (False, "'import odoo' fails"))
    monkeypatch.setattr(prereqs, "postgresql_status", lambda: (False, "initdb not found. apt"))
    monkeypatch.setattr(prereqs, "chromium_status", lambda: (False, prereqs.HOW_TO_GET_CHROMIUM))
    with pytest.raises(prereqs.HarnessError) as error:
        prereqs.check_prerequisites("demo", odoo=True, postgresql=True, chromium=True)
    message = str(error.value)
    assert "Odoo 18.0: 'import odoo' fails" in message
    assert "branch 18.0" in message and "docker compose up" in message, "how to get Odoo"
    assert "PostgreSQL: initdb not found" in message
    assert "apt-get install chromium" in message


def test_prerequisites_found_are_reported_on_one_line(monkeypatch, capsys):
    monkeypatch.setattr(prereqs, "odoo_status", lambda: (True, "Odoo 18 at /opt/odoo18/odoo"))
    monkeypatch.setattr(prereqs, "postgresql_status", lambda: (True, "PostgreSQL 15.18"))
    prereqs.check_prerequisites("test", odoo=True, postgresql=True)
    out = capsys.readouterr().out
    assert "[test] prerequisites: Python" in out
    assert "Odoo 18 at /opt/odoo18/odoo; PostgreSQL 15.18" in out


def test_measured_durations_move_half_way_so_one_loaded_run_does_not_rule(tmp_path, monkeypatch):
    measured = tmp_path / "test-durations.json"
    monkeypatch.setattr(pytest_runs, "MEASURED_DURATIONS", measured)
    pytest_runs.save_durations({"a.py": 100.0})
    pytest_runs.save_durations({"a.py": 300.0, "b.py": 10.0})
    assert json.loads(measured.read_text()) == {"a.py": 200.0, "b.py": 10.0}


def test_integration_tests_run_alongside_only_with_spare_cores():
    from harness.testrun import integration_alongside

    assert integration_alongside("auto", cores=2) is False, "2 cores: after the Odoo tests"
    assert integration_alongside("auto", cores=8) is True
    assert integration_alongside("alongside", cores=2) is True, "forced"
    assert integration_alongside("serial", cores=8) is False, "forced"
