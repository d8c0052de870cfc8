"""A fake Salesforce org (REST API v60.0-v62.0) for connector tests and demos.

It is built on :class:`FakeHttpServer`, so the generic failure switches (``fail_next``,
``fail_rate``, ``delay_next``, ``malformed_next``) work here as well. The fake implements the
parts the Salesforce connector relies on, with Salesforce's own status codes and error bodies:

* the OAuth token endpoint (JWT bearer, client credentials, refresh token, authorization code)
  and the authorize redirect. ``instance_url`` in every token answer points back at the fake;
* SOQL ``query``/``queryAll`` through a small parser (relationship fields, child subqueries,
  WHERE/ORDER BY/LIMIT/OFFSET), paged with ``nextRecordsUrl``;
* sObject read/create/update/upsert/delete, sObject collections and composite requests;
* the ``deleted``/``updated`` replication endpoints, ``limits`` and the ``Sforce-Limit-Info``
  header;
* switches for expired sessions (401 ``INVALID_SESSION_ID``) and the daily API limit (403)::

    with FakeSalesforce() as sf:
        ids = sf.seed_demo()
        private_pem, public_pem = FakeSalesforce.generate_key_pair()
        sf.trust_public_key(public_pem)
        ... point the connector at sf.url with sf.client_id and sf.username ...

Records are plain dicts keyed by canonical field names. The Python helpers (``add_*``,
``update``, ``delete``) change data "inside Salesforce" and are not logged in ``writes``: only
writes that arrive through the API are, so tests can tell what the connector wrote.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.http_fake import FakeHttpServer

# Schema ------------------------------------------------------------------------------------------

_SYSTEM_FIELDS = (
    "Id IsDeleted CreatedDate CreatedById LastModifiedDate LastModifiedById SystemModstamp"
)
_STANDARD_FIELDS = {
    "Account": "Name AccountNumber Type Industry ParentId OwnerId Phone Fax Website Description "
    "NumberOfEmployees AnnualRevenue BillingStreet BillingCity BillingState BillingPostalCode "
    "BillingCountry ShippingStreet ShippingCity ShippingState ShippingPostalCode ShippingCountry",
    "Contact": "AccountId Salutation FirstName LastName Name Email Phone MobilePhone Title "
    "Department MailingStreet MailingCity MailingState MailingPostalCode MailingCountry OwnerId",
    "Product2": "Name ProductCode Description Family IsActive QuantityUnitOfMeasure "
    "StockKeepingUnit",
    "Pricebook2": "Name IsActive IsStandard Description",
    "PricebookEntry": "Name Pricebook2Id Product2Id ProductCode UnitPrice IsActive "
    "UseStandardPrice",
    "Opportunity": "AccountId Name Description StageName Amount Probability CloseDate Type "
    "NextStep LeadSource IsClosed IsWon ForecastCategory ForecastCategoryName OwnerId "
    "Pricebook2Id HasOpportunityLineItem FiscalYear FiscalQuarter",
    "OpportunityLineItem": "OpportunityId PricebookEntryId Product2Id ProductCode Name Quantity "
    "UnitPrice ListPrice TotalPrice Subtotal Discount ServiceDate Description SortOrder",
    "OpportunityContactRole": "OpportunityId ContactId IsPrimary Role",
    "User": "Username Name FirstName LastName Email Alias IsActive",
    "OpportunityStage": "ApiName MasterLabel IsActive IsClosed IsWon DefaultProbability "
    "ForecastCategory ForecastCategoryName SortOrder Description",
}
# Custom fields every fake org has (the demo data uses them); add_field() declares more.
_CUSTOM_FIELDS = {
    "Account": "Odoo_Id__c",
    "Contact": "Odoo_Id__c",
    "Product2": "Odoo_Id__c",
    "Opportunity": "Legal_Entity__c Billing_Model__c Project_Template__c Tax_Treatment__c "
    "PO_Number__c Cap_Amount__c Odoo_Id__c",
    "OpportunityLineItem": "Billing_Model__c Odoo_Id__c",
}
_ID_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "OpportunityContactRole": "00K",
    "OpportunityStage": "01J",
    "Pricebook2": "01s",
    "Product2": "01t",
    "PricebookEntry": "01u",
}
_OBJECT_BY_PREFIX = {prefix: name for name, prefix in _ID_PREFIXES.items()}
# Parent relationships: relationship name -> (reference field, parent object).
_PARENTS = {
    "Account": {"Parent": ("ParentId", "Account"), "Owner": ("OwnerId", "User")},
    "Contact": {"Account": ("AccountId", "Account"), "Owner": ("OwnerId", "User")},
    "PricebookEntry": {
        "Pricebook2": ("Pricebook2Id", "Pricebook2"),
        "Product2": ("Product2Id", "Product2"),
    },
    "Opportunity": {
        "Account": ("AccountId", "Account"),
        "Owner": ("OwnerId", "User"),
        "Pricebook2": ("Pricebook2Id", "Pricebook2"),
    },
    "OpportunityLineItem": {
        "Opportunity": ("OpportunityId", "Opportunity"),
        "Product2": ("Product2Id", "Product2"),
        "PricebookEntry": ("PricebookEntryId", "PricebookEntry"),
    },
    "OpportunityContactRole": {
        "Opportunity": ("OpportunityId", "Opportunity"),
        "Contact": ("ContactId", "Contact"),
    },
}
for _relations in _PARENTS.values():
    _relations.update(
        CreatedBy=("CreatedById", "User"), LastModifiedBy=("LastModifiedById", "User")
    )
# Child relationships (subqueries), also the cascade of a delete: name -> (child, reference).
_CHILDREN = {
    "Account": {
        "Contacts": ("Contact", "AccountId"),
        "Opportunities": ("Opportunity", "AccountId"),
    },
    "Contact": {"OpportunityContactRoles": ("OpportunityContactRole", "ContactId")},
    "Product2": {"PricebookEntries": ("PricebookEntry", "Product2Id")},
    "Opportunity": {
        "OpportunityLineItems": ("OpportunityLineItem", "OpportunityId"),
        "OpportunityContactRoles": ("OpportunityContactRole", "OpportunityId"),
    },
}
_READ_ONLY = set(_SYSTEM_FIELDS.split()) | {
    "Contact.Name",
    "PricebookEntry.Name",
    "PricebookEntry.ProductCode",
    "Opportunity.IsClosed",
    "Opportunity.IsWon",
    "Opportunity.ForecastCategory",
    "Opportunity.HasOpportunityLineItem",
    "Opportunity.FiscalYear",
    "Opportunity.FiscalQuarter",
    "OpportunityLineItem.Name",
    "OpportunityLineItem.ProductCode",
    "OpportunityLineItem.ListPrice",
    "OpportunityLineItem.Subtotal",
    "OpportunityLineItem.TotalPrice",
}
_NOT_WRITABLE_OBJECTS = {"User", "OpportunityStage"}
_REQUIRED = {
    "Account": ("Name",),
    "Contact": ("LastName",),
    "Product2": ("Name",),
    "Pricebook2": ("Name",),
    "PricebookEntry": ("Pricebook2Id", "Product2Id", "UnitPrice"),
    "Opportunity": ("Name", "StageName", "CloseDate"),
    "OpportunityLineItem": ("OpportunityId", "Quantity", "UnitPrice"),
    "OpportunityContactRole": ("OpportunityId", "ContactId"),
}
_FIELD_TYPES = {
    **dict.fromkeys(("Amount", "UnitPrice", "ListPrice", "TotalPrice", "Subtotal"), "currency"),
    **dict.fromkeys(("AnnualRevenue", "Cap_Amount__c"), "currency"),
    **dict.fromkeys(("Probability", "Discount", "DefaultProbability"), "percent"),
    "Quantity": "double",
    **dict.fromkeys(("NumberOfEmployees", "SortOrder", "FiscalYear", "FiscalQuarter"), "int"),
    **dict.fromkeys(("CloseDate", "ServiceDate"), "date"),
    **dict.fromkeys(("CreatedDate", "LastModifiedDate", "SystemModstamp"), "datetime"),
    "UseStandardPrice": "boolean",
}

DEFAULT_STAGES = (
    # ApiName, IsClosed, IsWon, DefaultProbability, ForecastCategoryName, ForecastCategory
    ("Prospecting", False, False, 10.0, "Pipeline", "Pipeline"),
    ("Qualification", False, False, 20.0, "Pipeline", "Pipeline"),
    ("Proposal", False, False, 75.0, "Best Case", "BestCase"),
    ("Negotiation", False, False, 90.0, "Commit", "Forecast"),
    ("Closed Won", True, True, 100.0, "Closed", "Closed"),
    ("Closed Lost", True, False, 0.0, "Omitted", "Omitted"),
)
# Consultancy catalogue shared by seed_demo and seed_bulk: code, name, list price, unit.
_DEMO_PRODUCTS = (
    ("IMPL", "Implementation", 45000.0, "Each"),
    ("CONS-H", "Consulting hours", 150.0, "Hour"),
    ("SUP-RET", "Support retainer", 2500.0, "Month"),
    ("TRAIN", "Training day", 1200.0, "Day"),
)
_SETUP_STAMP = "2020-01-01T00:00:00.000+0000"
_VERSIONS = (("60.0", "Spring '24"), ("61.0", "Summer '24"), ("62.0", "Winter '25"))

_API_PATH = re.compile(r"/services/data/v(\d+\.0)(/.*)?")
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GRANTS = {
    _JWT_GRANT: "jwt",
    "client_credentials": "client_credentials",
    "refresh_token": "refresh_token",
    "authorization_code": "authorization_code",
}
_LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")
_JWT_MAX_LIFETIME = 180  # seconds, "within 3 minutes"
_JWT_SKEW = 10
_COLLECTION_LIMIT = 200
_COMPOSITE_LIMIT = 25
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}
_HALTED = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]


def _field_type(name):
    if name in _FIELD_TYPES:
        return _FIELD_TYPES[name]
    if name == "Id":
        return "id"
    if name.endswith("Id"):
        return "reference"
    if name.startswith(("Is", "Has")):
        return "boolean"
    return "string"


# Errors ------------------------------------------------------------------------------------------


class SalesforceError(Exception):
    """A Salesforce API error; answered as ``[{"message", "errorCode", "fields"}]``."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def body(self):
        error = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]

    def collection_error(self):
        """The shape of one record's error inside an sObject collection answer."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


class _OAuthError(Exception):
    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description


def _not_found():
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


# Time --------------------------------------------------------------------------------------------


def format_ts(moment: datetime) -> str:
    """Salesforce's timestamp format: ``2026-11-02T10:00:00.000+0000`` (UTC, milliseconds)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@lru_cache(maxsize=65536)
def parse_ts(text: str) -> datetime:
    """Parse Salesforce and ISO timestamps (``Z``, ``+0000``, ``+00:00``); a date is midnight UTC."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _id_suffix(base15):
    """The 3-character checksum that turns a 15-character Salesforce Id into 18 characters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        part = base15[chunk * 5 : chunk * 5 + 5]
        bits = sum(1 << index for index, char in enumerate(part) if "A" <= char <= "Z")
        suffix += alphabet[bits]
    return suffix


def _resolve_references(value, outputs):
    """Composite ``@{refId.path}`` references, e.g. ``@{newAccount.id}``."""
    if isinstance(value, dict):
        return {key: _resolve_references(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_references(item, outputs) for item in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def lookup(match):
        steps = re.findall(r"[^.\[\]]+|\[\d+\]", match[1])
        current = outputs
        try:
            for step in steps:
                current = current[int(step[1:-1])] if step.startswith("[") else current[step]
        except (KeyError, IndexError, TypeError, ValueError):
            return match[0]
        return str(current)

    return re.sub(r"@\{([^}]+)\}", lookup, value)


def _terms(entity, model, template="Standard Implementation", tax="Domestic", **extra):
    """The custom fields of a demo deal."""
    return {
        "Legal_Entity__c": entity,
        "Billing_Model__c": model,
        "Project_Template__c": template,
        "Tax_Treatment__c": tax,
        **extra,
    }


def _demo_line(ids, code, quantity, price, model, discount=None):
    line = {"product_id": ids[code], "quantity": quantity, "unit_price": price}
    line["Billing_Model__c"] = model
    if discount is not None:
        line["discount"] = discount
    return line


# The fake ----------------------------------------------------------------------------------------


class FakeSalesforce:
    """An in-memory Salesforce org behind the REST API, on 127.0.0.1.

    ``url`` is at once the login host, the ``instance_url`` and the identity host. Every
    ``/services/data/vNN.0/...`` call needs a Bearer token from the token endpoint (or
    ``issue_access_token()``), counts in ``api_usage`` and answers ``Sforce-Limit-Info``.
    """

    def __init__(
        self,
        *,
        api_version="62.0",
        client_id="fake-client-id",
        client_secret="fake-client-secret",
        username="integration@example.com",
        org_id="00Dfake000000001",
        user_id="005fake000000001",
        page_size=2000,
        port=0,
    ):
        self.api_version = api_version
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.org_id = org_id
        self.user_id = user_id
        self.page_size = page_size
        self.server = FakeHttpServer(port=port)

        # Auth and limits
        self.enabled_flows = {"jwt", "client_credentials", "refresh_token", "authorization_code"}
        self.token_requests = 0
        self.api_usage = 0
        self.api_limit = 100000
        self._trusted_keys = []
        self._access_tokens = set()
        self._refresh_tokens = set()
        self._codes = {}  # authorization code -> redirect_uri
        self._expire_countdown = None
        self._limit_exceeded = 0

        # Behaviour switches
        self.upsert_204 = False  # API versions before 46.0 answered an upsert update with 204
        self.reject_fields = set()
        self.earliest_deleted_available = None
        self.clock = lambda: datetime.now(UTC)  # stamps of writes; tests may replace it

        # Data
        self.writes = []  # (method, sobject, id, fields) of every write through the API
        self._lock = threading.RLock()
        self._counter = 0
        self._last_stamp = None
        self._live = {name: {} for name in _ID_PREFIXES}
        self._deleted = {name: {} for name in _ID_PREFIXES}
        self._deleted_log = []  # (sobject, id, deletedDate as datetime)
        self._fields = {}  # sobject -> {lowercase name: canonical name}
        self._custom_types = {}  # (sobject, field) -> type declared through add_field
        for sobject in _ID_PREFIXES:
            names = _SYSTEM_FIELDS.split()
            names += _STANDARD_FIELDS[sobject].split() + _CUSTOM_FIELDS.get(sobject, "").split()
            self._fields[sobject] = {name.lower(): name for name in names}
        self._index = {}  # (child, reference field) -> {parent id: {child id: None}}
        for relations in _CHILDREN.values():
            for child, reference in relations.values():
                self._index[(child, reference)] = {}
        self._journal = None  # undo steps while an all-or-none request runs
        self._cursors = {}
        self._cursor_counter = 0

        self.stages = [
            {
                "Id": self._new_id("OpportunityStage"),
                "ApiName": name,
                "MasterLabel": name,
                "IsActive": True,
                "IsClosed": closed,
                "IsWon": won,
                "DefaultProbability": probability,
                "ForecastCategoryName": forecast_name,
                "ForecastCategory": forecast,
                "SortOrder": position,
            }
            for position, (name, closed, won, probability, forecast_name, forecast) in enumerate(
                DEFAULT_STAGES, start=1
            )
        ]
        # The org's own setup records predate everything, so that a test may set ``clock`` to
        # any moment before its first write.
        stamp = _SETUP_STAMP
        self._raw_set(
            "User",
            {
                "Id": user_id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                "Username": username,
                "Name": "Integration User",
                "FirstName": "Integration",
                "LastName": "User",
                "Email": username,
                "Alias": "integ",
                "IsActive": True,
            },
        )
        self.standard_pricebook_id = self._new_id("Pricebook2")
        self._raw_set(
            "Pricebook2",
            {
                "Id": self.standard_pricebook_id,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
                "Name": "Standard Price Book",
                "IsActive": True,
                "IsStandard": True,
            },
        )
        self._register_routes()

    # Lifecycle -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the fake: login host, ``instance_url`` and identity host at once."""
        return self.server.url

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _register_routes(self):
        route = self.server.route
        route("POST", "/services/oauth2/token", self._handle_token)
        route("GET", "/services/oauth2/authorize", self._handle_authorize)
        route("GET", re.compile(r"/id/([^/]+)/([^/]+)"), self._handle_identity)
        route("GET", re.compile(r"/services/data/?"), self._handle_versions)
        route("*", _API_PATH, self._handle_api)

    # Auth configuration --------------------------------------------------------------------------

    @staticmethod
    def generate_key_pair() -> tuple[bytes, bytes]:
        """A fresh RSA 2048 key pair ``(private PKCS8 PEM, public PEM)`` for JWT tests."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return private_pem, public_pem

    @staticmethod
    def sign_jwt(private_pem: bytes, claims: dict) -> str:
        """A compact RS256 JWT, for tests that need an assertion without a client."""
        key = serialization.load_pem_private_key(private_pem, password=None)
        header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims).encode())
        signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{payload}.{_b64url(signature)}"

    def trust_public_key(self, public_pem: bytes) -> None:
        """Accept JWT assertions signed by this key (a public key or X.509 certificate PEM)."""
        if b"BEGIN CERTIFICATE" in public_pem:
            key = x509.load_pem_x509_certificate(public_pem).public_key()
        else:
            key = serialization.load_pem_public_key(public_pem)
        self._trusted_keys.append(key)

    def issue_refresh_token(self) -> str:
        """A valid refresh token, as if a user had gone through the authorization-code flow."""
        token = f"5Aep{secrets.token_urlsafe(40)}"
        with self._lock:
            self._refresh_tokens.add(token)
        return token

    def issue_access_token(self) -> str:
        """A valid access token without a token request (for tests of the data endpoints)."""
        token = f"{self.org_id}!AQ{secrets.token_urlsafe(48)}"
        with self._lock:
            self._access_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens stay valid)."""
        with self._lock:
            self._access_tokens.clear()

    def expire_session_after(self, n_calls: int) -> None:
        """Let ``n_calls`` more API calls pass, then expire the current tokens once."""
        with self._lock:
            self._expire_countdown = n_calls

    def limit_exceeded_next(self, n: int) -> None:
        """Answer the next ``n`` API calls with 403 ``REQUEST_LIMIT_EXCEEDED``."""
        with self._lock:
            self._limit_exceeded += n

    # OAuth endpoints -----------------------------------------------------------------------------

    def _handle_token(self, request):
        params = dict(request.query)
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({name: values[-1] for name, values in form.items()})
        with self._lock:
            self.token_requests += 1
            try:
                flow = _GRANTS.get(params.get("grant_type", ""))
                if flow is None or flow not in self.enabled_flows:
                    raise _OAuthError("unsupported_grant_type", "grant type not supported")
                body = getattr(self, f"_grant_{flow}")(params, request.headers)
            except _OAuthError as error:
                return 400, {}, {"error": error.error, "error_description": error.description}
        return 200, {"Cache-Control": "no-store"}, body

    def _client_auth(self, params, headers):
        """Client id and secret from the form, or from HTTP Basic authentication."""
        client_id, secret = params.get("client_id"), params.get("client_secret")
        authorization = headers.get("Authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except ValueError:
                decoded = ":"
            client_id, _sep, secret = decoded.partition(":")
        return client_id, secret

    def _grant_jwt(self, params, headers):
        try:
            header_part, claims_part, signature_part = params.get("assertion", "").split(".")
            header = json.loads(_b64url_decode(header_part))
            claims = json.loads(_b64url_decode(claims_part))
            signature = _b64url_decode(signature_part)
        except ValueError as error:
            raise _OAuthError("invalid_grant", "invalid assertion") from error
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _OAuthError("invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            raise _OAuthError("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        signed = f"{header_part}.{claims_part}".encode()
        if not any(self._verifies(key, signature, signed) for key in self._trusted_keys):
            raise _OAuthError("invalid_grant", "invalid assertion")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        allowed = {self.url, *_LOGIN_HOSTS}
        if not any(isinstance(aud, str) and aud.rstrip("/") in allowed for aud in audiences):
            raise _OAuthError("invalid_grant", "audience is invalid")
        if (claims.get("prn") or claims.get("sub")) != self.username:
            raise _OAuthError("invalid_grant", "user hasn't approved this consumer")
        expires, now = claims.get("exp"), time.time()
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise _OAuthError("invalid_grant", "invalid assertion")
        # Salesforce reports an exp in milliseconds (far "future") as an expired code too.
        if not now <= expires <= now + _JWT_MAX_LIFETIME + _JWT_SKEW:
            raise _OAuthError("invalid_grant", "expired authorization code")
        return self._token_response()

    @staticmethod
    def _verifies(key, signature, signed):
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def _grant_client_credentials(self, params, headers):
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id or secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        return self._token_response()

    def _grant_refresh_token(self, params, headers):
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret and secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        if params.get("refresh_token") not in self._refresh_tokens:
            raise _OAuthError("invalid_grant", "expired access/refresh token")
        return self._token_response()

    def _grant_authorization_code(self, params, headers):
        redirect_uri = self._codes.pop(params.get("code"), None)  # single use, even on failure
        client_id, secret = self._client_auth(params, headers)
        if client_id != self.client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret != self.client_secret:
            raise _OAuthError(
                "invalid_client", "authentication failure - invalid client credentials"
            )
        if redirect_uri is None:
            raise _OAuthError("invalid_grant", "expired authorization code")
        if params.get("redirect_uri") != redirect_uri:
            raise _OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        return self._token_response(refresh_token=self.issue_refresh_token())

    def _token_response(self, refresh_token=None):
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{self.org_id}/{self.user_id}"
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        body = {
            "access_token": self.issue_access_token(),
            "instance_url": self.url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "refresh_token api" if refresh_token else "api",
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        return body

    def _handle_authorize(self, request):
        """Auto-approve: redirect straight back with a single-use code and the caller's state."""
        query = request.query
        page = {"Content-Type": "text/html; charset=utf-8"}
        if query.get("client_id") != self.client_id:
            return 400, page, "<html><body>error=invalid_client_id: client identifier invalid"
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            return 400, page, "<html><body>error=redirect_uri_mismatch"
        separator = "&" if "?" in redirect_uri else "?"
        if query.get("response_type") != "code":
            params = {"error": "unsupported_response_type", "error_description": "response type"}
        else:
            params = {"code": f"aPrx{secrets.token_urlsafe(32)}"}
            with self._lock:
                self._codes[params["code"]] = redirect_uri
        if "state" in query:
            params["state"] = query["state"]
        return 302, {"Location": redirect_uri + separator + urlencode(params)}, ""

    def _handle_identity(self, request):
        if not self._token_valid(request.headers):
            return 403, {}, "Bad_OAuth_Token"
        org_id, user_id = request.match[1], request.match[2]
        if (org_id, user_id) != (self.org_id, self.user_id):
            return 404, {}, "Bad_Id"
        return (
            200,
            {},
            {
                "id": f"{self.url}/id/{org_id}/{user_id}",
                "asserted_user": True,
                "user_id": user_id,
                "organization_id": org_id,
                "username": self.username,
                "nick_name": "integration",
                "display_name": "Integration User",
                "email": self.username,
                "active": True,
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": 0,
                "urls": {"rest": f"{self.url}/services/data/v{{version}}/"},
            },
        )

    def _token_valid(self, headers):
        scheme, _sep, token = headers.get("Authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "oauth") and token.strip() in self._access_tokens

    # REST entry points ---------------------------------------------------------------------------

    def _handle_versions(self, request):
        """The versions list needs no session and does not count against the API limit."""
        versions = dict(_VERSIONS)
        versions.setdefault(self.api_version, f"v{self.api_version}")
        return (
            200,
            {},
            [
                {"label": label, "url": f"/services/data/v{version}", "version": version}
                for version, label in sorted(versions.items(), key=lambda item: float(item[0]))
            ],
        )

    def _handle_api(self, request):
        version, path = request.match[1], request.match[2] or ""
        with self._lock:
            status, headers, body = self._gate(request)
            if status is None:
                status, headers, body = self._dispatch_safe(
                    request.method, version, path, request.query, request.body, request.headers
                )
            headers = {
                **headers,
                "Sforce-Limit-Info": f"api-usage={self.api_usage}/{self.api_limit}",
            }
        return status, headers, body

    def _gate(self, request):
        """Session and limit checks of every API call; counts the calls that pass."""
        if self._expire_countdown is not None:
            if self._expire_countdown <= 0:
                self._expire_countdown = None
                self._access_tokens.clear()
            else:
                self._expire_countdown -= 1
        if not self._token_valid(request.headers):
            error = SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return 401, {}, error.body()
        if self._limit_exceeded or self.api_usage >= self.api_limit:
            self._limit_exceeded = max(0, self._limit_exceeded - 1)
            error = SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return 403, {}, error.body()
        self.api_usage += 1
        return None, {}, None

    def _dispatch_safe(self, method, version, path, query, raw_body, headers=None):
        try:
            return self._dispatch(method, version, path, query, raw_body, headers or {})
        except SalesforceError as error:
            return error.status, {}, error.body()

    def _dispatch(self, method, version, path, query, raw_body, headers):
        parts = [unquote(part) for part in path.split("/") if part]
        if not parts:
            self._allow(method, "GET")
            base = f"/services/data/v{version}"
            names = ("sobjects", "query", "queryAll", "limits", "composite")
            return 200, {}, {name: f"{base}/{name}" for name in names}
        head, count = parts[0], len(parts)
        if head == "limits" and count == 1:
            self._allow(method, "GET")
            return 200, {}, self._limits()
        if head in ("query", "queryAll"):
            self._allow(method, "GET")
            if count == 1:
                options = headers.get("Sforce-Query-Options", "")
                body = self._query(query, options, version, include_deleted=head == "queryAll")
                return 200, {}, body
            if count == 2:
                return 200, {}, self._next_page(parts[1], version)
        if head == "sobjects":
            return self._dispatch_sobjects(method, version, parts[1:], query, raw_body)
        if head == "composite":
            if count == 1:
                self._allow(method, "POST")
                return 200, {}, self._composite(self._json(raw_body), version)
            if parts[1] == "sobjects" and count in (2, 4):
                sobject, field = (parts[2], parts[3]) if count == 4 else (None, None)
                return 200, {}, self._collection(method, sobject, field, raw_body, query)
        raise _not_found()

    def _dispatch_sobjects(self, method, version, parts, query, raw_body):
        if not parts:
            self._allow(method, "GET")
            return 200, {}, self._describe_global(version)
        sobject = self._sobject(parts[0])
        if sobject is None:
            raise _not_found()
        if len(parts) == 1:
            self._allow(method, "GET", "POST")
            if method == "GET":
                return 200, {}, {"objectDescribe": self._describe(sobject), "recentItems": []}
            record_id = self._api_create("POST", sobject, self._json(raw_body))
            return 201, {}, {"id": record_id, "success": True, "errors": []}
        action = parts[1].lower()
        if len(parts) == 2 and action == "describe":
            self._allow(method, "GET")
            return 200, {}, self._describe(sobject)
        if len(parts) == 2 and action in ("deleted", "updated"):
            self._allow(method, "GET")
            return 200, {}, self._replication(sobject, action, query)
        if len(parts) == 2:
            record_id = parts[1]
            self._allow(method, "GET", "PATCH", "DELETE")
            if method == "GET":
                return 200, {}, self._read(sobject, record_id, query.get("fields"), version)
            if method == "PATCH":
                self._api_update("PATCH", sobject, record_id, self._json(raw_body))
            else:
                self._api_delete("DELETE", sobject, record_id)
            return 204, {}, None
        if len(parts) == 3:
            self._allow(method, "GET", "PATCH")
            field = self._field(sobject, parts[1])
            if field is None:
                raise _not_found()
            if method == "GET":
                matches = self._find_by(sobject, field, parts[2])
                if not matches:
                    raise _not_found()
                return 200, {}, self._read(sobject, matches[0], query.get("fields"), version)
            update_only = query.get("updateOnly", "").lower() == "true"
            return self._upsert(
                sobject, field, parts[2], self._json(raw_body), update_only, version
            )
        raise _not_found()

    @staticmethod
    def _allow(method, *allowed):
        if method not in allowed:
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
            )

    @staticmethod
    def _json(raw_body):
        if not raw_body:
            return None
        try:
            return json.loads(raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body)
        except ValueError as error:
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {error}"
            ) from error

    def _limits(self):
        remaining = max(0, self.api_limit - self.api_usage)
        return {
            "DailyApiRequests": {"Max": self.api_limit, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "ConcurrentSyncLongRunningRequests": {"Max": 25, "Remaining": 25},
        }

    def _describe_global(self, version):
        return {
            "encoding": "UTF-8",
            "maxBatchSize": _COLLECTION_LIMIT,
            "sobjects": [
                {
                    "name": name,
                    "label": name,
                    "keyPrefix": prefix,
                    "queryable": True,
                    "createable": name not in _NOT_WRITABLE_OBJECTS,
                    "updateable": name not in _NOT_WRITABLE_OBJECTS,
                    "urls": {"sobject": f"/services/data/v{version}/sobjects/{name}"},
                }
                for name, prefix in _ID_PREFIXES.items()
            ],
        }

    def _describe(self, sobject):
        fields = []
        for name in self._fields[sobject].values():
            writable = f"{sobject}.{name}" not in _READ_ONLY and name not in _READ_ONLY
            fields.append(
                {
                    "name": name,
                    "label": name.removesuffix("__c").replace("_", " "),
                    "type": self._type(sobject, name),
                    "custom": name.endswith("__c"),
                    "externalId": name == "Odoo_Id__c",
                    "nillable": name not in _REQUIRED.get(sobject, ()),
                    "createable": writable,
                    "updateable": writable,
                }
            )
        children = [
            {"relationshipName": relationship, "childSObject": child, "field": reference}
            for relationship, (child, reference) in _CHILDREN.get(sobject, {}).items()
        ]
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": _ID_PREFIXES[sobject],
            "fields": fields,
            "childRelationships": children,
        }

    # Schema helpers ------------------------------------------------------------------------------

    def add_field(self, sobject, name, field_type="string"):
        """Declare a custom field, so that queries and writes accept it."""
        with self._lock:
            sobject = self._sobject(sobject) or sobject
            self._fields[sobject][name.lower()] = name
            self._custom_types[(sobject, name)] = field_type

    def _sobject(self, name):
        lowered = name.lower()
        return next((sobject for sobject in _ID_PREFIXES if sobject.lower() == lowered), None)

    def _field(self, sobject, name):
        return self._fields[sobject].get(name.lower())

    def _type(self, sobject, name):
        return self._custom_types.get((sobject, name)) or _field_type(name)

    def _table(self, sobject):
        if sobject == "OpportunityStage":
            return {stage["Id"]: stage for stage in self.stages}
        return self._live[sobject]

    def _attributes(self, sobject, record_id, version):
        return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}

    # SOQL ----------------------------------------------------------------------------------------

    def _query(self, params, options, version, include_deleted):
        text = params.get("q")
        if not text:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        query = _Parser(text).parse()
        self._bind(query)
        records = self._execute(query, version, include_deleted)
        if query.count_only:
            return {"totalSize": records, "done": True, "records": []}
        self._cursor_counter += 1
        cursor = f"01gFAKE{self._cursor_counter:08d}"
        self._cursors[cursor] = (records, self._page_size(options))
        return self._page(cursor, 0, version)

    def _page(self, cursor, offset, version):
        records, size = self._cursors[cursor]
        end = offset + size
        body = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if body["done"]:
            del self._cursors[cursor]
        else:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}-{end}"
        return body

    def _page_size(self, options):
        """``Sforce-Query-Options: batchSize=N`` (200..2000) can only make pages smaller."""
        size = self.page_size
        match = re.search(r"batchSize=(\d+)", options or "")
        if match:
            size = min(size, max(200, min(2000, int(match[1]))))
        return size

    def _next_page(self, locator, version):
        match = re.fullmatch(r"(01gFAKE\d+)-(\d+)", locator)
        if not match or match[1] not in self._cursors:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(match[1], int(match[2]), version)

    def _bind(self, query, parent=None):
        """Resolve names against the schema (case-insensitive) and compile WHERE and ORDER BY."""
        if parent is None:
            sobject = self._sobject(query.sobject)
            if sobject is None:
                raise _soql_error(
                    "INVALID_TYPE",
                    query.text,
                    query.sobject_pos,
                    f"sObject type '{query.sobject}' is not supported. If you are attempting to "
                    "use a custom object, be sure to append the '__c' after the entity name. "
                    "Please reference your WSDL or the describe call for the appropriate names.",
                )
        else:
            relations = {name.lower(): name for name in _CHILDREN.get(parent, {})}
            relationship = relations.get(query.sobject.lower())
            if relationship is None:
                raise _soql_error(
                    "INVALID_TYPE",
                    query.text,
                    query.sobject_pos,
                    f"Didn't understand relationship '{query.sobject}' in FROM part of query "
                    "call. If you are attempting to use a custom relationship, be sure to append "
                    "the '__r' after the custom relationship name. Please reference your WSDL or "
                    "the describe call for the appropriate names.",
                )
            sobject, reference = _CHILDREN[parent][relationship]
            query.relationship = (relationship, reference)
        query.sobject = sobject
        for item in query.items:
            if isinstance(item, _Query):
                if parent is not None:
                    raise _soql_error(
                        "MALFORMED_QUERY", query.text, item.sobject_pos, "nested subqueries"
                    )
                self._bind(item, parent=sobject)
            else:
                self._bind_field(sobject, item, query.text)
        query.predicate = self._compile(sobject, query.where, query.text) if query.where else None
        for item in query.order:
            self._bind_field(sobject, item.field, query.text)
        query.sorters = [
            (
                self._getter(item.field),
                item.descending,
                0 if item.nulls_first != item.descending else 2,
            )
            for item in reversed(query.order)
        ]

    def _bind_field(self, sobject, field, text):
        *relationships, name = field.text.split(".")
        hops = []
        for relationship in relationships:
            known = {key.lower(): key for key in _PARENTS.get(sobject, {})}
            canonical = known.get(relationship.lower())
            if canonical is None:
                raise _soql_error(
                    "INVALID_FIELD",
                    text,
                    field.pos,
                    f"Didn't understand relationship '{relationship}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            reference, target = _PARENTS[sobject][canonical]
            hops.append((reference, canonical, target))
            sobject = target
        canonical_name = self._field(sobject, name)
        if canonical_name is None:
            raise _soql_error(
                "INVALID_FIELD",
                text,
                field.pos,
                f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        field.hops, field.name = tuple(hops), canonical_name

    def _getter(self, field):
        name, hops = field.name, field.hops
        if not hops:
            return lambda record: record.get(name)

        def get(record):
            for reference, _relationship, target in hops:
                parent_id = record.get(reference)
                record = self._table(target).get(parent_id) if parent_id else None
                if record is None:
                    return None
            return record.get(name)

        return get

    def _compile(self, sobject, condition, text):
        kind = condition[0]
        if kind in ("and", "or"):
            parts = [self._compile(sobject, part, text) for part in condition[1]]
            combine = all if kind == "and" else any
            return lambda record: combine(part(record) for part in parts)
        if kind == "not":
            inner = self._compile(sobject, condition[1], text)
            return lambda record: not inner(record)
        field = condition[1]
        self._bind_field(sobject, field, text)
        get = self._getter(field)
        if kind == "like":
            pattern = condition[2]
            return lambda record: (
                get(record) is not None and bool(pattern.fullmatch(str(get(record))))
            )
        if kind == "in":
            negate, values = condition[2], condition[3]

            def member(record):
                value = get(record)
                return any(_matches(value, "=", literal) for literal in values) != negate

            return member
        operator, literal = condition[2], condition[3]
        return lambda record: _matches(get(record), operator, literal)

    def _select(self, query, rows):
        """WHERE, ORDER BY, OFFSET and LIMIT over candidate rows."""
        if query.predicate is not None:
            rows = [row for row in rows if query.predicate(row)]
        else:
            rows = list(rows)
        for get, descending, null_rank in query.sorters:
            rows.sort(
                key=lambda row, get=get, rank=null_rank: _sort_key(get(row), rank),
                reverse=descending,
            )
        rows = rows[query.offset :]
        return rows if query.limit is None else rows[: query.limit]

    def _execute(self, query, version, include_deleted):
        rows = list(self._table(query.sobject).values())
        if include_deleted:
            rows += self._deleted.get(query.sobject, {}).values()
        rows = self._select(query, rows)
        if query.count_only:
            return len(rows)
        children = {}  # per subquery: parent id -> child rows, grouped once per query
        for item in query.items:
            if isinstance(item, _Query):
                groups = children[id(item)] = {}
                candidates = list(self._live[item.sobject].values())
                if include_deleted:
                    candidates += self._deleted[item.sobject].values()
                reference = item.relationship[1]
                for child in candidates:
                    groups.setdefault(child.get(reference), []).append(child)
        return [self._shape(query, row, version, children) for row in rows]

    def _shape(self, query, record, version, children):
        out = {"attributes": self._attributes(query.sobject, record["Id"], version)}
        for item in query.items:
            if isinstance(item, _Query):
                rows = self._select(item, children[id(item)].get(record["Id"], ()))
                out[item.relationship[0]] = (
                    {
                        "totalSize": len(rows),
                        "done": True,
                        "records": [self._shape(item, row, version, {}) for row in rows],
                    }
                    if rows
                    else None
                )
                continue
            node, source = out, record
            for reference, relationship, target in item.hops:
                parent_id = source.get(reference)
                parent = self._table(target).get(parent_id) if parent_id else None
                if parent is None:
                    node.setdefault(relationship, None)
                    break
                if node.get(relationship) is None:
                    node[relationship] = {
                        "attributes": self._attributes(target, parent_id, version)
                    }
                node, source = node[relationship], parent
            else:
                node[item.name] = source.get(item.name)
        return out

    # Reads and replication -----------------------------------------------------------------------

    def _read(self, sobject, record_id, fields_param, version):
        record = self._table(sobject).get(record_id)
        if record is None:
            raise _not_found()
        names = list(self._fields[sobject].values())
        if fields_param:
            names = []
            for name in fields_param.split(","):
                canonical = self._field(sobject, name.strip())
                if canonical is None:
                    raise SalesforceError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {sobject}",
                    )
                names.append(canonical)
        out = {"attributes": self._attributes(sobject, record_id, version)}
        out.update({name: record.get(name) for name in names})
        return out

    def _replication(self, sobject, action, params):
        try:
            start, end = parse_ts(params["start"]), parse_ts(params["end"])
        except (KeyError, ValueError) as error:
            raise SalesforceError(
                400, "INVALID_REPLICATION_DATE", "start and end must be valid dateTime values"
            ) from error
        if start >= end:
            raise SalesforceError(
                400,
                "INVALID_REPLICATION_DATE",
                "startDate must chronologically precede endDate by more than one minute",
            )
        if action == "updated":
            ids = [
                record["Id"]
                for record in self._live[sobject].values()
                if start <= parse_ts(record["SystemModstamp"]) <= end
            ]
            return {"ids": ids, "latestDateCovered": format_ts(end)}
        deletions = [(rid, when) for name, rid, when in self._deleted_log if name == sobject]
        earliest = self.earliest_deleted_available
        if isinstance(earliest, str):
            earliest = parse_ts(earliest)
        if earliest is None:  # nothing purged: never report a date after the caller's start
            earliest = min([start, *(when for _rid, when in deletions)])
        return {
            "deletedRecords": [
                {"id": rid, "deletedDate": format_ts(when)}
                for rid, when in deletions
                if start <= when <= end
            ],
            "earliestDateAvailable": format_ts(earliest),
            "latestDateCovered": format_ts(end),
        }

    # API writes ----------------------------------------------------------------------------------

    def _clean(self, sobject, body):
        """Validate a request body like Salesforce: canonical names, types and writability."""
        if sobject in _NOT_WRITABLE_OBJECTS:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {sobject} does not support insert"
            )
        if not isinstance(body, dict):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        fields, read_only = {}, []
        relations = {name.lower(): name for name in _PARENTS.get(sobject, {})}
        rejected = {name.lower() for name in self.reject_fields}
        for key, value in body.items():
            if key == "attributes":
                continue
            relationship = relations.get(key.lower())
            if relationship and isinstance(value, dict):  # lookup by external id
                reference, target = _PARENTS[sobject][relationship]
                fields[reference] = self._external_reference(target, value)
                continue
            name = self._field(sobject, key)
            if name is None:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {sobject}",
                    [key],
                )
            if name.lower() in rejected or key.lower() in rejected:
                raise SalesforceError(
                    400, "INVALID_FIELD", f"Field {name} is not writable in this org", [name]
                )
            if name in _READ_ONLY or f"{sobject}.{name}" in _READ_ONLY:
                read_only.append(name)
            fields[name] = self._coerce(sobject, name, value)
        if read_only:
            raise SalesforceError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                read_only,
            )
        self._check_references(sobject, fields)
        return fields

    def _external_reference(self, sobject, value):
        if len(value) != 1 + ("attributes" in value):
            raise SalesforceError(400, "INVALID_FIELD", "Exactly one external id field expected")
        key, lookup = next((k, v) for k, v in value.items() if k != "attributes")
        field = self._field(sobject, key)
        matches = self._find_by(sobject, field, lookup) if field else []
        if len(matches) != 1:
            problem = "not found" if not matches else "matches several records"
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {lookup} {problem} for field {key} in entity {sobject}",
                [key],
            )
        return matches[0]

    def _coerce(self, sobject, name, value):
        if value is None:
            return None
        kind = self._type(sobject, name)
        try:
            if isinstance(value, (dict, list)):
                raise TypeError(name)
            if kind in ("currency", "percent", "double", "int"):
                if isinstance(value, bool):
                    raise TypeError(name)
                return int(value) if kind == "int" else float(value)
            if kind == "date":
                if isinstance(value, date):
                    return value.isoformat()[:10]
                return date.fromisoformat(value).isoformat()
            if kind == "datetime":
                return format_ts(value if isinstance(value, datetime) else parse_ts(value))
            if kind == "boolean" and not isinstance(value, bool):
                raise TypeError(name)
        except (TypeError, ValueError) as error:
            raise SalesforceError(
                400,
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {kind} from value {value!r} or request may be "
                "missing a required field",
                [name],
            ) from error
        return value

    def _check_references(self, sobject, fields):
        for reference, target in _PARENTS.get(sobject, {}).values():
            value = fields.get(reference)
            if value and value not in self._table(target):
                raise SalesforceError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {value}",
                    [reference],
                )

    def _api_create(self, method, sobject, body):
        fields = self._clean(sobject, body)
        missing = [name for name in _REQUIRED.get(sobject, ()) if fields.get(name) in (None, "")]
        if missing:
            raise SalesforceError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        record_id = self._insert(sobject, fields)
        self.writes.append((method, sobject, record_id, fields))
        return record_id

    def _api_update(self, method, sobject, record_id, body):
        fields = self._clean(sobject, body)
        self._modify(sobject, record_id, fields)
        self.writes.append((method, sobject, record_id, fields))

    def _api_delete(self, method, sobject, record_id):
        self._delete(sobject, record_id)
        self.writes.append((method, sobject, record_id, {}))

    def _find_by(self, sobject, field, value):
        if field == "Id":
            return [value] if value in self._table(sobject) else []
        return [
            record["Id"]
            for record in self._table(sobject).values()
            if record.get(field) is not None and str(record.get(field)) == str(value)
        ]

    def _upsert(self, sobject, field, value, body, update_only, version):
        fields = self._clean(sobject, body)
        if field in fields:
            raise SalesforceError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {field}. The external id field must not be "
                "part of the body.",
                [field],
            )
        matches = self._find_by(sobject, field, value)
        if len(matches) > 1:
            return (
                300,
                {},
                [f"/services/data/v{version}/sobjects/{sobject}/{rid}" for rid in matches],
            )
        if matches:
            self._modify(sobject, matches[0], fields)
            self.writes.append(("PATCH", sobject, matches[0], fields))
            if self.upsert_204:
                return 204, {}, None
            return 200, {}, {"id": matches[0], "success": True, "errors": [], "created": False}
        if update_only or field == "Id":
            raise _not_found()
        record_id = self._api_create("PATCH", sobject, {**fields, field: value})
        return 201, {}, {"id": record_id, "success": True, "errors": [], "created": True}

    # Collections and composite -------------------------------------------------------------------

    def _collection(self, method, sobject, ext_field, raw_body, params):
        """sObject collections: one result per record, in order; allOrNone rolls back."""
        if method == "DELETE":
            items = [item for item in params.get("ids", "").split(",") if item]
            all_or_none = params.get("allOrNone", "").lower() == "true"
        else:
            self._allow(method, "POST", "PATCH")
            body = self._json(raw_body)
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "records must be a JSON array")
            items, all_or_none = body["records"], bool(body.get("allOrNone"))
        if len(items) > _COLLECTION_LIMIT:
            raise SalesforceError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        if sobject is not None:
            sobject = self._sobject(sobject)
            ext_field = self._field(sobject, ext_field) if sobject else None
            if sobject is None or ext_field is None:
                raise _not_found()
            self._allow(method, "PATCH")
        savepoint = self._savepoint()
        results = []
        for item in items:
            try:
                results.append(self._collection_item(method, item, sobject, ext_field))
            except SalesforceError as error:
                known_id = item if isinstance(item, str) else None
                if isinstance(item, dict):
                    known_id = item.get("id") or item.get("Id")
                results.append(
                    {"id": known_id, "success": False, "errors": [error.collection_error()]}
                )
        if all_or_none and not all(result["success"] for result in results):
            self._rollback(savepoint)
            for result in results:
                if result["success"]:
                    result.update(success=False, errors=[dict(_ROLLED_BACK)])
                    if method == "POST" or result.get("created"):
                        result["id"] = None
        self._release(savepoint)
        return results

    def _collection_item(self, method, item, sobject, ext_field):
        if method == "DELETE":
            self._api_delete("DELETE", self._type_of_id(item), item)
            return {"id": item, "success": True, "errors": []}
        if not isinstance(item, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
        fields = {
            key: value for key, value in item.items() if key not in ("attributes", "id", "Id")
        }
        record_type = (item.get("attributes") or {}).get("type")
        if sobject is not None:  # upsert by external id
            value = next((v for k, v in fields.items() if k.lower() == ext_field.lower()), None)
            if value is None:
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field]
                )
            fields = {k: v for k, v in fields.items() if k.lower() != ext_field.lower()}
            matches = self._find_by(sobject, ext_field, value)
            if len(matches) > 1:
                raise SalesforceError(
                    300,
                    "DUPLICATE_EXTERNAL_ID",
                    f"{ext_field} duplicates value on records with ids: {', '.join(matches)}",
                    [ext_field],
                )
            if matches:
                self._api_update("PATCH", sobject, matches[0], fields)
                return {"id": matches[0], "success": True, "errors": [], "created": False}
            record_id = self._api_create("PATCH", sobject, {**fields, ext_field: value})
            return {"id": record_id, "success": True, "errors": [], "created": True}
        if method == "POST":
            target = self._sobject(record_type or "")
            if target is None:
                raise SalesforceError(400, "INVALID_TYPE", "sObject type not specified or unknown")
            return {"id": self._api_create("POST", target, fields), "success": True, "errors": []}
        record_id = item.get("id") or item.get("Id")
        if not record_id:
            raise SalesforceError(
                400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
            )
        target = self._sobject(record_type) if record_type else self._type_of_id(record_id)
        if target is None:
            raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        self._api_update("PATCH", target, record_id, fields)
        return {"id": record_id, "success": True, "errors": []}

    def _type_of_id(self, record_id):
        sobject = _OBJECT_BY_PREFIX.get(str(record_id)[:3])
        if sobject is None:
            raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        return sobject

    def _composite(self, body, version):
        """POST .../composite: subrequests share one API call; allOrNone rolls everything back."""
        requests_ = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(requests_, list) or not requests_:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "compositeRequest must be a JSON array")
        if len(requests_) > _COMPOSITE_LIMIT:
            raise SalesforceError(
                400,
                "INVALID_API_INPUT",
                f"Maximum number of subrequests exceeded: {_COMPOSITE_LIMIT}",
            )
        all_or_none = bool(body.get("allOrNone"))
        savepoint = self._savepoint()
        outputs, results, failed = {}, [], None
        for index, sub in enumerate(requests_):
            reference = sub.get("referenceId")
            if failed is not None and all_or_none:
                results.append(self._halted(reference))
                continue
            url = _resolve_references(sub.get("url", ""), outputs)
            payload = _resolve_references(sub.get("body"), outputs)
            parts = urlsplit(url)
            match = _API_PATH.fullmatch(parts.path)
            if match is None:
                status, headers, out = 404, {}, _not_found().body()
            else:
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                raw = json.dumps(payload).encode() if payload is not None else b""
                status, headers, out = self._dispatch_safe(
                    sub.get("method", "GET").upper(), match[1], match[2] or "", query, raw
                )
            results.append(
                {
                    "body": out,
                    "httpHeaders": headers,
                    "httpStatusCode": status,
                    "referenceId": reference,
                }
            )
            if status < 300:
                outputs[reference] = out
            elif failed is None:
                failed = index
        if all_or_none and failed is not None:
            self._rollback(savepoint)
            results = [
                result if index == failed else self._halted(result["referenceId"])
                for index, result in enumerate(results)
            ]
        self._release(savepoint)
        return {"compositeResponse": results}

    @staticmethod
    def _halted(reference):
        return {"body": _HALTED, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference}

    # Transactions --------------------------------------------------------------------------------

    def _savepoint(self):
        owner = self._journal is None
        if owner:
            self._journal = []
        return len(self._journal), len(self.writes), owner

    def _rollback(self, savepoint):
        mark, writes, _owner = savepoint
        while len(self._journal) > mark:
            self._journal.pop()()
        del self.writes[writes:]

    def _release(self, savepoint):
        if savepoint[2]:
            self._journal = None

    # Storage -------------------------------------------------------------------------------------

    def _new_id(self, sobject):
        self._counter += 1
        base = f"{_ID_PREFIXES[sobject]}Fk{self._counter:010d}"
        return base + _id_suffix(base)

    def _stamp(self):
        """Now, in milliseconds, strictly after the previous stamp so that stamps order writes.

        A clock moved backwards cannot produce older stamps than writes already made.
        """
        now = self.clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return format_ts(now)

    def _raw_set(self, sobject, record):
        table = self._live[sobject]
        old = table.get(record["Id"])
        table[record["Id"]] = record
        for (child, reference), groups in self._index.items():
            if child != sobject:
                continue
            before, after = old.get(reference) if old else None, record.get(reference)
            if before != after and before is not None:
                groups.get(before, {}).pop(record["Id"], None)
            if after is not None:
                groups.setdefault(after, {})[record["Id"]] = None

    def _raw_unset(self, sobject, record_id):
        record = self._live[sobject].pop(record_id)
        for (child, reference), groups in self._index.items():
            if child == sobject and record.get(reference) is not None:
                groups.get(record[reference], {}).pop(record_id, None)
        return record

    def _put(self, sobject, record):
        old = self._live[sobject].get(record["Id"])
        if self._journal is not None:

            def undo():
                if old is None:
                    self._raw_unset(sobject, record["Id"])
                else:
                    self._raw_set(sobject, old)

            self._journal.append(undo)
        self._raw_set(sobject, record)

    def _insert(self, sobject, fields, *, touch_parent=True):
        record_id, stamp = self._new_id(sobject), self._stamp()
        record = {
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": stamp,
            "CreatedById": self.user_id,
            "LastModifiedDate": stamp,
            "LastModifiedById": self.user_id,
            "SystemModstamp": stamp,
        }
        if "ownerid" in self._fields[sobject]:
            record["OwnerId"] = self.user_id
        record.update(fields)
        self._derive(sobject, record, fields, created=True)
        self._put(sobject, record)
        if touch_parent:
            self._rollup(sobject, record)
        return record_id

    def _modify(self, sobject, record_id, fields, *, bump=("LastModifiedDate", "SystemModstamp")):
        old = self._live[sobject].get(record_id)
        if old is None:
            if record_id in self._deleted[sobject]:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", ["Id"])
            raise _not_found()
        stamp = self._stamp()
        record = {**old, **dict.fromkeys(bump, stamp), **fields}
        self._derive(sobject, record, fields, created=False)
        self._put(sobject, record)
        self._rollup(sobject, record, old)

    def _delete(self, sobject, record_id, *, touch_parent=True):
        record = self._live[sobject].get(record_id)
        if record is None:
            if record_id in self._deleted[sobject]:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", ["Id"])
            raise _not_found()
        for child, reference in _CHILDREN.get(sobject, {}).values():  # cascade like Salesforce
            for child_id in list(self._index[(child, reference)].get(record_id, {})):
                if child_id in self._live[child]:
                    self._delete(child, child_id, touch_parent=False)
        stamp = self._stamp()
        gone = {**record, "IsDeleted": True, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        entry = (sobject, record_id, parse_ts(stamp))
        self._raw_unset(sobject, record_id)
        self._deleted[sobject][record_id] = gone
        self._deleted_log.append(entry)
        if self._journal is not None:

            def undo():
                self._deleted[sobject].pop(record_id, None)
                self._deleted_log.remove(entry)
                self._raw_set(sobject, record)

            self._journal.append(undo)
        if touch_parent:
            self._rollup(sobject, gone, record)

    def _derive(self, sobject, record, changed, created):
        """Fields Salesforce computes: stage flags, names, line prices."""
        if sobject == "Contact":
            record["Name"] = " ".join(
                part for part in (record.get("FirstName"), record.get("LastName")) if part
            )
        elif sobject == "Opportunity":
            stage = self._stage(record.get("StageName"))
            record["StageName"] = stage["ApiName"]
            record["IsClosed"], record["IsWon"] = stage["IsClosed"], stage["IsWon"]
            if "ForecastCategoryName" not in changed:
                record["ForecastCategoryName"] = stage["ForecastCategoryName"]
            record["ForecastCategory"] = stage["ForecastCategory"]
            if "Probability" not in changed and ("StageName" in changed or created):
                record["Probability"] = stage["DefaultProbability"]
            record.setdefault("HasOpportunityLineItem", False)
            if record.get("CloseDate"):
                close = date.fromisoformat(record["CloseDate"])
                record["FiscalYear"], record["FiscalQuarter"] = (
                    close.year,
                    (close.month - 1) // 3 + 1,
                )
        elif sobject == "OpportunityLineItem":
            self._derive_line(record, changed, created)
        elif sobject == "PricebookEntry":
            product = self._live["Product2"].get(record.get("Product2Id")) or {}
            record["Name"], record["ProductCode"] = product.get("Name"), product.get("ProductCode")

    def _derive_line(self, record, changed, created):
        if created or "PricebookEntryId" in changed or "Product2Id" in changed:
            entry = self._live["PricebookEntry"].get(record.get("PricebookEntryId"))
            if entry is None and record.get("Product2Id"):
                entries = self._index[("PricebookEntry", "Product2Id")].get(
                    record["Product2Id"], {}
                )
                entry = next((self._live["PricebookEntry"][eid] for eid in entries), None)
            if entry is None:
                raise SalesforceError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [PricebookEntryId]",
                    ["PricebookEntryId"],
                )
            product = self._live["Product2"][entry["Product2Id"]]
            record.update(
                PricebookEntryId=entry["Id"],
                Product2Id=product["Id"],
                ProductCode=product.get("ProductCode"),
                Name=product.get("Name"),
                ListPrice=entry.get("UnitPrice"),
            )
        quantity, price = record.get("Quantity") or 0.0, record.get("UnitPrice") or 0.0
        record["Subtotal"] = round(quantity * price, 2)
        record["TotalPrice"] = round(
            quantity * price * (1 - (record.get("Discount") or 0) / 100), 2
        )

    def _stage(self, name):
        lowered = (name or "").lower()
        stage = next((s for s in self.stages if s["ApiName"].lower() == lowered), None)
        if stage is None:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Stage: bad value for restricted picklist field: {name}",
                ["StageName"],
            )
        return stage

    def _rollup(self, sobject, record, old=None):
        """A line change recomputes its opportunity's Amount, which bumps its SystemModstamp."""
        if sobject != "OpportunityLineItem":
            return
        for opportunity_id in {record.get("OpportunityId"), (old or {}).get("OpportunityId")}:
            opportunity = self._live["Opportunity"].get(opportunity_id)
            if opportunity is None:
                continue
            line_ids = self._index[("OpportunityLineItem", "OpportunityId")].get(opportunity_id, {})
            lines = [self._live["OpportunityLineItem"][line_id] for line_id in line_ids]
            changes = {"HasOpportunityLineItem": bool(lines)}
            if lines:
                changes["Amount"] = round(sum(line.get("TotalPrice") or 0 for line in lines), 2)
            self._modify("Opportunity", opportunity_id, changes)

    # Python-side data API ------------------------------------------------------------------------

    def _helper_fields(self, sobject, fields):
        """Canonical names for helper keyword fields; unknown ``__c`` fields are declared."""
        out = {}
        for key, value in fields.items():
            name = self._field(sobject, key)
            if name is None:
                if not key.endswith("__c"):
                    raise KeyError(f"{sobject} has no field {key!r} (custom fields end with __c)")
                field_type = "currency" if isinstance(value, (int, float)) else "string"
                self.add_field(sobject, key, "boolean" if isinstance(value, bool) else field_type)
                name = key
            out[name] = self._coerce(sobject, name, value)
        self._check_references(sobject, out)
        return out

    def _canonical_sobject(self, sobject):
        canonical = self._sobject(sobject)
        if canonical is None:
            raise KeyError(f"unknown sObject {sobject!r}")
        return canonical

    def add_account(self, **fields) -> str:
        with self._lock:
            fields.setdefault("Name", f"Account {self._counter + 1}")
            return self._insert("Account", self._helper_fields("Account", fields))

    def add_contact(self, account_id, **fields) -> str:
        with self._lock:
            fields.setdefault("LastName", "Contact")
            fields = self._helper_fields("Contact", {"AccountId": account_id, **fields})
            return self._insert("Contact", fields)

    def add_product(self, name, code=None, *, list_price=0.0, **fields) -> str:
        """A Product2 and its standard price book entry (``list_price``)."""
        with self._lock:
            fields = {"Name": name, "ProductCode": code, "IsActive": True, **fields}
            product_id = self._insert("Product2", self._helper_fields("Product2", fields))
            entry = {
                "Pricebook2Id": self.standard_pricebook_id,
                "Product2Id": product_id,
                "UnitPrice": float(list_price),
                "IsActive": True,
            }
            self._insert("PricebookEntry", entry)
            return product_id

    def add_opportunity(
        self,
        account_id,
        *,
        name,
        stage="Closed Won",
        amount=None,
        close_date="2026-11-02",
        lines=(),
        contact_ids=(),
        **fields,
    ) -> str:
        """An opportunity with its line items and contact roles (the first contact is primary).

        ``lines`` are dicts with ``product_id``, ``quantity``, ``unit_price`` and optionally
        ``discount`` (percent), ``description``, ``service_date`` and any field by its API name.
        ``amount`` defaults to the sum of the lines' TotalPrice.
        """
        aliases = {
            "product_id": "Product2Id",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "discount": "Discount",
            "description": "Description",
            "service_date": "ServiceDate",
        }
        with self._lock:
            rows = []
            for line in lines:
                row = {aliases.get(key, key): value for key, value in line.items()}
                row.setdefault("Quantity", 1.0)
                row.setdefault("UnitPrice", 0.0)
                if row.get("Product2Id") not in self._live["Product2"]:
                    raise KeyError(f"unknown product {row.get('Product2Id')!r}")
                rows.append(self._helper_fields("OpportunityLineItem", row))
            if amount is None and rows:
                amount = round(
                    sum(
                        row["Quantity"] * row["UnitPrice"] * (1 - (row.get("Discount") or 0) / 100)
                        for row in rows
                    ),
                    2,
                )
            values = {
                "AccountId": account_id,
                "Name": name,
                "StageName": stage,
                "CloseDate": close_date,
                "Amount": amount,
                **fields,
            }
            if rows:
                values.update(HasOpportunityLineItem=True, Pricebook2Id=self.standard_pricebook_id)
            opportunity_id = self._insert("Opportunity", self._helper_fields("Opportunity", values))
            for position, row in enumerate(rows, start=1):
                row = {"OpportunityId": opportunity_id, "SortOrder": position, **row}
                self._insert("OpportunityLineItem", row, touch_parent=False)
            for position, contact_id in enumerate(contact_ids):
                role = {
                    "OpportunityId": opportunity_id,
                    "ContactId": contact_id,
                    "IsPrimary": position == 0,
                    "Role": "Decision Maker",
                }
                self._insert(
                    "OpportunityContactRole", self._helper_fields("OpportunityContactRole", role)
                )
            return opportunity_id

    def add_line_item(self, opportunity_id, *, product_id, quantity, unit_price, **fields) -> str:
        """A product line added to an existing opportunity (its Amount and stamp move)."""
        with self._lock:
            if product_id not in self._live["Product2"]:
                raise KeyError(f"unknown product {product_id!r}")
            row = {
                "OpportunityId": opportunity_id,
                "Product2Id": product_id,
                "Quantity": quantity,
                "UnitPrice": unit_price,
                **fields,
            }
            return self._insert(
                "OpportunityLineItem", self._helper_fields("OpportunityLineItem", row)
            )

    def update(self, sobject, record_id, **fields) -> None:
        """Change a record "in Salesforce": bumps SystemModstamp and LastModifiedDate.

        Explicit ``SystemModstamp``/``LastModifiedDate`` values win over the bump.
        """
        with self._lock:
            sobject = self._canonical_sobject(sobject)
            self._modify(sobject, record_id, self._helper_fields(sobject, fields))

    def touch(self, sobject, record_id) -> None:
        """A system change: only SystemModstamp moves (LastModifiedDate does not)."""
        with self._lock:
            self._modify(self._canonical_sobject(sobject), record_id, {}, bump=("SystemModstamp",))

    def delete(self, sobject, record_id) -> None:
        """Delete (with Salesforce's cascade); the deleted endpoint reports it from now on."""
        with self._lock:
            self._delete(self._canonical_sobject(sobject), record_id)

    def get(self, sobject, record_id) -> dict:
        """A copy of the stored record (deleted records too, with IsDeleted true)."""
        with self._lock:
            sobject = self._canonical_sobject(sobject)
            record = self._table(sobject).get(record_id) or self._deleted[sobject].get(record_id)
            if record is None:
                raise KeyError(f"no {sobject} {record_id}")
            return dict(record)

    def records(self, sobject) -> list[dict]:
        """Copies of the live records, in creation order."""
        with self._lock:
            return [
                dict(record) for record in self._table(self._canonical_sobject(sobject)).values()
            ]

    # Seeds ---------------------------------------------------------------------------------------

    def _catalogue(self):
        """The demo products by code, created when missing."""
        existing = {
            record.get("ProductCode"): record["Id"] for record in self._live["Product2"].values()
        }
        for code, name, price, unit in _DEMO_PRODUCTS:
            if code not in existing:
                existing[code] = self.add_product(
                    name, code, list_price=price, QuantityUnitOfMeasure=unit, Family="Services"
                )
        return {code: existing[code] for code, *_rest in _DEMO_PRODUCTS}

    def seed_demo(self) -> dict:
        """A small consultancy's closed deals; returns ids by readable name.

        Keys: accounts ``northwind``, ``globex``, ``initech``, ``umbrella``; contacts by first
        name in lower case; products by code (``IMPL``, ``CONS-H``, ``SUP-RET``, ``TRAIN``,
        ``NEW-SKU``); opportunities ``northwind_erp``, ``northwind_support``,
        ``globex_consulting``, ``globex_rollout``, ``initech_mixed``, ``umbrella_advisory``
        (closed won), ``umbrella_phase2`` (open) and ``initech_migration`` (closed won with the
        unmapped product code NEW-SKU).
        """
        with self._lock:
            ids = dict(self._catalogue())
            ids["NEW-SKU"] = self.add_product(
                "Data migration add-on", "NEW-SKU", list_price=8000.0, Family="Services"
            )
            address = (
                "BillingStreet",
                "BillingCity",
                "BillingState",
                "BillingPostalCode",
                "BillingCountry",
            )
            accounts = {
                "northwind": ("Northwind Traders Inc.", "CUST-1001", "Retail", "+1 415 555 0100",
                              "northwind.example.com",
                              ("500 Market Street", "San Francisco", "CA", "94105",
                               "United States")),
                "globex": ("Globex GmbH", "CUST-1002", "Manufacturing", "+49 30 5550 1200",
                           "globex.example.de",
                           ("Friedrichstrasse 68", "Berlin", None, "10117", "Germany")),
                "initech": ("Initech Ltd", "CUST-1003", "Financial Services", "+44 20 7946 0300",
                            "initech.example.co.uk",
                            ("1 Canada Square", "London", None, "E14 5AB", "United Kingdom")),
                "umbrella": ("Umbrella Health Inc.", "CUST-1004", "Healthcare", "+1 617 555 0400",
                             "umbrella-health.example.com",
                             ("200 Boylston Street", "Boston", "MA", "02116", "United States")),
            }  # fmt: skip
            for key, (name, number, industry, phone, domain, lines) in accounts.items():
                ids[key] = self.add_account(
                    Name=name,
                    AccountNumber=number,
                    Industry=industry,
                    Phone=phone,
                    Website=f"https://{domain}",
                    **dict(zip(address, lines, strict=True)),
                )
            contacts = (
                ("northwind", "Nancy", "Davolio", "Chief Financial Officer"),
                ("northwind", "Andrew", "Fuller", "VP Operations"),
                ("globex", "Greta", "Keller", "Head of Finance"),
                ("globex", "Jonas", "Weber", "IT Director"),
                ("initech", "Peter", "Gibbons", "Programme Manager"),
                ("umbrella", "Alice", "Abernathy", "Chief Operating Officer"),
            )
            for account, first, last, title in contacts:
                _name, _number, _industry, phone, domain, _address = accounts[account]
                ids[first.lower()] = self.add_contact(
                    ids[account],
                    FirstName=first,
                    LastName=last,
                    Title=title,
                    Email=f"{first.lower()}.{last.lower()}@{domain}",
                    Phone=phone,
                )
            us, eu, uk = "Acme Consulting US", "Acme Consulting EU", "Acme Consulting UK"
            fixed, tm = "Fixed Fee", "Time and Materials"
            # key: (account, name, close date, contacts, deal fields, lines)
            # A line is (product code, quantity, unit price, line billing model[, discount]).
            deals = {
                "northwind_erp": (
                    "northwind", "Northwind - ERP implementation", "2026-03-16", ("nancy", "andrew"),
                    _terms(us, fixed, PO_Number__c="PO-NW-2026-001"),
                    (("IMPL", 1, 60000.0, fixed), ("TRAIN", 3, 1200.0, fixed)),
                ),
                "northwind_support": (
                    "northwind", "Northwind - Support 2026", "2026-04-01", ("nancy",),
                    _terms(us, "Retainer", "Support", PO_Number__c="PO-NW-2026-014"),
                    (("SUP-RET", 12, 2500.0, "Retainer"),),
                ),
                "globex_consulting": (
                    "globex", "Globex - Process consulting", "2026-05-20", ("greta", "jonas"),
                    _terms(eu, tm, tax="EU reverse charge", PO_Number__c="4500012345",
                           Cap_Amount__c=30000.0),
                    (("CONS-H", 200, 150.0, tm, 5.0),),
                ),
                "globex_rollout": (
                    "globex", "Globex - Rollout phase 2", "2026-06-30", ("jonas",),
                    _terms(eu, "Milestones", tax="EU reverse charge", PO_Number__c="4500012388"),
                    (("IMPL", 1, 45000.0, "Milestones"), ("TRAIN", 2, 1200.0, fixed)),
                ),
                "initech_mixed": (
                    "initech", "Initech - Implementation and coaching", "2026-07-15", ("peter",),
                    _terms(uk, "Mixed", PO_Number__c="INI-77812", Cap_Amount__c=45000.0),
                    (("IMPL", 1, 30000.0, fixed), ("CONS-H", 80, 140.0, tm),
                     ("TRAIN", 2, 1100.0, fixed)),
                ),
                "umbrella_advisory": (
                    "umbrella", "Umbrella - Data platform advisory", "2026-09-01", ("alice",),
                    _terms(us, tm, Cap_Amount__c=20000.0),
                    (("CONS-H", 120, 160.0, tm),),
                ),
                "umbrella_phase2": (  # still open
                    "umbrella", "Umbrella - Phase 2", "2026-12-15", ("alice",),
                    _terms(us, tm, stage="Proposal"),
                    (("CONS-H", 100, 160.0, tm),),
                ),
                "initech_migration": (  # NEW-SKU: a product code the connector has not mapped
                    "initech", "Initech - Data migration", "2026-10-05", ("peter",),
                    _terms(uk, fixed, PO_Number__c="INI-78020"),
                    (("NEW-SKU", 1, 8000.0, fixed),),
                ),
            }  # fmt: skip
            for key, (account, name, close_date, people, fields, lines) in deals.items():
                ids[key] = self.add_opportunity(
                    ids[account],
                    name=name,
                    close_date=close_date,
                    contact_ids=[ids[person] for person in people],
                    lines=[_demo_line(ids, *line) for line in lines],
                    **fields,
                )
            return ids

    def seed_bulk(
        self, n_deals, lines_per_deal=3, *, close_date="2026-11-02", **deal_fields
    ) -> list[str]:
        """Many closed-won deals fast (benchmarks): one account per 10 deals, demo products.

        ``deal_fields`` go to every deal (``stage``, ``amount`` or any field by API name).
        """
        with self._lock:
            catalogue = list(self._catalogue().values())
            prices = [price for _code, _name, price, _unit in _DEMO_PRODUCTS]
            accounts = [
                self.add_account(Name=f"Bulk Customer {number:05d}", AccountNumber=f"BULK-{number}")
                for number in range(1, (n_deals + 9) // 10 + 1)
            ]
            ids = []
            for index in range(n_deals):
                lines = [
                    {
                        "product_id": catalogue[(index + position) % len(catalogue)],
                        "quantity": float(1 + (index + position) % 5),
                        "unit_price": prices[(index + position) % len(catalogue)],
                    }
                    for position in range(lines_per_deal)
                ]
                ids.append(
                    self.add_opportunity(
                        accounts[index // 10],
                        name=f"Bulk deal {index + 1:06d}",
                        close_date=close_date,
                        lines=lines,
                        **deal_fields,
                    )
                )
            return ids

    # Outbound ------------------------------------------------------------------------------------

    def flow_callout(self, url, secret, body: dict, header="X-Connector-Flow-Secret"):
        """What a Salesforce Flow HTTP callout to our webhook sends: JSON and a shared secret."""
        headers = {header: secret, "User-Agent": f"SFDC-Callout/{self.api_version}"}
        return requests.post(url, json=body, headers=headers, timeout=10)
