"""The queue's heartbeat: one daemon thread per Odoo process that runs queue runners.

Every few seconds, for each database of the process where connector_base is loaded, it calls
``connector.job._heartbeat_tick`` in a transaction of its own, which:

* renews the leases of the claims this process holds, also while one long job runs (the runner
  thread is busy in the job; the heartbeat is not);
* deletes the leases of the claims this process finished;
* reclaims the jobs of dead runners as soon as their leases expire;
* wakes the queue-runner crons (a due ``ir.cron.trigger`` and a NOTIFY on Odoo's
  ``cron_trigger`` channel) when jobs were reclaimed or are waiting with no runner on them.

Why: Odoo 18's cron threads sleep 60 s between polls (also right after a server starts) and are
woken only by triggers that are already due; a trigger set in the future, at a lease's expiry,
wakes nobody. The heartbeat turns "the lease expired" into "a runner starts now", so the jobs of a
killed server resume within the lease plus a few seconds, on any server of the database.

It runs in server processes with cron threads (started when the registry loads, see
connector_job_wakeup.py ``_register_hook``) and in any other process once it claims jobs (for
the renewals). Never under tests: there, nothing commits and time is driven by the tests.
"""

import logging
import os
import threading

from odoo import SUPERUSER_ID, api, modules
from odoo.tools import config

_logger = logging.getLogger(__name__)

MAX_TICK_SECONDS = 5.0
STARTUP_TICK_SECONDS = 1.0


def enabled():
    """Whether this process may run a heartbeat (never in tests or one-shot commands)."""
    return not (config["test_enable"] or config["stop_after_init"] or modules.module.current_test)


def serves_crons():
    """Whether this process is an Odoo server whose cron threads run jobs."""
    from odoo.service import server

    return server.server is not None and (config["max_cron_threads"] or 0) > 0


class Heartbeat:
    def __init__(self):
        self._lock = threading.Lock()
        self._claims = {}  # dbname -> claims held by this process (renewed)
        self._released = {}  # dbname -> claims finished by this process (lease to delete)
        self._thread = None
        self._pid = None
        self._stop = threading.Event()

    def running(self):
        """True when this process's heartbeat thread is alive (not inherited through a fork)."""
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def ensure_started(self):
        if self.running() or not enabled():
            return
        with self._lock:
            if self.running():
                return
            if self._pid != os.getpid():  # a forked worker: the parent's claims are not ours
                self._claims, self._released = {}, {}
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="connector-heartbeat", daemon=True
            )
            self._thread.start()
        _logger.info("connector queue heartbeat started (pid %s)", self._pid)

    def hold(self, dbname, claim):
        """This process runs the jobs of ``claim``: keep its lease alive."""
        with self._lock:
            self._claims.setdefault(dbname, set()).add(claim)

    def release(self, dbname, claim):
        """The claim is finished. Returns False when no heartbeat runs here: the caller then
        deletes the lease itself."""
        with self._lock:
            self._claims.get(dbname, set()).discard(claim)
            if not self.running():
                return False
            self._released.setdefault(dbname, set()).add(claim)
            return True

    def stop(self):
        """Stop the thread (tests of the heartbeat itself)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # The thread ------------------------------------------------------------------------------

    def _loop(self):
        while not self._stop.is_set():
            wait = MAX_TICK_SECONDS
            for dbname, registry in self._registries():
                if not registry.ready:
                    wait = min(wait, STARTUP_TICK_SECONDS)
                    continue
                wait = min(wait, self._beat(dbname, registry))
            self._stop.wait(wait)

    def _registries(self):
        from odoo.modules.registry import Registry

        try:
            items = list(Registry.registries.d.items())
        except RuntimeError:  # a registry was added or removed meanwhile: next tick
            return []
        return [(name, registry) for name, registry in items if "connector.job" in registry]

    def _beat(self, dbname, registry):
        with self._lock:
            renew = set(self._claims.get(dbname, ()))
            release = self._released.pop(dbname, set())
        thread = threading.current_thread()
        thread.dbname = dbname
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                return env["connector.job"]._heartbeat_tick(renew, release)
        except Exception:
            _logger.warning("connector queue heartbeat failed on %s", dbname, exc_info=True)
            with self._lock:  # delete those leases at the next beat
                self._released.setdefault(dbname, set()).update(release)
            return MAX_TICK_SECONDS
        finally:
            del thread.dbname


HEARTBEAT = Heartbeat()
