"""Child processes of the harness, and how they stop.

Every child runs in a session of its own, so the terminal's Ctrl-C reaches the harness alone:
the harness then stops its children in order (SIGTERM to the child's process group, a grace
period, SIGKILL), and their output, read by a thread into a log file, is no longer relayed to the
terminal while they shut down. That is what keeps tracebacks of interrupted children (an Odoo
install cut short, a fake server) out of the terminal.
"""

import codecs
import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .paths import ROOT, RUN_DIR

STOP_GRACE_SECONDS = 10


class Interrupted(BaseException):  # like KeyboardInterrupt: not an error
    """SIGINT or SIGTERM reached the harness: stop what it started, quietly."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_stopping = threading.Event()


def _raise_interrupted(signum, _frame):
    if _stopping.is_set():
        return  # already stopping: the cleanup in progress finishes the job
    raise Interrupted(signum)


def install_signal_handlers():
    """SIGINT (Ctrl-C), SIGTERM (make stop) and SIGHUP (the terminal closed) interrupt the main
    thread with ``Interrupted``."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)


@contextlib.contextmanager
def stopping():
    """While cleaning up, a second signal must not interrupt the cleanup itself."""
    _stopping.set()
    try:
        yield
    finally:
        _stopping.clear()


class Child:
    """A child process whose output (stdout and stderr merged) goes line by line to ``on_line``
    and, when ``log_path`` is given, to that file. ``partial`` holds the current unterminated
    line (pytest prints its progress dots without a newline)."""

    def __init__(self, name, argv, env=None, log_path=None, on_line=None, cwd=ROOT):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.env = env
        self.log_path = Path(log_path) if log_path else None
        self.on_line = on_line
        self.cwd = cwd
        self.relaying = True
        self.partial = ""
        self.lines = []
        self.keep_lines = False
        self.process = None
        self._reader = None
        self.started_at = None
        self.ended_at = None  # when its output ended: about when it exited

    def start(self):
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self._reader = threading.Thread(target=self._read, name=f"read-{self.name}", daemon=True)
        self._reader.start()
        return self

    @property
    def pid(self):
        return self.process.pid

    def _read(self):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        log = self.log_path.open("a") if self.log_path else None
        try:
            fd = self.process.stdout.fileno()
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                text = self.partial + decoder.decode(chunk)
                *complete, self.partial = text.split("\n")
                for line in complete:
                    self._line(line.rstrip("\r"), log)
            if self.partial:
                self._line(self.partial, log)
                self.partial = ""
        finally:
            self.ended_at = time.monotonic()
            if log:
                log.close()

    def _line(self, line, log):
        if log:
            log.write(line + "\n")
            log.flush()
        if self.keep_lines:
            self.lines.append(line)
        if self.relaying and self.on_line:
            self.on_line(line)

    def poll(self):
        return self.process.poll()

    def wait(self, timeout=None):
        """Wait for the exit, then for the last output; returns the exit status."""
        status = self.process.wait(timeout=timeout)
        if self._reader:
            self._reader.join(timeout=10)
        return status

    def elapsed(self):
        end = self.ended_at if self.ended_at is not None else time.monotonic()
        return end - self.started_at

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, grace=STOP_GRACE_SECONDS):
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; silent. Returns how it ended."""
        if not self.running():
            return "already stopped"
        self.relaying = False
        how = stop_group(self.process.pid, lambda: self.process.poll() is not None, grace)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        return how


def stop_group(pid, is_gone, grace=STOP_GRACE_SECONDS):
    """Stop the process group led by ``pid``: SIGTERM, then SIGKILL after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if is_gone():
            return "stopped"
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not is_gone():
        time.sleep(0.1)
    return f"killed (no exit {grace} s after SIGTERM)"


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purposes (its parent has not reaped it yet).
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
            return False
    return True


def cmdline(pid):
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def write_pid(name, pid, marker):
    """Remember a process for ``make stop``; ``marker`` is a piece of its command line, checked
    before any signal is sent (the pid may belong to another process after a reboot)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / f"{name}.pid").write_text(f"{pid}\n{marker}\n")


def read_pids():
    """(name, pid, marker) of the processes remembered in ``.cache/run``, still alive and still
    running the recorded command."""
    found = []
    for pid_file in sorted(RUN_DIR.glob("*.pid")) if RUN_DIR.exists() else []:
        try:
            pid_text, marker = [*pid_file.read_text().splitlines(), ""][:2]
            pid = int(pid_text)
        except ValueError:
            continue
        if pid_alive(pid) and marker in cmdline(pid):
            found.append((pid_file.stem, pid, marker))
    return found
