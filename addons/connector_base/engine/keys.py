"""Idempotency and record keys as the database can store and index them.

Keys come from remote data (event ids, record ids): a sender may put kilobytes, NUL characters or
unpaired surrogates in them. PostgreSQL refuses NUL and invalid UTF-8 in text, and a B-tree entry
larger than about 2.7 kB fails the insert; either would make every delivery of that event fail
(the sender retries forever). A key that is too long or not storable is replaced by a readable
prefix and the SHA-256 of the whole key: deterministic, so deduplication and per-record order
still work, and different keys stay different.
"""

import hashlib
import re

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
DIGEST_MARK = "#sha256:"


def storable_key(key, max_length: int = 200):
    """Return ``key`` unchanged when it is short and storable, else its digest form."""
    if key is None:
        return None
    if not isinstance(key, str):
        key = str(key)
    if len(key) <= max_length and not _UNSTORABLE.search(key):
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    keep = max(max_length - len(DIGEST_MARK) - len(digest), 0)
    prefix = _UNSTORABLE.sub("?", key[:keep])
    return f"{prefix}{DIGEST_MARK}{digest}"
