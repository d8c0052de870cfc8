"""Idempotency and record keys from remote data are always storable (engine/keys.py)."""

import pytest

from connector_base.engine.keys import DIGEST_MARK, storable_key


def test_ordinary_keys_are_kept():
    assert storable_key("event:evt-1") == "event:evt-1"
    assert storable_key("deal:006A:2026-01-01T10:00:00Z") == "deal:006A:2026-01-01T10:00:00Z"
    assert storable_key(None) is None
    assert storable_key(42) == "42"


@pytest.mark.parametrize(
    "key",
    [
        "event:" + "x" * 5000,  # several KB: would overflow a B-tree index entry
        "event:a\x00b",  # PostgreSQL text cannot hold NUL
        "event:\ud800",  # an unpaired surrogate is not UTF-8
        "event:\x07bell",
    ],
)
def test_unstorable_keys_become_a_stable_digest(key):
    stored = storable_key(key, 200)
    assert len(stored) <= 200, "fits the limit"
    assert DIGEST_MARK in stored
    assert "\x00" not in stored and "\ud800" not in stored
    stored.encode("utf-8")  # storable
    assert storable_key(key, 200) == stored, "deterministic: redelivery is deduplicated"


def test_different_long_keys_stay_different():
    first = storable_key("event:" + "a" * 300 + "1")
    second = storable_key("event:" + "a" * 300 + "2")
    assert first != second, "the digest covers the whole key, not the kept prefix"
    assert first.startswith("event:aaa"), "a readable prefix is kept"
