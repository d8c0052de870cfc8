"""pytest runs as children of the harness: progress while they run, their counts after, and the
split of the Odoo tests over several processes balanced by measured durations."""

import contextlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from .console import relay
from .paths import COMMITTED_DURATIONS, MEASURED_DURATIONS, ROOT
from .processes import Child

SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ [a-z]+(?:, \d+ [a-z]+)*) in [\d.]+s")
PROGRESS = re.compile(r"^(?P<marks>[.FEsxXR]+)\s*(?:\[\s*\d+%\])?$")
PERCENT = re.compile(r"\[\s*(\d+)%\]$")
FAILING_MARKS = "FE"


def parse_counts(line):
    """{'passed': 430, 'failed': 1} from pytest's closing line, or None."""
    match = SUMMARY.match(line.strip())
    if not match:
        return None
    counts = {}
    for part in match["counts"].split(", "):
        number, word = part.split(" ")
        word = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[word] = counts.get(word, 0) + int(number)
    return counts


def describe_counts(counts):
    if not counts:
        return "no result line"
    order = ["passed", "failed", "errors", "skipped", "xfailed", "xpassed", "deselected"]
    return ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))


class PytestRun:
    """One pytest process: its output relayed with a label, its progress counted from the
    ``-q`` progress marks, its counts read from the closing line."""

    def __init__(self, label, args, env, log_path=None, junit_path=None, prefix=None):
        self.label = label
        self.prefix = label if prefix is None else prefix
        self.junit_path = Path(junit_path) if junit_path else None
        argv = [sys.executable, "-m", "pytest", *args]
        if self.junit_path:
            self.junit_path.parent.mkdir(parents=True, exist_ok=True)
            argv.append(f"--junitxml={self.junit_path}")
        self.child = Child(label, argv, env=env, log_path=log_path, on_line=self._line)
        self.done_marks = 0
        self.failing_marks = 0
        self.percent = None
        self.counts = None
        self.status = None

    def _line(self, line):
        relay(line, self.prefix)
        if match := PROGRESS.match(line.strip()):
            self.done_marks += len(match["marks"])
            self.failing_marks += sum(match["marks"].count(c) for c in FAILING_MARKS)
            if percent := PERCENT.search(line.strip()):
                self.percent = int(percent.group(1))
        elif (counts := parse_counts(line)) is not None:
            self.counts = counts

    def start(self):
        self.child.start()
        return self

    def progress(self):
        partial = self.child.partial.strip()
        running = len(partial) if PROGRESS.match(partial or "-") else 0
        failing = self.failing_marks + sum(partial.count(c) for c in FAILING_MARKS)
        text = f"{self.done_marks + running} tests done"
        if self.percent is not None:
            text += f", {self.percent}%+"
        if failing:
            text += f", {failing} failing"
        return text

    def wait(self):
        self.status = self.child.wait()
        return self.status

    def finished(self):
        return self.child.poll() is not None

    def elapsed(self):
        return self.child.elapsed()

    def ok(self):
        # 5: no test collected. An addon without tests yet is not a failure of the suite.
        return self.status in (0, 5)

    def stop(self):
        self.child.stop()


# ---------------------------------------------------------------------------------------------
# Splitting the Odoo tests over processes
# ---------------------------------------------------------------------------------------------


def test_files(addons_dir):
    """The test modules pytest would collect in ``<addons_dir>/*/tests`` (test_*.py, *_test.py)."""
    files = set()
    for pattern in ("*/tests/test_*.py", "*/tests/*_test.py"):
        files.update(addons_dir.glob(pattern))
    return sorted(str(p.relative_to(ROOT)) for p in files)


def load_durations():
    """Seconds per test file: committed estimates, overridden by this machine's last runs."""
    durations = {}
    for path in (COMMITTED_DURATIONS, MEASURED_DURATIONS):
        if path.exists():
            with contextlib.suppress(ValueError):
                durations.update(json.loads(path.read_text()))
    return durations


def _count_tests(path):
    return max(1, len(re.findall(r"^\s+def test_", (ROOT / path).read_text(), re.M)))


def estimate(files, durations):
    """Seconds per file: measured when known, else its number of tests times the median time of
    a test in the measured files (a new file is then placed like a file of its size)."""
    per_test = sorted(
        durations[f] / _count_tests(f) for f in files if f in durations and (ROOT / f).exists()
    )
    median = per_test[len(per_test) // 2] if per_test else 2.0
    return {f: durations.get(f, _count_tests(f) * median) for f in files}


def split(estimates, workers):
    """Longest first, each file to the least loaded process: (files, estimated seconds) each."""
    buckets = [[[], 0.0] for _ in range(workers)]
    for path, seconds in sorted(estimates.items(), key=lambda kv: (-kv[1], kv[0])):
        bucket = min(buckets, key=lambda b: b[1])
        bucket[0].append(path)
        bucket[1] += seconds
    return [(sorted(files), total) for files, total in buckets if files]


def junit_durations(junit_paths):
    """Seconds per test file from pytest's JUnit XML reports (setup, call and teardown of each
    test, so a class's setUpClass counts for its file)."""
    totals = {}
    for path in junit_paths:
        if not Path(path).exists():
            continue
        for case in ET.parse(path).getroot().iter("testcase"):
            rel = _file_of(case.get("classname", ""))
            if rel:
                totals[rel] = totals.get(rel, 0.0) + float(case.get("time", 0) or 0)
    return totals


def _file_of(classname):
    """The test file of a JUnit classname (``addons.x.tests.test_y.TestClass``: the node id's
    path with dots, then the class)."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        rel = "/".join(parts[:end]) + ".py"
        if (ROOT / rel).is_file():
            return rel
    return None


def save_durations(measured):
    if not measured:
        return
    durations = {}
    if MEASURED_DURATIONS.exists():
        try:
            durations = json.loads(MEASURED_DURATIONS.read_text())
        except ValueError:
            durations = {}
    # The mean of the last figure and this one: one run on a loaded machine moves it half-way.
    for path, seconds in measured.items():
        previous = durations.get(path)
        durations[path] = round(seconds if previous is None else (previous + seconds) / 2, 1)
    MEASURED_DURATIONS.parent.mkdir(exist_ok=True)
    MEASURED_DURATIONS.write_text(json.dumps(dict(sorted(durations.items())), indent=1) + "\n")
