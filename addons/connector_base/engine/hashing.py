"""The one payload hash of the suite: bindings store it, echo detection compares it.

Every connector computes the hash of what it synced with ``payload_hash`` (after leaving out
the keys it does not want to compare), so that "same hash" means the same thing everywhere.
"""

import hashlib
import json


def payload_hash(payload) -> str:
    """Stable hash of a JSON-like payload: same content, same hash, whatever the key order."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
