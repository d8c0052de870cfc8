"""Reading a webhook body as JSON without letting its shape take the server down.

``json.loads`` and every later walk over the data (redaction, serialisation) recurse once per
nesting level: a body nested thousands of levels deep exhausts Python's stack (RecursionError,
an HTTP 500, a sender retrying forever). The depth is measured first, without recursion, and a
body deeper than the limit is refused as unreadable (the webhook intake stores such a body for
review, like any unparseable one).
"""

import json
import re

# Strings (skipped whole, escapes included) and brackets: the only tokens that matter for depth.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """The body nests arrays/objects deeper than allowed."""


def json_depth(data: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def loads_bounded(body: bytes, max_depth: int = 64):
    """Parse a UTF-8 JSON body; ValueError (TooDeep, JSONDecodeError, UnicodeDecodeError) when
    it is not readable JSON or nests deeper than ``max_depth``."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    depth = json_depth(body)
    if depth > max_depth:
        raise TooDeep(f"the JSON nests {depth} levels deep (at most {max_depth} are read)")
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:  # defensive: the depth check above makes this unreachable
        raise TooDeep(f"the JSON nests too deep (at most {max_depth} levels are read)") from None
