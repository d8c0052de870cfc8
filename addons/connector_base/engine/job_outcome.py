"""What happens to a job after a failed attempt: the queue's decision, as a pure function.

The runner records the outcome in SQL; the rule itself lives here, with unit tests
(tests/unit/test_job_outcome.py):

* transient error with attempts left: back to pending, not before a backoff delay;
* transient error on the last attempt: dead (a dead letter a person retries or cancels);
* auth/config error: back to pending at once without using the attempt (the backend is marked
  down and its jobs wait for it, so nothing is burnt while credentials are wrong);
* business or unexpected error: needs attention (a person fixes the cause, then retries);
* a runner that died holding the job (lease expired): the attempt counts; pending again, or
  dead when it was the last one, so that a job that kills its worker every time ends.
"""

from dataclasses import dataclass

from ..const import JOB_DEAD, JOB_NEEDS_ATTENTION, JOB_PENDING
from . import backoff
from .errors import AUTH, BUSINESS, TRANSIENT, UNEXPECTED

ERROR_CLASSES = (TRANSIENT, BUSINESS, AUTH, UNEXPECTED)


@dataclass(frozen=True)
class Outcome:
    """The job's next state after a failed attempt.

    ``attempts``: the attempt count to store (an auth error gives its attempt back);
    ``retry_in``: seconds until it may run again (None: keep its current due time);
    ``finished``: the job left the queue's automatic life (dead), so it gets a finish time;
    ``note``: appended to the error message for the person who reads it.
    """

    state: str
    attempts: int
    retry_in: float | None = None
    finished: bool = False
    note: str = ""


def after_failure(
    error_class: str,
    attempts: int,
    max_attempts: int,
    *,
    retry_after: float | None = None,
    base: float = 30.0,
    cap: float = 3600.0,
) -> Outcome:
    """The outcome of attempt number ``attempts`` (counted at claim time) failing."""
    if error_class not in ERROR_CLASSES:
        raise ValueError(f"unknown error class {error_class!r}: use one of {ERROR_CLASSES}")
    if error_class == TRANSIENT:
        if attempts < max_attempts:
            delay = backoff.next_delay(attempts, base=base, cap=cap, retry_after=retry_after)
            return Outcome(JOB_PENDING, attempts, retry_in=delay)
        return Outcome(
            JOB_DEAD, attempts, finished=True, note=f"(gave up after {attempts} attempts)"
        )
    if error_class == AUTH:
        return Outcome(JOB_PENDING, max(attempts - 1, 0), retry_in=0.0)
    return Outcome(JOB_NEEDS_ATTENTION, attempts)


def after_lease_expired(attempts: int, max_attempts: int) -> Outcome:
    """The outcome of a job whose runner stopped (killed, crashed) before finishing it."""
    if attempts >= max_attempts:
        return Outcome(JOB_DEAD, attempts, retry_in=0.0, finished=True, note="out of attempts.")
    return Outcome(JOB_PENDING, attempts, retry_in=0.0, note="queued again.")
