"""``make test``: unit tests, the test database, the Odoo tests in parallel processes, the
integration tests; a line per phase as it ends and a table of them all at the end.

Speed without dropping a test: the unit tests run while the test database installs; the
database is installed once and copied (``CREATE DATABASE ... TEMPLATE``, its filestore copied
too) for each further Odoo test process; the test files are spread over the processes by their
measured durations (``.cache/test-durations.json``, written after each run, over the estimates
committed in ``setup/test-durations.json``).
"""

import os
import re
import shutil
import time

from .console import PhaseTable, Step, duration, plain, say
from .errors import HarnessError
from .odoo import (
    HOW_TO_GET_ODOO,
    create_database,
    data_dir,
    ensure_encryption_key,
    filestore,
    odoo_status,
    suite_addons,
    write_odoo_config,
)
from .paths import LOG_DIR, SUITE_ADDONS_DIR, TEST_ADDONS_DIR
from .pg import Cluster, run_quiet
from .prereqs import check_prerequisites, install
from .processes import stopping
from .pytest_runs import (
    PytestRun,
    describe_counts,
    estimate,
    junit_durations,
    load_durations,
    save_durations,
    split,
    test_files,
)

PREFIX = "test"


def plain_pytest_args(*paths_and_options):
    """pytest without the pytest-odoo plugin: these tests start Odoo processes themselves."""
    return [*paths_and_options, "-q", "-s", "-p", "no:cacheprovider", "-p", "no:odoo"]


def odoo_pytest_args(config_path, dbname, paths):
    return [
        f"--odoo-config={config_path}",
        f"--odoo-database={dbname}",
        "--odoo-http",
        "--odoo-log-level=warn",
        "-p",
        "no:cacheprovider",
        "-q",
        *paths,
    ]


def default_jobs():
    return max(1, min(2, os.cpu_count() or 1))


# The integration tests assert that two runner processes overlap in time, and a few Odoo tests
# give a job less than a tenth of a second: on 2 cores, running both phases at once starves them
# (seen: "the runners did not overlap in time", a time budget spent before the first job).
ALONGSIDE_MIN_CORES = 4


def integration_alongside(mode, cores=None):
    """Whether the integration tests run at the same time as the Odoo tests."""
    if mode == "auto":
        return (cores or os.cpu_count() or 1) >= ALONGSIDE_MIN_CORES
    return mode == "alongside"


class TestRun:
    def __init__(self, opts):
        self.opts = opts
        self.started = time.monotonic()
        self.table = PhaseTable()
        self.counts = {}
        self.failures = []
        self.runs = []
        self.env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
        self.cluster = None
        self.dbname = f"suite_test_{os.getpid()}"
        self.databases = []
        self.config = None

    # -- bookkeeping ---------------------------------------------------------------------------

    def record(self, phase, seconds, run_or_text, ok=True, name=None):
        if isinstance(run_or_text, PytestRun):
            run = run_or_text
            ok = run.ok()
            text = describe_counts(run.counts)
            if run.status not in (0, 5, None) and not run.counts:
                text = f"exit status {run.status}"
            for key, value in (run.counts or {}).items():
                self.counts[key] = self.counts.get(key, 0) + value
        else:
            text = run_or_text
        self.table.add(phase, seconds, text, ok)
        if not ok:
            self.failures.append(name or phase)

    def closing_line(self):
        failed = self.counts.get("failed", 0) + self.counts.get("errors", 0)
        line = f"total: {self.counts.get('passed', 0)} passed, {failed} failed"
        if self.counts.get("skipped"):
            line += f", {self.counts['skipped']} skipped"
        return line

    def start_pytest(self, label, args, junit=None):
        log = LOG_DIR / (re.sub(r"[^\w.-]+", "-", label) + ".log")
        run = PytestRun(label, args, self.env, log, junit)
        self.runs.append(run)
        say(f"{label}: pytest {' '.join(args)}", PREFIX)
        return run.start()

    def wait_all(self, runs, name):
        """Wait for runs that go on together, with one heartbeat for all of them."""
        pending = list(runs)

        def status():
            return "; ".join(f"{r.label}: {r.progress()}" for r in pending)

        with Step(name, PREFIX, status=status, announce=False, report=False):
            while pending:
                for run in list(pending):
                    if run.finished():
                        run.wait()
                        pending.remove(run)
                        say(
                            f"{run.label}: {describe_counts(run.counts)}, "
                            f"{duration(run.elapsed())}" + ("" if run.ok() else " - FAILED"),
                            PREFIX,
                        )
                time.sleep(0.2)

    # -- the run -------------------------------------------------------------------------------

    def run(self):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        odoo_ok, odoo_reason = odoo_status()
        with Step("prerequisites", PREFIX, announce=False) as step:
            # Without Odoo, the unit tests still run (and PostgreSQL and Chromium are not needed).
            check_prerequisites(PREFIX, odoo=odoo_ok, postgresql=odoo_ok, chromium=odoo_ok)
            install(PREFIX, only_if_needed=True)
        self.record("prerequisites, requirements", step.elapsed, "ok")
        if not odoo_ok:
            say(f"ODOO TESTS NOT RUN: {odoo_reason}.\n{HOW_TO_GET_ODOO}", PREFIX)

        unit = self.start_pytest(
            "unit tests", ["tests/unit", "-q", "-p", "no:cacheprovider", "-p", "no:odoo"]
        )
        try:
            if odoo_ok:
                try:
                    self.odoo_phases(unit)
                except HarnessError as exc:
                    say(f"ERROR: {exc}", PREFIX)
                    self.failures.append("set-up of the Odoo tests")
            if unit.status is None:
                self.wait_all([unit], "unit tests")
            if "unit tests" not in [row[0] for row in self.table.rows]:
                self.record("unit tests", unit.elapsed(), unit)
        finally:
            with stopping():
                started = time.monotonic()
                self.cleanup()
                if self.cluster:
                    self.record(
                        "clean-up", time.monotonic() - started, "cluster and filestores removed"
                    )
        self.table.print(time.monotonic() - self.started)
        plain()
        if self.failures:
            plain(f"FAILED: {', '.join(self.failures)}")
        elif not odoo_ok:
            plain("UNIT TESTS PASSED; ODOO TESTS NOT RUN (Odoo 18 is not importable)")
        else:
            plain("ALL TEST SUITES PASSED")
        plain(self.closing_line())
        return 1 if self.failures else 0

    def odoo_phases(self, unit):
        self.cluster = Cluster(f"test-{os.getpid()}", durable=False)
        with Step("PostgreSQL cluster", PREFIX) as step:
            step.note = self.cluster.start()
        self.record("PostgreSQL cluster", step.elapsed, "throwaway, fsync off")
        self.env.update(self.cluster.env())
        ensure_encryption_key(self.env)
        # list_db: the integration test of a server with several databases lists them.
        # Named after this run: two runs in one checkout must not share a configuration (ports)
        # or a filestore.
        config = write_odoo_config(
            self.cluster, self.cluster.name, include_tests=True, extra={"list_db": True}
        )
        self.config = config
        self.databases.append(self.dbname)
        shutil.rmtree(filestore(config, self.dbname), ignore_errors=True)
        started = time.monotonic()
        modules = create_database(
            self.cluster, config, self.dbname, suite_addons(include_tests=True), self.env, PREFIX
        )
        self.record(
            "test database", time.monotonic() - started, f"{len(modules)} modules, demo data"
        )
        if unit.finished():
            self.wait_all([unit], "unit tests")
            self.record("unit tests", unit.elapsed(), unit)

        # The Odoo test files (the addons', and the README walkthroughs' of tests/addons), spread
        # over processes by their measured durations.
        files = test_files(SUITE_ADDONS_DIR) + test_files(TEST_ADDONS_DIR)
        jobs = max(1, min(self.opts.jobs or default_jobs(), len(files)))
        groups = split(estimate(files, load_durations()), jobs)
        databases = [self.dbname]
        copies = len(groups) - 1
        what = f"{copies} {'copy' if copies == 1 else 'copies'} of the test database"
        with Step(what, PREFIX, announce=False, report=copies > 0) as step:
            for index in range(2, len(groups) + 1):
                copy = f"{self.dbname}_{index}"
                self.databases.append(copy)
                self.cluster.copy_database(self.dbname, copy)
                source, target = filestore(config, self.dbname), filestore(config, copy)
                shutil.rmtree(target, ignore_errors=True)
                if os.path.isdir(source):
                    shutil.copytree(source, target)
                databases.append(copy)
        if len(groups) > 1:
            self.record(
                "database copies", step.elapsed, f"{len(groups) - 1} (template + filestore)"
            )

        self.env["SUITE_ODOO_CONFIG"] = str(config)
        odoo_runs, junits = [], []
        for index, ((paths, seconds), dbname) in enumerate(zip(groups, databases, strict=True), 1):
            junit = LOG_DIR / f"junit-{self.cluster.name}-{index}.xml"
            junit.unlink(missing_ok=True)
            junits.append(junit)
            label = f"odoo {index}/{len(groups)}"
            say(f"{label}: {len(paths)} test files, estimated {duration(seconds)}", PREFIX)
            odoo_runs.append(
                self.start_pytest(label, odoo_pytest_args(config, dbname, paths), junit)
            )
        alongside = integration_alongside(self.opts.integration)
        integration = None
        if alongside:
            integration = self.start_pytest("integration", plain_pytest_args("tests/integration"))
        odoo_started = time.monotonic()
        self.wait_all(odoo_runs + ([integration] if integration else []), "Odoo tests")
        odoo_elapsed = max(r.elapsed() for r in odoo_runs)
        merged = PytestRun("odoo", [], self.env)
        merged.status = 0 if all(r.ok() for r in odoo_runs) else 1
        merged.counts = {}
        for run in odoo_runs:
            for key, value in (run.counts or {}).items():
                merged.counts[key] = merged.counts.get(key, 0) + value
        self.record(
            f"Odoo tests ({len(odoo_runs)} processes)", odoo_elapsed, merged, name="Odoo tests"
        )
        for run in odoo_runs:
            self.table.add(f"  {run.label}", run.elapsed(), describe_counts(run.counts), run.ok())
        save_durations(junit_durations(junits))
        for junit in junits:
            junit.unlink(missing_ok=True)
        if integration is None:
            integration = self.start_pytest("integration", plain_pytest_args("tests/integration"))
            self.wait_all([integration], "integration tests")
        self.record(
            "integration tests" + (" (alongside)" if alongside else ""),
            integration.elapsed(),
            integration,
            name="integration tests",
        )
        say(
            f"Odoo tests and integration tests: {duration(time.monotonic() - odoo_started)}", PREFIX
        )

    def cleanup(self):
        for run in self.runs:
            run.stop()
        if not self.cluster:
            return
        if self.cluster.external:
            for dbname in self.databases:
                run_quiet(["dropdb", "--if-exists", "--force", dbname], env=self.env, check=False)
        self.cluster.stop()
        if self.config:
            # This run's filestores (its databases and those of the integration tests) and
            # configuration; the logs stay in .cache/logs.
            shutil.rmtree(data_dir(self.config), ignore_errors=True)
            self.config.unlink(missing_ok=True)


def cmd_test(opts):
    return TestRun(opts).run()
