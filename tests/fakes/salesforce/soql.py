"""SOQL: a parser for the subset the connector uses, and value comparisons."""

import re
from datetime import date

from .errors import SalesforceError
from .schema import parse_ts

# SOQL parsing ------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>[+-]?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_KEYWORDS = {"SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "OFFSET", "AND", "OR", "NOT"}


def _soql_error(code, text, pos, message):
    """Salesforce points at the offending column of the query."""
    caret = " " * pos + "^"
    return SalesforceError(
        400, code, f"\n{text}\n{caret}\nERROR at Row:1:Column:{pos + 1}\n{message}"
    )


def _unescape(raw):
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match[1], match[1]), raw, flags=re.S)


def _like_regex(raw):
    """SOQL LIKE: ``%`` and ``_`` wildcards, backslash escapes, case-insensitive."""
    out, index = [], 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            out.append(re.escape(_ESCAPES.get(raw[index + 1], raw[index + 1])))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


class _Field:
    """A (possibly dotted) field path; binding resolves it to parent hops and a field name."""

    def __init__(self, text, pos):
        self.text, self.pos = text, pos
        self.hops = ()  # ((reference field, relationship name, parent object), ...)
        self.name = None


class _OrderItem:
    def __init__(self, field, descending, nulls_first):
        self.field, self.descending, self.nulls_first = field, descending, nulls_first


class _Query:
    def __init__(self, text):
        self.text = text
        self.items = []  # _Field or child _Query, in SELECT order
        self.count_only = False
        self.sobject = None  # name as written, canonical after binding
        self.sobject_pos = 0
        self.where = None
        self.order = []
        self.limit = None
        self.offset = 0
        self.relationship = None  # child subqueries: (relationship name, reference field)
        self.predicate = None  # compiled WHERE, set by binding
        self.sorters = []  # compiled ORDER BY, set by binding


class _Parser:
    """Recursive descent over the SOQL subset the connector uses."""

    def __init__(self, text):
        self.text = text
        self.tokens = []
        pos = 0
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if not match:
                raise _soql_error("MALFORMED_QUERY", text, pos, f"unexpected token: '{text[pos]}'")
            if match.lastgroup != "ws":
                self.tokens.append((match.lastgroup, match.group(), pos))
            pos = match.end()
        self.index = 0

    # Token helpers

    def error(self, message=None):
        token = self.peek()
        if token is None:
            return _soql_error("MALFORMED_QUERY", self.text, len(self.text), "unexpected end")
        return _soql_error(
            "MALFORMED_QUERY", self.text, token[2], message or f"unexpected token: '{token[1]}'"
        )

    def peek(self, ahead=0):
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            raise self.error()
        self.index += 1
        return token

    def at_keyword(self, *words, ahead=0):
        token = self.peek(ahead)
        return token is not None and token[0] == "name" and token[1].upper() in words

    def keyword(self, *words):
        if self.at_keyword(*words):
            return self.take()[1].upper()
        return None

    def expect_keyword(self, word):
        if not self.keyword(word):
            raise self.error()

    def punct(self, char):
        token = self.peek()
        if token is not None and token[0] == "punct" and token[1] == char:
            self.index += 1
            return True
        return False

    def expect_punct(self, char):
        if not self.punct(char):
            raise self.error()

    def field(self):
        token = self.take()
        if token[0] != "name" or token[1].upper() in _KEYWORDS:
            self.index -= 1
            raise self.error()
        return _Field(token[1], token[2])

    # Grammar

    def parse(self):
        query = self.query()
        if self.peek() is not None:
            raise self.error()
        return query

    def query(self):
        query = _Query(self.text)
        self.expect_keyword("SELECT")
        following = self.peek(1)
        if self.at_keyword("COUNT") and following is not None and following[1] == "(":
            self.index += 2
            self.expect_punct(")")
            query.count_only = True
        else:
            query.items.append(self.select_item())
            while self.punct(","):
                query.items.append(self.select_item())
        self.expect_keyword("FROM")
        source = self.field()
        query.sobject, query.sobject_pos = source.text, source.pos
        if self.keyword("WHERE"):
            query.where = self.condition()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            query.order.append(self.order_item())
            while self.punct(","):
                query.order.append(self.order_item())
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        return query

    def select_item(self):
        if self.punct("("):
            subquery = self.query()
            self.expect_punct(")")
            return subquery
        return self.field()

    def order_item(self):
        field = self.field()
        descending = self.keyword("ASC", "DESC") == "DESC"
        nulls_first = not descending
        if self.keyword("NULLS"):
            which = self.keyword("FIRST", "LAST")
            if which is None:
                raise self.error()
            nulls_first = which == "FIRST"
        return _OrderItem(field, descending, nulls_first)

    def integer(self):
        token = self.take()
        if token[0] != "number" or not token[1].isdigit():
            self.index -= 1
            raise self.error()
        return int(token[1])

    def condition(self):
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self):
        parts = [self.negation()]
        while self.keyword("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def negation(self):
        if self.keyword("NOT"):
            return ("not", self.negation())
        if self.punct("("):
            condition = self.condition()
            self.expect_punct(")")
            return condition
        return self.comparison()

    def comparison(self):
        field = self.field()
        if self.keyword("LIKE"):
            literal = self.literal()
            if literal[0] != "str":
                raise self.error("LIKE needs a quoted string")
            return ("like", field, _like_regex(literal[2]))
        negate = self.keyword("NOT") is not None
        if self.keyword("IN"):
            self.expect_punct("(")
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            self.expect_punct(")")
            return ("in", field, negate, values)
        if negate:
            raise self.error()
        token = self.take()
        if token[0] != "op":
            self.index -= 1
            raise self.error()
        operator = "!=" if token[1] == "<>" else token[1]
        return ("cmp", field, operator, self.literal())

    def literal(self):
        """A typed literal: (kind, value, raw text)."""
        kind, text, _pos = self.take()
        if kind == "string":
            raw = text[1:-1]
            return ("str", _unescape(raw), raw)
        if kind == "number":
            return ("num", float(text), text)
        if kind in ("datetime", "date"):
            try:
                value = parse_ts(text) if kind == "datetime" else date.fromisoformat(text)
                return (kind, value, text)
            except ValueError:
                pass
        elif kind == "name" and text.upper() in ("TRUE", "FALSE"):
            return ("bool", text.upper() == "TRUE", text)
        elif kind == "name" and text.upper() == "NULL":
            return ("null", None, text)
        self.index -= 1
        raise self.error()


# SOQL evaluation helpers -------------------------------------------------------------------------


def _coerce_for(kind, value):
    """Turn a stored value into the literal's type, so that comparisons are real comparisons."""
    if kind == "str":
        return str(value).lower()
    if kind == "num":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "datetime":
        return parse_ts(value) if isinstance(value, str) else value
    if kind == "date":
        return date.fromisoformat(value[:10]) if isinstance(value, str) else value
    raise ValueError(kind)


def _literal_value(literal):
    kind, value, _raw = literal
    return value.lower() if kind == "str" else value


def _matches(value, operator, literal):
    kind = literal[0]
    if kind == "null":
        return (value is None) == (operator == "=") if operator in ("=", "!=") else False
    if value is None:
        return operator == "!="
    try:
        left = _coerce_for(kind, value)
    except (TypeError, ValueError):
        return operator == "!="
    right = _literal_value(literal)
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    try:
        if operator == "<":
            return left < right
        if operator == "<=":
            return left <= right
        if operator == ">":
            return left > right
        return left >= right
    except TypeError:
        return False


def _sort_key(value, null_rank):
    if value is None:
        return (null_rank, 0)
    return (1, value.lower() if isinstance(value, str) else value)
