"""The harness's command line: ``python3 setup/harness.py <command>`` (what the Makefile runs)."""

import argparse
import os
import shutil
import sys
import time

from .console import PhaseTable, Step, plain, say
from .demo import cmd_demo, cmd_stop
from .errors import HarnessError
from .odoo import (
    create_database,
    data_dir,
    ensure_encryption_key,
    install_addons,
    require_odoo,
    suite_addons,
    write_odoo_config,
)
from .paths import CACHE, LOG_DIR
from .pg import Cluster
from .prereqs import check_prerequisites, install
from .processes import Interrupted, install_signal_handlers, stopping
from .pytest_runs import PytestRun, describe_counts
from .testrun import cmd_test, default_jobs, odoo_pytest_args, plain_pytest_args


def cmd_install(opts):
    check_prerequisites("install", odoo=False, postgresql=False)
    install("install", only_if_needed=False)
    return 0


def cmd_bench(opts):
    """The benchmarks against a throwaway cluster (fsync on: commit costs of a real server),
    one phase per benchmark file, with a table of their durations at the end."""
    started = time.monotonic()
    check_prerequisites("bench", odoo=True, postgresql=True)
    install("bench", only_if_needed=True)
    CACHE.mkdir(exist_ok=True)
    cluster = Cluster(f"bench-{os.getpid()}", durable=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    table, failed, config = PhaseTable(), [], None
    try:
        with Step("PostgreSQL cluster", "bench") as step:
            step.note = cluster.start()
        table.add("PostgreSQL cluster", step.elapsed, "throwaway, fsync on")
        env.update(cluster.env())
        ensure_encryption_key(env)
        config = write_odoo_config(
            cluster, cluster.name, include_tests=True, extra={"list_db": True}
        )
        env["SUITE_ODOO_CONFIG"] = str(config)
        if opts.pytest_args:
            phases = [("benchmarks", list(opts.pytest_args))]
        else:
            files = sorted((CACHE.parent / "tests" / "benchmarks").glob("test_*.py"))
            phases = [(f.stem, [str(f.relative_to(CACHE.parent))]) for f in files]
        for name, args in phases:
            run = PytestRun(name, plain_pytest_args(*args), env, LOG_DIR / f"bench-{name}.log")
            with Step(name, "bench", status=run.progress) as step:
                run.start()
                try:
                    run.wait()
                finally:
                    run.stop()
                step.note = describe_counts(run.counts)
                step.failed = not run.ok()
            table.add(name, step.elapsed, describe_counts(run.counts), run.ok())
            if not run.ok():
                failed.append(name)
    finally:
        with stopping():
            cluster.stop()
            if config:
                shutil.rmtree(data_dir(config), ignore_errors=True)
                config.unlink(missing_ok=True)
    table.print(time.monotonic() - started)
    plain("FAILED: " + ", ".join(failed) if failed else "ALL BENCHMARKS PASSED")
    return 1 if failed else 0


def cmd_dev(opts):
    """Iterate on some addons: a persistent cluster (.cache/pg-dev) and database, reused between
    calls; the database is created on first use, ``--update`` upgrades addons in it, then pytest
    runs the given paths (Odoo tests with pytest-odoo, or ``--plain`` for integration/benchmarks).
    ``make stop`` removes the cluster."""
    require_odoo("dev runs")
    CACHE.mkdir(exist_ok=True)
    cluster = Cluster("dev", durable=False)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    with Step("PostgreSQL cluster", "dev") as step:
        step.note = cluster.start()
    env.update(cluster.env())
    ensure_encryption_key(env)
    config_path = write_odoo_config(cluster, "dev", include_tests=True, extra={"list_db": True})
    env["SUITE_ODOO_CONFIG"] = str(config_path)
    addons = opts.addons.split(",") if opts.addons else suite_addons(include_tests=True)
    if opts.reset or not cluster.database_exists(opts.database):
        create_database(cluster, config_path, opts.database, addons, env, "dev")
    elif opts.update:
        install_addons(
            config_path, opts.database, opts.update.split(","), env, "dev", False, mode="-u"
        )
    if not opts.pytest_args:
        say(
            f"database {opts.database} ready; SUITE_ODOO_CONFIG={config_path} "
            + " ".join(f"{k}={v}" for k, v in cluster.env().items() if k != "PGOPTIONS"),
            "dev",
        )
        return 0
    if opts.plain:
        args = plain_pytest_args(*opts.pytest_args)
    else:
        args = odoo_pytest_args(config_path, opts.database, opts.pytest_args)
    run = PytestRun("dev", args, env, prefix="")
    say(f"pytest {' '.join(args)}", "dev")
    with Step("tests", "dev", status=run.progress, announce=False):
        run.start()
        try:
            run.wait()
        finally:
            run.stop()
    return 0 if run.ok() else 1


def build_parser():
    parser = argparse.ArgumentParser(
        prog="setup/harness.py",
        description="Throwaway PostgreSQL clusters, test databases, the test suite, the demo.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="the whole test suite (what make test runs)")
    test.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("SUITE_TEST_JOBS", "0")) or default_jobs(),
        help="Odoo test processes, each on its own copy of the test database (default: 2)",
    )
    test.add_argument(
        "--integration",
        choices=["auto", "serial", "alongside"],
        default=os.environ.get("SUITE_INTEGRATION", "auto"),
        help="run the integration tests after the Odoo tests (serial), or at the same time "
        "(alongside); auto: alongside with 4 cores or more, else serial",
    )
    bench = sub.add_parser("bench", help="the benchmarks (what make bench runs)")
    bench.add_argument("pytest_args", nargs="*")
    demo = sub.add_parser("demo", help="a demo database served on http://localhost:8069")
    demo.add_argument("--database", default="suite_demo")
    demo.add_argument("--port", type=int, default=8069)
    demo.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0: all)")
    demo.add_argument(
        "--db-manager",
        action="store_true",
        help="turn the database manager on, with a master password generated and printed once",
    )
    demo.add_argument("--verbose", action="store_true", help="show every line of the server log")
    sub.add_parser("stop", help="stop what make demo started and remove throwaway clusters")
    sub.add_parser("install", help="the Python requirements and OCA addons (make install)")
    dev = sub.add_parser("dev", help="a persistent dev database; runs the given tests in it")
    dev.add_argument("--database", default="suite_dev")
    dev.add_argument("--addons", help="addons of a new database (default: all, with test addons)")
    dev.add_argument("--update", help="comma-separated addons to upgrade before the tests")
    dev.add_argument("--reset", action="store_true", help="drop and create the database again")
    dev.add_argument("--plain", action="store_true", help="plain pytest (integration, benchmarks)")
    dev.add_argument("pytest_args", nargs="*")
    return parser


COMMANDS = {
    "test": cmd_test,
    "bench": cmd_bench,
    "demo": cmd_demo,
    "stop": cmd_stop,
    "install": cmd_install,
    "dev": cmd_dev,
}


def main(argv=None):
    # Options the harness does not know (-k, -x, --lf...) go to pytest for dev and bench.
    opts, unknown = build_parser().parse_known_args(argv)
    if unknown:
        if opts.command not in ("dev", "bench"):
            build_parser().error(f"unrecognized arguments: {' '.join(unknown)}")
        opts.pytest_args = [*opts.pytest_args, *unknown]
    install_signal_handlers()
    prefix = opts.command
    try:
        return COMMANDS[opts.command](opts)
    except HarnessError as exc:
        with stopping():
            say(f"ERROR: {exc}", prefix)
        return 1
    except Interrupted as exc:
        with stopping():
            say(f"interrupted ({exc}); what this run started is stopped", prefix)
        # The demo is meant to be ended so: a clean stop is a success.
        return 0 if opts.command == "demo" else 130
    finally:
        sys.stdout.flush()
