"""What the harness prints: prefixed lines, timed steps that never sit silent, a phase table.

Every line goes through :func:`say` or :func:`relay`, which remember when the terminal last got
output. While a :class:`Step` is open, a heartbeat thread prints a status line whenever nothing
was printed for ``HEARTBEAT_SECONDS``, so a long step (a database install, a test phase) always
shows that it is alive and for how long it has been running.
"""

import contextlib
import os
import sys
import threading
import time

HEARTBEAT_SECONDS = 10

_lock = threading.Lock()
_last_output = time.monotonic()
_open_steps = []


def duration(seconds):
    """A duration as a person reads it: ``4.2 s``, ``2 min 05 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


def _write(text):
    global _last_output
    with _lock:
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except OSError:
            # The terminal or the pipe reading us is gone (closed window, `| tee` killed by the
            # same Ctrl-C): keep going silently, so that the clean-up still runs to its end.
            _silence_stdout()
        _last_output = time.monotonic()


def _silence_stdout():
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def say(message, prefix="harness"):
    _write(f"[{prefix}] {message}")


def relay(line, prefix):
    """A line of a child process (pytest, Odoo, a fake server), labelled with its origin."""
    _write(f"  {prefix} | {line}" if prefix else line)


def plain(text=""):
    _write(text)


class Step:
    """A timed step: ``with Step("PostgreSQL cluster") as step: ...``.

    Prints ``name ...`` on entry and ``name: done in 1.2 s`` on exit (``step.note`` is added to
    that line). ``status`` is a callable giving the heartbeat text; by default the heartbeat says
    how long the step has been running. Steps nest: the heartbeat speaks for the innermost one.
    """

    def __init__(self, name, prefix="harness", status=None, announce=True, short=None, report=True):
        self.name = name
        self.report = report
        self.short = short or name
        self.prefix = prefix
        self.status = status
        self.announce = announce
        self.note = ""
        self.started = None
        self.elapsed = None
        self.failed = False

    def __enter__(self):
        self.started = time.monotonic()
        if self.announce:
            say(f"{self.name} ...", self.prefix)
        _open_steps.append(self)
        _Heartbeat.ensure_running()
        return self

    def running_for(self):
        return time.monotonic() - self.started

    def heartbeat_text(self):
        text = self.status() if self.status else ""
        return f"{self.short}: still running, {duration(self.running_for())}" + (
            f" ({text})" if text else ""
        )

    def __exit__(self, exc_type, exc, tb):
        self.elapsed = self.running_for()
        _open_steps.remove(self)
        if not self.report:
            pass
        elif exc_type is None and not self.failed:
            say(f"{self.short}: done in {duration(self.elapsed)}{self._note()}", self.prefix)
        elif exc_type is None or issubclass(exc_type, Exception):
            say(f"{self.short}: FAILED after {duration(self.elapsed)}{self._note()}", self.prefix)
        return False

    def _note(self):
        return f" ({self.note})" if self.note else ""


class _Heartbeat(threading.Thread):
    _instance = None

    def __init__(self):
        super().__init__(name="harness-heartbeat", daemon=True)

    @classmethod
    def ensure_running(cls):
        if cls._instance is None:
            cls._instance = cls()
            cls._instance.start()

    def run(self):
        while True:
            time.sleep(1)
            if not _open_steps or time.monotonic() - _last_output < HEARTBEAT_SECONDS:
                continue
            step = _open_steps[-1]
            try:
                text = step.heartbeat_text()
            except Exception as exc:  # a status callable must never kill the heartbeat
                text = f"{step.short}: still running ({exc})"
            say(text, step.prefix)


class PhaseTable:
    """The summary of a run: one row per phase with its duration and result."""

    def __init__(self):
        self.rows = []

    def add(self, phase, seconds, result, ok=True):
        self.rows.append((phase, seconds, result, ok))

    def render(self, total_seconds=None):
        rows = [(p, duration(s) if s is not None else "-", r, ok) for p, s, r, ok in self.rows]
        if total_seconds is not None:
            rows.append(("total", duration(total_seconds), "", True))
        width = max([len("phase")] + [len(p) for p, *_ in rows])
        time_width = max([len("time")] + [len(t) for _, t, *_ in rows])
        lines = [f"{'phase':<{width}}  {'time':>{time_width}}  result"]
        lines.append(f"{'-' * width}  {'-' * time_width}  {'-' * 30}")
        for phase, elapsed, result, ok in rows:
            mark = "" if ok else "FAILED: "
            lines.append(f"{phase:<{width}}  {elapsed:>{time_width}}  {mark}{result}".rstrip())
        return lines

    def print(self, total_seconds=None):
        plain()
        for line in self.render(total_seconds):
            plain(line)
