"""A failed job's next state (engine/job_outcome.py): the queue's decision, without a database."""

import pytest

from connector_base.const import JOB_DEAD, JOB_NEEDS_ATTENTION, JOB_PENDING
from connector_base.engine import job_outcome
from connector_base.engine.errors import AUTH, BUSINESS, TRANSIENT, UNEXPECTED


class TopOfRange:
    def uniform(self, low, high):
        return high


@pytest.fixture
def top_of_jitter(monkeypatch):
    """Draw the backoff jitter at its maximum, so that delays are exact."""
    monkeypatch.setattr("random.uniform", TopOfRange().uniform)


def test_transient_with_attempts_left_is_retried_after_a_growing_delay(top_of_jitter):
    delays = []
    for attempt in (1, 2, 3):
        outcome = job_outcome.after_failure(TRANSIENT, attempt, 4, base=10, cap=600)
        assert outcome.state == JOB_PENDING, f"attempt {attempt} of 4 must be retried"
        assert outcome.attempts == attempt, "the attempt counted at claim time stays counted"
        assert not outcome.finished
        delays.append(outcome.retry_in)
    assert delays == [10, 20, 40], f"base x 2^(attempt-1) at the top of the jitter: {delays}"


def test_transient_on_the_last_attempt_is_dead_and_says_so():
    outcome = job_outcome.after_failure(TRANSIENT, 4, 4, base=10, cap=600)
    assert outcome.state == JOB_DEAD
    assert outcome.finished, "a dead job gets a finish time (retention counts from it)"
    assert outcome.retry_in is None, "a dead job keeps its due time"
    assert outcome.note == "(gave up after 4 attempts)"


def test_retry_after_is_a_floor():
    outcome = job_outcome.after_failure(TRANSIENT, 1, 8, retry_after=900, base=10, cap=600)
    assert outcome.retry_in >= 900, "never before the remote system's Retry-After"


def test_auth_error_gives_the_attempt_back_and_waits_for_the_backend():
    outcome = job_outcome.after_failure(AUTH, 3, 8)
    assert (outcome.state, outcome.attempts, outcome.retry_in) == (JOB_PENDING, 2, 0.0)
    assert job_outcome.after_failure(AUTH, 0, 8).attempts == 0, "never below zero"


@pytest.mark.parametrize("error_class", [BUSINESS, UNEXPECTED])
def test_business_and_unexpected_errors_need_a_person(error_class):
    outcome = job_outcome.after_failure(error_class, 1, 8)
    assert outcome.state == JOB_NEEDS_ATTENTION
    assert outcome.retry_in is None and not outcome.finished, "no automatic retry"
    assert outcome.attempts == 1


def test_an_unknown_error_class_is_refused():
    with pytest.raises(ValueError, match="unknown error class"):
        job_outcome.after_failure("flaky", 1, 8)


def test_lease_expiry_counts_the_attempt():
    again = job_outcome.after_lease_expired(2, 5)
    assert (again.state, again.attempts, again.finished) == (JOB_PENDING, 2, False)
    assert again.note == "queued again."
    last = job_outcome.after_lease_expired(5, 5)
    assert (last.state, last.finished) == (JOB_DEAD, True), (
        "a job that kills its runner every time ends dead instead of looping"
    )
