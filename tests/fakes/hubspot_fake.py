"""A local fake of the HubSpot CRM API (v3 objects, v4 associations, OAuth, webhooks) for tests.

Contract: ../shared/reference/external-apis.md, section 2: all property values are strings, list
paging with ``paging.next.after``, search capped at 10,000 results and 200 per page, batch
endpoints with a 207 mode, 429 answers with ``X-HubSpot-RateLimit-*`` headers, and a webhook
sender signing with the v3 algorithm. It runs on :class:`FakeHttpServer`, whose failure switches
(``fail_next``, ``fail_rate``, ``delay_next``, ``malformed_next``) stay available as ``.server``::

    with FakeHubSpot() as hubspot:
        ids = hubspot.seed_demo()
        headers = {"Authorization": f"Bearer {hubspot.private_app_token}"}
        deals = requests.get(f"{hubspot.url}/crm/v3/objects/deals", headers=headers).json()

Time comes from ``clock`` (token expiry, modification stamps, the 10 s rate-limit window), so
tests can move it instead of sleeping.
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from urllib.parse import parse_qs, unquote, urlencode

import requests

from tests.fakes.http_fake import FakeHttpServer

# Object type name -> (singular, object type id). Paths accept any of the three spellings.
OBJECT_TYPES = {
    "deals": ("deal", "0-3"),
    "companies": ("company", "0-2"),
    "contacts": ("contact", "0-1"),
    "line_items": ("line_item", "0-8"),
    "products": ("product", "0-7"),
}
_TYPE_ALIASES = {
    alias: plural for plural, aliases in OBJECT_TYPES.items() for alias in (plural, *aliases)
}

_STAMPS = ["createdate", "hs_lastmodifieddate", "hs_object_id"]
# Returned on every read whatever ``properties`` asks for.
DEFAULT_PROPERTIES = {
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate", *_STAMPS],
    "companies": ["name", "domain", *_STAMPS],
    "contacts": ["firstname", "lastname", "email", "createdate", "lastmodifieddate", *_STAMPS[2:]],
    "line_items": ["name", "quantity", "price", "amount", "hs_product_id", *_STAMPS],
    "products": ["name", "price", "hs_sku", *_STAMPS],
}

# Calculated by HubSpot: writing them through the API is a VALIDATION_ERROR.
READ_ONLY_PROPERTIES = {
    "hs_object_id",
    "hs_deal_stage_probability",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_is_closed_lost",
}

# HUBSPOT_DEFINED association type ids, both directions.
ASSOCIATION_TYPE_IDS = {
    ("deals", "companies"): 5,
    ("companies", "deals"): 6,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "line_items"): 19,
    ("line_items", "deals"): 20,
    ("contacts", "companies"): 1,
    ("companies", "contacts"): 2,
}

CUSTOM_PIPELINE_ID = "7654321"
CUSTOM_STAGES = {  # generated numeric ids, as HubSpot gives to stages of custom pipelines
    "discovery": "1034567801",
    "proposal": "1034567802",
    "won": "1034567803",
    "lost": "1034567804",
}

_DATE_PROPERTIES = {"createdate", "closedate", "hs_lastmodifieddate", "lastmodifieddate"}
_OPERATORS = {
    *("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN"),
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
# Percent-escapes HubSpot decodes in the URI before signing (v3); others stay encoded.
_V3_ESCAPES = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)
_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def _iso(moment: datetime) -> str:
    """HubSpot's timestamp format: UTC, milliseconds, ``Z`` ("2026-11-02T10:00:00.123Z")."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _as_string(value):
    """HubSpot stores every property value as a string; None means unset."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _epoch_ms(value):
    """Epoch milliseconds from an epoch-ms string or an ISO date/datetime, else None."""
    value = str(value).strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _number(value):
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _integer(value, default, name, minimum=0) -> int:
    """A paging parameter (query string or JSON), 400 when it is not a usable integer."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum:
        message = f"{name} must be an integer >= {minimum}, got {value!r}"
        raise HubSpotError(400, message, "VALIDATION_ERROR")
    return number


def _money(value: Decimal) -> str:
    """Keep the precision of the inputs but never more than cents (10% of 3 x 1100.00...)."""
    if -value.as_tuple().exponent > 2:
        value = value.quantize(Decimal("0.01"))
    return str(value)


def _default_pipelines():
    def stage(stage_id, label, order, probability, closed=False):
        metadata = {"isClosed": "true" if closed else "false", "probability": probability}
        return {
            "id": stage_id,
            "label": label,
            "displayOrder": order,
            "archived": False,
            "metadata": metadata,
        }

    default_stages = [
        stage("appointmentscheduled", "Appointment scheduled", 0, "0.2"),
        stage("qualifiedtobuy", "Qualified to buy", 1, "0.4"),
        stage("presentationscheduled", "Presentation scheduled", 2, "0.6"),
        stage("decisionmakerboughtin", "Decision maker bought-in", 3, "0.8"),
        stage("contractsent", "Contract sent", 4, "0.9"),
        stage("closedwon", "Closed won", 5, "1.0", closed=True),
        stage("closedlost", "Closed lost", 6, "0.0", closed=True),
    ]
    custom_stages = [
        stage(CUSTOM_STAGES["discovery"], "Discovery", 0, "0.1"),
        stage(CUSTOM_STAGES["proposal"], "Proposal sent", 1, "0.5"),
        stage(CUSTOM_STAGES["won"], "Signed", 2, "1.0", closed=True),
        stage(CUSTOM_STAGES["lost"], "Lost", 3, "0.0", closed=True),
    ]
    return [
        {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "archived": False,
            "stages": default_stages,
        },
        {
            "id": CUSTOM_PIPELINE_ID,
            "label": "Services renewals",
            "displayOrder": 1,
            "archived": False,
            "stages": custom_stages,
        },
    ]


class HubSpotError(Exception):
    """An API error answer in HubSpot's shape; raised by handlers, turned into a response."""

    def __init__(self, status, message, category, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }


class _OAuthError(Exception):
    """OAuth endpoints answer 400 ``{"status": "BAD_...", "message": ...}``, not the API shape."""

    def __init__(self, status, message):
        super().__init__(message)
        self.body = {"status": status, "message": message, "correlationId": str(uuid.uuid4())}


class _Record:
    __slots__ = ("archived", "archived_at", "created_at", "id", "properties", "updated_at")

    def __init__(self, object_id, properties, stamp):
        self.id = object_id
        self.properties = properties
        self.created_at = self.updated_at = stamp
        self.archived = False
        self.archived_at = None


class FakeHubSpot:
    """HubSpot CRM API on 127.0.0.1: objects, search, batch, associations, OAuth and webhooks."""

    access_token_ttl = 1800
    search_cap = 10_000  # search answers 400 once ``after`` reaches it (tests lower it)
    rate_limit_max = 190  # per 10 s window, reported in X-HubSpot-RateLimit-Max
    daily_limit = 650_000
    enforce_rate_limit = False  # True: calls beyond rate_limit_max in a window answer 429

    def __init__(
        self,
        *,
        portal_id=12345678,
        client_id="fake-hs-client",
        client_secret="fake-hs-secret",
        private_app_token="pat-na1-fake-token",
        path_prefix="/crm/v3",
        port=0,
    ):
        self.portal_id = portal_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.private_app_token = private_app_token
        self.path_prefix = path_prefix.rstrip("/")
        self.app_id = 987654
        self.server = FakeHttpServer(port=port)
        self.clock = lambda: datetime.now(UTC)
        self.batch_207 = False
        self.reject_properties: set[str] = set()
        self.writes: list[tuple[str, str, str, dict]] = []
        self.token_requests = 0
        self.pipelines = _default_pipelines()
        self.account = {
            "portalId": portal_id,
            "accountType": "STANDARD",
            "timeZone": "Europe/Paris",
            "companyCurrency": "EUR",
            "additionalCurrencies": ["USD"],
            "utcOffset": "+01:00",
            "utcOffsetMilliseconds": 3_600_000,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "eu1",
        }
        self._lock = threading.RLock()
        self._ids = itertools.count(10_001)
        self._event_ids = itertools.count(100_000_001)
        self._subscription_ids: dict[str, int] = {}
        self._objects: dict[str, dict[str, _Record]] = {name: {} for name in OBJECT_TYPES}
        self._links: dict[tuple[str, str], dict[str, dict[str, None]]] = {}
        self._last_stamp = None
        self._codes: dict[str, dict] = {}  # auth code -> redirect_uri, scopes
        self._refresh_tokens: dict[str, list[str]] = {}  # refresh token -> scopes
        self._access_tokens: dict[str, dict] = {}  # access token -> expires_at, expired, scopes
        self._token_serial = itertools.count(1)
        self._forced_429: list[tuple[object, str]] = []
        self._window_start = None
        self._window_calls = 0
        self._daily_calls = 0
        self._register_routes()

    # Lifecycle -------------------------------------------------------------------------------

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        """Base of the API and of the OAuth endpoints (the api.hubapi.com equivalent)."""
        return self.server.url

    # Test controls ---------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """OAuth access tokens issued so far answer 401 EXPIRED_AUTHENTICATION from now on."""
        with self._lock:
            for token in self._access_tokens.values():
                token["expired"] = True

    def issue_refresh_token(self, scopes=("crm.objects.deals.read", "crm.objects.deals.write")):
        """A refresh token as if an admin had connected the app (tests of the refresh flow)."""
        with self._lock:
            token = f"fake-hs-refresh-issued-{uuid.uuid4().hex}"
            self._refresh_tokens[token] = list(scopes)
            return token

    def rate_limit_next(self, n, *, retry_after=None, policy="TEN_SECONDLY_ROLLING") -> None:
        """The next ``n`` authenticated API calls answer 429 with ``policyName`` ``policy``."""
        with self._lock:
            self._forced_429.extend([(retry_after, policy)] * n)

    # Data ------------------------------------------------------------------------------------

    def add_company(self, **properties) -> str:
        with self._lock:
            return self._create("companies", properties).id

    def add_contact(self, company_id=None, **properties) -> str:
        with self._lock:
            contact = self._create("contacts", properties)
            if company_id is not None:
                self._link("contacts", contact.id, "companies", str(company_id))
            return contact.id

    def add_product(self, name, sku=None, price=None, **properties) -> str:
        with self._lock:
            return self._create(
                "products", {"name": name, "hs_sku": sku, "price": price, **properties}
            ).id

    def add_deal(
        self,
        *,
        dealname,
        company_id=None,
        contact_ids=(),
        dealstage="closedwon",
        pipeline="default",
        amount=None,
        closedate="2026-11-02T00:00:00Z",
        line_items=(),
        deal_currency_code=None,
        **properties,
    ) -> str:
        """A deal with its company, contacts and line items (each line item to this deal only).

        Line item dicts take ``product_id``, ``quantity``, ``price``, optional ``discount`` (per
        unit), ``name`` and ``hs_sku`` (default: the product's) and any custom property. The deal
        amount defaults to the sum of the line amounts.
        """
        with self._lock:
            lines = [self._line_item_properties(line, deal_currency_code) for line in line_items]
            if amount is None and lines:
                amount = _money(sum((_number(line["amount"]) for line in lines), Decimal(0)))
            deal = self._create(
                "deals",
                {
                    "dealname": dealname,
                    "dealstage": dealstage,
                    "pipeline": pipeline,
                    "amount": amount,
                    "closedate": closedate,
                    "deal_currency_code": deal_currency_code,
                    **properties,
                },
            )
            if company_id is not None:
                self._link("deals", deal.id, "companies", str(company_id))
            for contact_id in contact_ids:
                self._link("deals", deal.id, "contacts", str(contact_id))
            for line in lines:
                self._link("deals", deal.id, "line_items", self._create("line_items", line).id)
            return deal.id

    def update(self, object_type, object_id, **properties) -> None:
        """Change an object as a HubSpot user would: stamps move, derived properties follow."""
        with self._lock:
            object_type = self._type(object_type)
            self._apply(object_type, self._record(object_type, str(object_id)), properties)

    def archive(self, object_type, object_id) -> None:
        with self._lock:
            object_type = self._type(object_type)
            self._archive(self._record(object_type, str(object_id)))

    def get(self, object_type, object_id) -> dict:
        """Every stored property of an object (not only the defaults), archived or not."""
        with self._lock:
            record = self._record(self._type(object_type), str(object_id))
            return self._serialize(record, list(record.properties))

    def ids(self, object_type, *, archived=False) -> list[str]:
        """Ids of the objects of a type, oldest first."""
        with self._lock:
            store = self._objects[self._type(object_type)]
            return [record.id for record in store.values() if record.archived == archived]

    def associated_ids(self, object_type, object_id, to_type) -> list[str]:
        with self._lock:
            return self._associated(self._type(object_type), str(object_id), self._type(to_type))

    def seed_demo(self) -> dict:
        """A small consultancy CRM: 4 customers, 5 products, closed-won deals of every billing
        model, one open deal and one won deal whose line item has an unmapped SKU (NEW-SKU)."""
        ids = {}
        customers = [
            ("globex", "Globex Corporation", "globex.com", "United States", "New York", "10001"),
            ("initech", "Initech GmbH", "initech.de", "Germany", "Berlin", "10115"),
            ("umbrella", "Umbrella Health SAS", "umbrella-health.fr", "France", "Lyon", "69002"),
            ("stark", "Stark Retail B.V.", "starkretail.nl", "Netherlands", "Amsterdam", "1012"),
        ]
        people = {
            "globex": [("Hank", "Scorpio", "CEO"), ("Mindy", "Simmons", "Procurement manager")],
            "initech": [("Bill", "Lumbergh", "Vice president")],
            "umbrella": [("Alice", "Marcus", "CIO"), ("Jill", "Valentine", "Project manager")],
            "stark": [("Pepper", "Potts", "COO")],
        }
        for key, name, domain, country, city, zip_code in customers:
            ids[f"company_{key}"] = self.add_company(
                name=name,
                domain=domain,
                phone="+1 212 555 0100" if key == "globex" else "+33 1 70 00 00 00",
                address=f"1 {name.split()[0]} Street",
                city=city,
                zip=zip_code,
                country=country,
                industry="COMPUTER_SOFTWARE",
            )
            for first, last, title in people[key]:
                ids[f"contact_{key}_{first.lower()}"] = self.add_contact(
                    ids[f"company_{key}"],
                    firstname=first,
                    lastname=last,
                    email=f"{first.lower()}.{last.lower()}@{domain}",
                    phone="+1 212 555 0199",
                    jobtitle=title,
                )
        products = [
            ("impl", "Implementation", "IMPL", "15000.00"),
            ("cons_h", "Consulting hours", "CONS-H", "150.00"),
            ("sup_ret", "Support retainer", "SUP-RET", "2000.00"),
            ("train", "Training day", "TRAIN", "1200.00"),
            ("new_sku", "Design workshop", "NEW-SKU", "3500.00"),
        ]
        for key, name, sku, price in products:
            ids[f"product_{key}"] = self.add_product(name, sku=sku, price=price)

        def line(product, quantity, price, **extra):
            return {
                "product_id": ids[f"product_{product}"],
                "quantity": quantity,
                "price": price,
                **extra,
            }

        us = {"legal_entity": "Acme Consulting US", "deal_currency_code": "USD"}
        eu = {"legal_entity": "Acme Consulting EU", "deal_currency_code": "EUR"}
        deals = [
            ("globex_erp", "Globex - ERP implementation", "globex", "hank", "2026-01-15", {
                **us, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "po_number": "PO-GLX-1001",
                "line_items": [line("impl", "1", "45000.00"), line("train", "2", "1200.00")],
            }),
            ("globex_tm", "Globex - Consulting T&M", "globex", "mindy", "2026-02-03", {
                **us, "billing_model": "Time and Materials",
                "project_template": "Standard Implementation", "tax_treatment": "Domestic",
                "cap_amount": "30000.00", "line_items": [line("cons_h", "200", "150.00")],
            }),
            ("initech_support", "Initech - Support 2026", "initech", "bill", "2026-01-05", {
                **eu, "billing_model": "Retainer", "project_template": "Support",
                "tax_treatment": "EU reverse charge", "po_number": "PO-INI-77",
                "line_items": [line("sup_ret", "1", "2000.00", hs_recurring_billing_period="P12M",
                                    recurringbillingfrequency="monthly")],
            }),
            ("umbrella_rollout", "Umbrella - Rollout", "umbrella", "alice", "2026-03-10", {
                **eu, "billing_model": "Milestones", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "po_number": "PO-UMB-2026-04",
                "line_items": [line("impl", "1", "60000.00", name="Implementation - 3 milestones"),
                               line("train", "3", "1200.00", discount="100.00")],
            }),
            ("stark_mixed", "Stark - Implementation and support", "stark", "pepper", "2026-04-01", {
                **eu, "billing_model": "Mixed", "project_template": "Standard Implementation",
                "tax_treatment": "EU reverse charge", "cap_amount": "80000.00",
                "line_items": [line("impl", "1", "25000.00", billing_model="Fixed Fee"),
                               line("cons_h", "100", "140.00", billing_model="Time and Materials"),
                               line("sup_ret", "1", "1500.00", billing_model="Retainer")],
            }),
            # In the custom pipeline: won only by hs_is_closed_won, its stage is not "closedwon".
            ("initech_training", "Initech - Training programme", "initech", "bill", "2026-05-20", {
                **eu, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "EU reverse charge", "pipeline": CUSTOM_PIPELINE_ID,
                "dealstage": CUSTOM_STAGES["won"], "line_items": [line("train", "2", "1200.00")],
            }),
            ("open", "Globex - Phase 2", "globex", "hank", "2026-12-15", {
                **us, "billing_model": "Time and Materials",
                "project_template": "Standard Implementation", "tax_treatment": "Domestic",
                "dealstage": "contractsent", "line_items": [line("cons_h", "80", "150.00")],
            }),
            ("new_sku", "Umbrella - Design workshop", "umbrella", "jill", "2026-06-30", {
                **eu, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "line_items": [line("new_sku", "1", "3500.00")],
            }),
        ]  # fmt: skip
        for key, name, company, contact, closedate, values in deals:
            deal_id = self.add_deal(
                dealname=name,
                company_id=ids[f"company_{company}"],
                contact_ids=[ids[f"contact_{company}_{contact}"]],
                closedate=f"{closedate}T00:00:00Z",
                **values,
            )
            ids[f"deal_{key}"] = deal_id
            for number, line_id in enumerate(self.associated_ids("deals", deal_id, "line_items")):
                ids[f"deal_{key}_line{number + 1}"] = line_id
        return ids

    def seed_bulk(self, n_deals, lines_per_deal=3, **deal_properties) -> list[str]:
        """``n_deals`` closed-won deals with consulting-hours lines, for paging and load tests."""
        with self._lock:
            product_id = next(
                (
                    record.id
                    for record in self._objects["products"].values()
                    if record.properties.get("hs_sku") == "CONS-H"
                ),
                None,
            ) or self.add_product("Consulting hours", sku="CONS-H", price="150.00")
            deal_ids = []
            for number in range(n_deals):
                lines = [
                    {"product_id": product_id, "quantity": str(index + 1), "price": "150.00"}
                    for index in range(lines_per_deal)
                ]
                values = {"dealname": f"Bulk deal {number + 1:05d}", **deal_properties}
                deal_ids.append(self.add_deal(line_items=lines, **values))
            return deal_ids

    # Webhooks --------------------------------------------------------------------------------

    @staticmethod
    def sign_v3(secret, method, uri, body: bytes, timestamp_ms) -> str:
        """``base64(HMAC_SHA256(secret, method + uri + body + timestamp))`` on the decoded URI."""
        uri = _V3_ESCAPES.sub(lambda match: unquote(match[0]), uri)
        source = f"{method}{uri}".encode() + body + str(timestamp_ms).encode()
        digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def event(
        self,
        subscription_type,
        object_id,
        *,
        property_name=None,
        property_value=None,
        event_id=None,
        occurred_at_ms=None,
    ) -> dict:
        """One webhook event as HubSpot sends it (several go in one request's JSON array)."""
        with self._lock:
            subscription_id = self._subscription_ids.setdefault(
                subscription_type, 234_567 + len(self._subscription_ids)
            )
            event = {
                "eventId": next(self._event_ids) if event_id is None else event_id,
                "subscriptionId": subscription_id,
                "portalId": self.portal_id,
                "appId": self.app_id,
                "occurredAt": occurred_at_ms
                if occurred_at_ms is not None
                else int(self.clock().timestamp() * 1000),
                "subscriptionType": subscription_type,
                "attemptNumber": 0,
                "objectId": int(object_id),
                "changeSource": "CRM_UI",
                "sourceId": "userId:45678",
            }
        if property_name is not None:
            event["propertyName"] = property_name
            event["propertyValue"] = _as_string(property_value)
        if subscription_type.endswith(".creation"):
            event["changeFlag"] = "CREATED"
        return event

    def webhook_request(
        self, url, secret, events: list[dict], *, timestamp_ms=None, method="POST"
    ) -> requests.Response:
        """Deliver ``events`` to ``url`` like HubSpot: JSON array body, v3 signature headers.

        The timestamp defaults to the real time (not ``clock``): the receiver checks freshness
        against its own clock.
        """
        body = json.dumps(events).encode()
        timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else int(timestamp_ms)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon",
            "X-HubSpot-Signature-v3": self.sign_v3(secret, method, url, body, timestamp_ms),
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
            "X-HubSpot-Signature-Version": "v3",
        }
        return requests.request(method, url, data=body, headers=headers, timeout=10)

    # Storage ---------------------------------------------------------------------------------

    def _type(self, name) -> str:
        try:
            return _TYPE_ALIASES[str(name).lower()]
        except KeyError:
            raise HubSpotError(
                400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR"
            ) from None

    def _record(self, object_type, object_id) -> _Record:
        try:
            return self._objects[object_type][object_id]
        except KeyError:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND") from None

    def _stamp(self) -> datetime:
        """``clock()`` to the millisecond, at least 1 ms after the previous write."""
        now = self.clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _create(self, object_type, properties) -> _Record:
        stamp = self._stamp()
        record = _Record(str(next(self._ids)), {}, stamp)
        values = {name: _as_string(value) for name, value in properties.items()}
        values.setdefault("createdate", _iso(stamp))
        record.properties = {name: value for name, value in values.items() if value is not None}
        record.properties["hs_object_id"] = record.id
        self._objects[object_type][record.id] = record
        self._derive(object_type, record, properties, stamp)
        return record

    def _apply(self, object_type, record, properties) -> None:
        stamp = self._stamp()
        for name, value in properties.items():
            value = _as_string(value)
            if value is None or value == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = value
        self._derive(object_type, record, properties, stamp)

    def _archive(self, record) -> None:
        record.archived = True
        record.archived_at = record.updated_at = self._stamp()

    def _derive(self, object_type, record, written, stamp) -> None:
        """Modification stamps and the read-only properties HubSpot calculates on every write."""
        props = record.properties
        record.updated_at = stamp
        stamp_property = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        props[stamp_property] = _iso(stamp)
        if object_type == "deals":
            metadata = self._stage_metadata(props.get("pipeline"), props.get("dealstage"))
            closed = bool(metadata) and metadata["isClosed"] == "true"
            won = closed and float(metadata["probability"]) >= 1.0
            props["hs_is_closed"] = "true" if closed else "false"
            props["hs_is_closed_won"] = "true" if won else "false"
            props["hs_is_closed_lost"] = "true" if closed and not won else "false"
            if metadata:
                props["hs_deal_stage_probability"] = metadata["probability"]
            else:
                props.pop("hs_deal_stage_probability", None)
        elif object_type == "line_items" and "amount" not in written:
            pricing = {"quantity", "price", "discount", "hs_discount_percentage"}
            if pricing & set(written) and props.get("price") is not None:
                props["amount"] = self._line_amount(props)

    @staticmethod
    def _line_amount(props) -> str:
        quantity = _number(props.get("quantity") or "1") or Decimal(0)
        price = _number(props["price"]) or Decimal(0)
        unit = price - (_number(props.get("discount") or "0") or Decimal(0))
        percentage = _number(props.get("hs_discount_percentage") or "0") or Decimal(0)
        return _money(quantity * unit * (1 - percentage / 100))

    def _line_item_properties(self, line, currency) -> dict:
        line = dict(line)
        product_id = line.pop("product_id", None)
        if product_id is not None:
            product = self._record("products", str(product_id)).properties
            line["hs_product_id"] = str(product_id)
            line.setdefault("name", product.get("name"))
            line.setdefault("hs_sku", product.get("hs_sku"))
            line.setdefault("price", product.get("price"))
        line.setdefault("name", "Line item")
        line.setdefault("quantity", "1")
        if currency:
            line.setdefault("hs_line_item_currency_code", currency)
        values = {name: _as_string(value) for name, value in line.items()}
        if values.get("amount") is None and values.get("price") is not None:
            values["amount"] = self._line_amount(values)
        return values

    def _stage_metadata(self, pipeline_id, stage_id):
        candidates = [p for p in self.pipelines if p["id"] == pipeline_id] or self.pipelines
        for pipeline in candidates:
            for stage in pipeline["stages"]:
                if stage["id"] == stage_id:
                    return stage["metadata"]
        return None

    def _link(self, from_type, from_id, to_type, to_id) -> None:
        """Associate both ways; a line item belongs to one deal, so a new deal replaces the old."""
        self._record(to_type, to_id)  # 404 when the target does not exist
        if from_type == "line_items" and to_type == "deals":
            for deal_id in list(self._links.get((from_type, from_id), {}).get("deals", {})):
                self._links[("deals", deal_id)]["line_items"].pop(from_id, None)
                self._links[(from_type, from_id)]["deals"].pop(deal_id, None)
        elif from_type == "deals" and to_type == "line_items":
            self._link(to_type, to_id, from_type, from_id)  # the line item side does the checks
            return
        self._links.setdefault((from_type, from_id), {}).setdefault(to_type, {})[to_id] = None
        self._links.setdefault((to_type, to_id), {}).setdefault(from_type, {})[from_id] = None

    def _associated(self, from_type, from_id, to_type) -> list[str]:
        return sorted(self._links.get((from_type, from_id), {}).get(to_type, {}), key=int)

    def _serialize(self, record, names) -> dict:
        properties = {name: record.properties.get(name) for name in names}
        result = {
            "id": record.id,
            "properties": properties,
            "createdAt": _iso(record.created_at),
            "updatedAt": _iso(record.updated_at),
            "archived": record.archived,
        }
        if record.archived_at:
            result["archivedAt"] = _iso(record.archived_at)
        return result

    # HTTP plumbing ---------------------------------------------------------------------------

    def _register_routes(self) -> None:
        prefix = re.escape(self.path_prefix)
        objects = f"{prefix}/objects/([^/]+)"
        api_routes = [
            ("GET", f"{objects}", self._list),
            ("GET", f"{objects}/([^/]+)", self._read),
            ("POST", f"{objects}", self._create_one),
            ("PATCH", f"{objects}/([^/]+)", self._update_one),
            ("DELETE", f"{objects}/([^/]+)", self._delete_one),
            ("POST", f"{objects}/search", self._search),
            ("POST", f"{objects}/batch/(read|update|upsert|create)", self._batch),
            ("GET", f"{prefix}/pipelines/([^/]+)", self._pipelines),
            ("GET", f"{prefix}/pipelines/([^/]+)/([^/]+)", self._pipeline),
            ("POST", r"/crm/v4/associations/([^/]+)/([^/]+)/batch/read", self._v4_batch_read),
            ("GET", r"/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)", self._v4_list),
            ("GET", r"/account-info/v3/details", self._account_details),
            ("GET", r"/account-info/v3/api-usage/daily/private-apps", self._api_usage),
        ]
        for method, pattern, handler in api_routes:
            self.server.route(method, re.compile(pattern), self._api(handler))
        oauth_routes = [
            ("GET", r"/oauth/authorize", self._authorize),
            ("POST", r"/oauth/v(?:1|3)/token", self._token),
            ("GET", r"/oauth/v1/access-tokens/([^/]+)", self._token_info),
        ]
        for method, pattern, handler in oauth_routes:
            self.server.route(method, re.compile(pattern), self._oauth(handler))

    def _api(self, handler):
        """Wrap an API handler: rate-limit headers, auth, forced 429, HubSpot error bodies."""

        def respond(request):
            with self._lock:
                headers = self._count_call()
                try:
                    self._authenticate(request)
                    self._throttle(headers)
                    status, body = handler(request, *request.match.groups())
                except HubSpotError as error:
                    status, body = error.status, error.body
                    headers.update(error.headers)
                return status, headers, body

        return respond

    def _oauth(self, handler):
        def respond(request):
            with self._lock:
                try:
                    return handler(request, *request.match.groups())
                except _OAuthError as error:
                    return 400, {}, error.body

        return respond

    def _count_call(self) -> dict:
        now = self.clock()
        if self._window_start is None or now - self._window_start >= timedelta(seconds=10):
            self._window_start, self._window_calls = now, 0
        self._window_calls += 1
        self._daily_calls += 1
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.rate_limit_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.rate_limit_max - self._window_calls)),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(
                max(0, self.daily_limit - self._daily_calls)
            ),
        }

    def _throttle(self, headers) -> None:
        if self._forced_429:
            retry_after, policy = self._forced_429.pop(0)
        elif self.enforce_rate_limit and self._window_calls > self.rate_limit_max:
            retry_after, policy = None, "TEN_SECONDLY_ROLLING"
        else:
            return
        if policy == "DAILY":
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
        else:
            headers["X-HubSpot-RateLimit-Remaining"] = "0"
        extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
        error = HubSpotError(
            429, f"You have reached your {policy.lower()} limit.", "RATE_LIMITS", extra
        )
        error.body.pop("category")  # the 429 body has errorType/policyName instead
        error.body.update(errorType="RATE_LIMIT", policyName=policy)
        raise error

    def _authenticate(self, request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token == self.private_app_token:
            return
        issued = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if issued is None:
            raise HubSpotError(401, _AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        now = self.clock()
        if issued["expired"] or now >= issued["expires_at"]:
            ago = max(0, int((now - issued["expires_at"]).total_seconds()))
            message = (
                f"The OAuth token used to make this call expired {ago} second(s) ago. "
                "Refresh it with the refresh token."
            )
            raise HubSpotError(401, message, "EXPIRED_AUTHENTICATION")

    @staticmethod
    def _json(request) -> dict:
        try:
            body = request.json()
        except ValueError as error:
            raise HubSpotError(400, f"Invalid input JSON: {error}", "VALIDATION_ERROR") from None
        if not isinstance(body, dict):
            raise HubSpotError(400, "Invalid input JSON: an object is expected", "VALIDATION_ERROR")
        return body

    @staticmethod
    def _property_names(request) -> list[str]:
        """``properties=a,b`` and/or repeated ``properties=a&properties=b``."""
        values = request.query_lists.get("properties", [])
        return [name for value in values for name in value.split(",") if name]

    def _names(self, object_type, requested) -> list[str]:
        return list(dict.fromkeys([*DEFAULT_PROPERTIES[object_type], *requested]))

    def _output(self, object_type, record, requested=(), associations=()) -> dict:
        result = self._serialize(record, self._names(object_type, requested))
        linked = {}
        for to_type in associations:
            to_ids = self._associated(object_type, record.id, to_type)
            if to_ids:  # HubSpot leaves out association types without any association
                kind = f"{OBJECT_TYPES[object_type][0]}_to_{OBJECT_TYPES[to_type][0]}"
                linked[to_type] = {"results": [{"id": i, "type": kind} for i in to_ids]}
        if linked:
            result["associations"] = linked
        return result

    def _association_types(self, request) -> list[str]:
        names = [n for v in request.query_lists.get("associations", []) for n in v.split(",") if n]
        return [self._type(name) for name in names]

    def _find(self, object_type, value, id_property=None, archived=False):
        """An object by id, or by a unique property when ``id_property`` is given."""
        store = self._objects[object_type]
        if id_property and id_property != "hs_object_id":
            for record in store.values():
                if record.properties.get(id_property) == str(value) and record.archived == archived:
                    return record
            return None
        record = store.get(str(value))
        return record if record is not None and record.archived == archived else None

    def _reject(self, object_type, properties) -> list[dict]:
        """The per-property errors a write of ``properties`` gets (reject_properties, read-only)."""
        errors = []
        for name in properties:
            if name in READ_ONLY_PROPERTIES:
                message = f"{name} is a read only property; its value cannot be set."
                code = "READ_ONLY_VALUE"
            elif name in self.reject_properties:
                message = f"Property value {properties[name]!r} is not valid for {name}."
                code = "INVALID_OPTION"
            else:
                continue
            errors.append(
                {"message": message, "code": code, "context": {"propertyName": [name]}, "in": name}
            )
        return errors

    @staticmethod
    def _validation_message(errors) -> str:
        details = [
            {"isValid": False, "message": e["message"], "error": e["code"], "name": e["in"]}
            for e in errors
        ]
        return f"Property values were not valid: {json.dumps(details)}"

    def _validate_write(self, object_type, properties) -> None:
        if not isinstance(properties, dict):
            raise HubSpotError(400, "properties must be an object", "VALIDATION_ERROR")
        errors = self._reject(object_type, properties)
        if errors:
            raise HubSpotError(
                400, self._validation_message(errors), "VALIDATION_ERROR", errors=errors
            )

    def _association_inputs(self, object_type, associations) -> list[tuple[str, str]]:
        """``[(to_type, to_id)]`` from a create body's ``associations``, validated up front."""
        links = []
        for association in associations or []:
            try:
                to_id = str(association["to"]["id"])
                type_id = int(association["types"][0]["associationTypeId"])
            except (KeyError, IndexError, TypeError, ValueError):
                raise HubSpotError(400, "Invalid association input", "VALIDATION_ERROR") from None
            to_type = next(
                (
                    to
                    for (source, to), known in ASSOCIATION_TYPE_IDS.items()
                    if source == object_type and known == type_id
                ),
                None,
            )
            if to_type is None or self._find(to_type, to_id) is None:
                message = f"Invalid association: type {type_id} to {to_id} from {object_type}"
                raise HubSpotError(400, message, "VALIDATION_ERROR")
            links.append((to_type, to_id))
        return links

    def _create_logged(self, object_type, properties, links) -> _Record:
        record = self._create(object_type, properties)
        for to_type, to_id in links:
            self._link(object_type, record.id, to_type, to_id)
        self.writes.append(("POST", object_type, record.id, properties))
        return record

    def _update_logged(self, object_type, record, properties) -> None:
        self._apply(object_type, record, properties)
        self.writes.append(("PATCH", object_type, record.id, properties))

    # Object endpoints ------------------------------------------------------------------------

    def _list(self, request, object_type):
        object_type = self._type(object_type)
        limit = min(_integer(request.query.get("limit"), 10, "limit", minimum=1), 100)
        after = _integer(request.query.get("after"), 0, "after")
        archived = request.query.get("archived", "false").lower() == "true"
        requested = self._property_names(request)
        associations = self._association_types(request)
        page = []
        next_id = None
        for record in self._objects[object_type].values():  # ids increase with insertion
            if record.archived != archived or int(record.id) < after:
                continue
            if len(page) == limit:
                next_id = record.id
                break
            page.append(self._output(object_type, record, requested, associations))
        body = {"results": page}
        if next_id is not None:
            link = f"{self.url}{request.path}?{urlencode({'after': next_id, 'limit': limit})}"
            body["paging"] = {"next": {"after": next_id, "link": link}}
        return 200, body

    def _read(self, request, object_type, object_id):
        object_type = self._type(object_type)
        archived = request.query.get("archived", "false").lower() == "true"
        record = self._find(object_type, object_id, request.query.get("idProperty"), archived)
        if record is None:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")
        requested = self._property_names(request)
        return 200, self._output(object_type, record, requested, self._association_types(request))

    def _create_one(self, request, object_type):
        object_type = self._type(object_type)
        body = self._json(request)
        properties = body.get("properties") or {}
        self._validate_write(object_type, properties)
        links = self._association_inputs(object_type, body.get("associations"))
        record = self._create_logged(object_type, properties, links)
        return 201, self._output(object_type, record, list(properties))

    def _update_one(self, request, object_type, object_id):
        object_type = self._type(object_type)
        record = self._find(object_type, object_id, request.query.get("idProperty"))
        if record is None:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")
        properties = self._json(request).get("properties") or {}
        self._validate_write(object_type, properties)
        self._update_logged(object_type, record, properties)
        return 200, self._output(object_type, record, list(properties))

    def _delete_one(self, request, object_type, object_id):
        object_type = self._type(object_type)
        record = self._find(object_type, object_id)
        if record is not None:  # HubSpot answers 204 for unknown ids too
            self._archive(record)
            self.writes.append(("DELETE", object_type, record.id, {}))
        return 204, None

    # Search ----------------------------------------------------------------------------------

    def _search(self, request, object_type):
        object_type = self._type(object_type)
        body = self._json(request)
        groups = body.get("filterGroups") or []
        self._check_filters(groups)
        limit = _integer(body.get("limit"), 10, "limit")
        offset = _integer(body.get("after"), 0, "after")
        if limit > 200:
            message = f"limit must be between 0 and 200 (got {limit}): page size is capped at 200"
            raise HubSpotError(400, message, "VALIDATION_ERROR")
        if offset >= self.search_cap:
            message = (
                f"Search results are limited to {self.search_cap} per query; after={offset} is "
                "past that limit. Narrow the query (e.g. hs_lastmodifieddate GTE the last value "
                "seen) and search again."
            )
            raise HubSpotError(400, message, "VALIDATION_ERROR")
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise HubSpotError(400, "Only one sort is supported", "VALIDATION_ERROR")
        query = str(body.get("query") or "").casefold()
        matched = [
            record
            for record in self._objects[object_type].values()
            if not record.archived
            and (not groups or any(self._group_matches(object_type, record, g) for g in groups))
            and (not query or self._query_matches(record, query))
        ]
        if sorts:
            matched = self._sorted(matched, sorts[0])
        requested = body.get("properties") or []
        page = matched[offset : min(offset + limit, self.search_cap)]
        result = {
            "total": len(matched),
            "results": [self._output(object_type, record, requested) for record in page],
        }
        if limit and offset + limit < len(matched):
            result["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, result

    def _check_filters(self, groups) -> None:
        if len(groups) > 5:
            raise HubSpotError(400, "Too many filterGroups (max 5)", "VALIDATION_ERROR")
        total = 0
        for group in groups:
            filters = group.get("filters") or []
            if len(filters) > 10:
                raise HubSpotError(
                    400, "Too many filters in a filterGroup (max 10)", "VALIDATION_ERROR"
                )
            total += len(filters)
            for search_filter in filters:
                operator = search_filter.get("operator", "EQ")
                if operator not in _OPERATORS or not search_filter.get("propertyName"):
                    message = (
                        f"Invalid filter {search_filter!r}: needs propertyName and an operator"
                    )
                    raise HubSpotError(400, message, "VALIDATION_ERROR")
                needs = {
                    "BETWEEN": ("value", "highValue"),
                    "IN": ("values",),
                    "NOT_IN": ("values",),
                }
                missing = [
                    key
                    for key in needs.get(operator, () if "PROPERTY" in operator else ("value",))
                    if search_filter.get(key) is None
                ]
                if missing:
                    message = f"Filter {search_filter!r} with operator {operator} needs {missing}"
                    raise HubSpotError(400, message, "VALIDATION_ERROR")
        if total > 25:
            raise HubSpotError(400, "Too many filters (max 25 in all groups)", "VALIDATION_ERROR")

    def _group_matches(self, object_type, record, group) -> bool:
        return all(self._matches(object_type, record, f) for f in group.get("filters") or [])

    @staticmethod
    def _query_matches(record, query) -> bool:
        searchable = ("name", "dealname", "domain", "email", "firstname", "lastname", "hs_sku")
        return any(query in (record.properties.get(name) or "").casefold() for name in searchable)

    @staticmethod
    def _comparable(name, stored, given):
        """Both sides as the same kind: epoch ms for dates, numbers, else case-folded text."""
        given = _as_string(given)
        if name in _DATE_PROPERTIES or name.endswith("_date"):
            left, right = _epoch_ms(stored), _epoch_ms(given)
            if left is not None and right is not None:
                return left, right
        left, right = _number(stored), _number(given)
        if left is not None and right is not None:
            return left, right
        return stored.casefold(), given.casefold()

    def _matches(self, object_type, record, search_filter) -> bool:
        name = search_filter["propertyName"]
        operator = search_filter.get("operator", "EQ")
        if name.startswith("associations."):  # e.g. line items of a deal: associations.deal EQ id
            linked = self._associated(object_type, record.id, self._type(name.split(".", 1)[1]))
            values = [str(v) for v in search_filter.get("values") or [search_filter.get("value")]]
            found = bool(linked) if "PROPERTY" in operator else bool(set(linked) & set(values))
            return found if operator in ("EQ", "IN", "HAS_PROPERTY") else not found
        stored = record.properties.get(name)
        if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return (stored is not None) == (operator == "HAS_PROPERTY")
        if operator in ("IN", "NOT_IN"):
            found = stored is not None and any(
                left == right
                for left, right in (
                    self._comparable(name, stored, v) for v in search_filter["values"]
                )
            )
            return found == (operator == "IN")
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(search_filter["value"]).casefold()
            text = (stored or "").casefold()
            if "*" in token:
                found = fnmatchcase(text, token)
            else:
                found = token == text or token in re.split(r"[\s,;.@/_-]+", text)
            return found == (operator == "CONTAINS_TOKEN")
        if stored is None:
            return operator == "NEQ"
        left, right = self._comparable(name, stored, search_filter["value"])
        if operator == "BETWEEN":
            high = self._comparable(name, stored, search_filter["highValue"])[1]
            try:
                return right <= left <= high
            except TypeError:
                return False
        compare = {
            "EQ": lambda a, b: a == b,
            "NEQ": lambda a, b: a != b,
            "LT": lambda a, b: a < b,
            "LTE": lambda a, b: a <= b,
            "GT": lambda a, b: a > b,
            "GTE": lambda a, b: a >= b,
        }[operator]
        try:
            return compare(left, right)
        except TypeError:  # a number against text: no match, as HubSpot would not match either
            return False

    @staticmethod
    def _sorted(records, sort) -> list:
        """One sort, ties broken by id (records arrive in id order and sorting is stable)."""
        if isinstance(sort, str):  # "-createdate" shorthand
            name, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            name, descending = sort.get("propertyName"), sort.get("direction") == "DESCENDING"
        values = [record.properties.get(name) for record in records]
        if name in _DATE_PROPERTIES or name.endswith("_date"):
            keys = [None if v is None else _epoch_ms(v) for v in values]
        elif all(_number(v) is not None for v in values if v is not None):
            keys = [None if v is None else _number(v) for v in values]
        else:
            keys = [None if v is None else v.casefold() for v in values]
        pairs = sorted(
            zip(keys, records, strict=True),
            key=lambda pair: (pair[0] is not None, pair[0] if pair[0] is not None else 0),
            reverse=descending,  # reverse keeps ties in input order: ids stay ascending
        )
        return [record for _, record in pairs]

    # Batch -----------------------------------------------------------------------------------

    def _batch(self, request, object_type, action):
        object_type = self._type(object_type)
        body = self._json(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise HubSpotError(400, "inputs must be a list", "VALIDATION_ERROR")
        if len(inputs) > 100:
            raise HubSpotError(
                400, f"Too many inputs: {len(inputs)}, the limit is 100", "VALIDATION_ERROR"
            )
        started = _iso(self.clock())
        if action == "read":
            results, errors = self._batch_read(request, object_type, body, inputs)
            status = 200
        elif action == "create":
            results, errors = self._batch_create(object_type, inputs), []
            status = 201
        else:
            results, errors = self._batch_write(request, object_type, action, body, inputs)
            status = 200
        answer = {"status": "COMPLETE", "results": results, "startedAt": started}
        answer["completedAt"] = _iso(self.clock())
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
            status = 207
        return status, answer

    def _batch_read(self, request, object_type, body, inputs):
        archived = request.query.get("archived", "false").lower() == "true"
        id_property = body.get("idProperty")
        requested = body.get("properties") or []
        results, missing = [], []
        for item in inputs:
            record = self._find(object_type, item.get("id"), id_property, archived)
            if record is None:
                missing.append(str(item.get("id")))
            elif all(r["id"] != record.id for r in results):
                results.append(self._output(object_type, record, requested))
        if not missing:
            return results, []
        label = OBJECT_TYPES[object_type][0].upper()
        message = (
            f"Could not get some {label} objects, they may be deleted or not exist. "
            "Check that ids are valid."
        )
        return results, [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": message,
                "context": {"ids": missing},
            }
        ]

    def _batch_create(self, object_type, inputs):
        prepared = []
        for item in inputs:
            properties = item.get("properties") or {}
            self._validate_write(object_type, properties)  # all or nothing
            prepared.append(
                (properties, self._association_inputs(object_type, item.get("associations")))
            )
        return [
            self._output(
                object_type, self._create_logged(object_type, properties, links), list(properties)
            )
            for properties, links in prepared
        ]

    def _batch_write(self, request, object_type, action, body, inputs):
        """batch/update and batch/upsert: validated first, then applied; 207 mode if enabled."""
        query_id_property = request.query.get("idProperty") or body.get("idProperty")
        keys = [
            (item.get("idProperty") or query_id_property, str(item.get("id"))) for item in inputs
        ]
        if action == "upsert" and any(not id_property for id_property, _ in keys):
            raise HubSpotError(400, "batch/upsert needs an idProperty", "VALIDATION_ERROR")
        if len(set(keys)) != len(keys):
            raise HubSpotError(400, "Duplicate IDs found in batch input", "VALIDATION_ERROR")
        planned, errors = [], []
        for item, (id_property, value) in zip(inputs, keys, strict=True):
            properties = item.get("properties") or {}
            record = self._find(object_type, value, id_property)
            if record is None and action == "update":
                error = {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Object {value} not found",
                    "context": {"ids": [value]},
                }
            elif problems := self._reject(object_type, properties):
                error = {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": self._validation_message(problems),
                    "errors": problems,
                    "context": {"ids": [value]},
                }
            else:
                planned.append((record, id_property, value, properties))
                continue
            if not self.batch_207:  # without the 207 mode one bad input fails the whole batch
                status = 404 if error["category"] == "OBJECT_NOT_FOUND" else 400
                extra = {key: error[key] for key in ("errors", "context") if key in error}
                raise HubSpotError(status, error["message"], error["category"], **extra)
            errors.append(error)
        results = []
        for record, id_property, value, properties in planned:
            if record is None:
                record = self._create_logged(object_type, {**properties, id_property: value}, [])
                output = {**self._output(object_type, record, list(properties)), "new": True}
            else:
                self._update_logged(object_type, record, properties)
                output = self._output(object_type, record, list(properties))
                if action == "upsert":
                    output["new"] = False
            results.append(output)
        return results, errors

    # Pipelines, associations, account --------------------------------------------------------

    def _pipelines(self, request, object_type):
        if self._type(object_type) != "deals":
            return 200, {"results": []}
        return 200, {"results": self.pipelines}

    def _pipeline(self, request, object_type, pipeline_id):
        for pipeline in self.pipelines if self._type(object_type) == "deals" else []:
            if pipeline["id"] == pipeline_id:
                return 200, pipeline
        raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")

    def _v4_to(self, from_type, from_id, to_type) -> list[dict]:
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
        kinds = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        return [
            {"toObjectId": int(to_id), "associationTypes": kinds}
            for to_id in self._associated(from_type, from_id, to_type)
        ]

    def _v4_batch_read(self, request, from_type, to_type):
        from_type, to_type = self._type(from_type), self._type(to_type)
        inputs = self._json(request).get("inputs")
        if not isinstance(inputs, list):
            raise HubSpotError(400, "inputs must be a list", "VALIDATION_ERROR")
        if len(inputs) > 1000:
            raise HubSpotError(
                400, f"Too many inputs: {len(inputs)}, the limit is 1000", "VALIDATION_ERROR"
            )
        results = []
        for item in inputs:
            from_id = str(item.get("id"))
            to = self._v4_to(from_type, from_id, to_type)
            if to:  # inputs without associations are left out, as HubSpot does
                results.append({"from": {"id": from_id}, "to": to})
        now = _iso(self.clock())
        return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def _v4_list(self, request, from_type, from_id, to_type):
        from_type, to_type = self._type(from_type), self._type(to_type)
        self._record(from_type, from_id)
        to = self._v4_to(from_type, from_id, to_type)
        limit = min(_integer(request.query.get("limit"), 500, "limit", minimum=1), 500)
        offset = _integer(request.query.get("after"), 0, "after")
        body = {"results": to[offset : offset + limit]}
        if offset + limit < len(to):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, body

    def _account_details(self, request):
        return 200, dict(self.account)

    def _api_usage(self, request):
        now = self.clock().astimezone(UTC)
        resets = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        usage = {
            "name": "api-calls-daily",
            "usageLimit": self.daily_limit,
            "currentUsage": self._daily_calls,
            "collectedAt": _iso(now),
            "fetchStatus": "SUCCESS",
            "resetsAt": _iso(resets),
        }
        return 200, {"results": [usage]}

    # OAuth -----------------------------------------------------------------------------------

    def _authorize(self, request):
        query = request.query
        if query.get("client_id") != self.client_id:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_id")
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise _OAuthError("BAD_REDIRECT_URI", "missing redirect_uri")
        code = f"fake-hs-code-{next(self._token_serial)}-{uuid.uuid4().hex[:12]}"
        self._codes[code] = {"redirect_uri": redirect_uri, "scopes": query.get("scope", "").split()}
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}, None

    def _token(self, request):
        self.token_requests += 1
        if "json" in request.headers.get("Content-Type", ""):
            try:
                form = {key: str(value) for key, value in (request.json() or {}).items()}
            except (ValueError, AttributeError):
                form = {}
        else:
            form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        if form.get("client_id") != self.client_id:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_id")
        if form.get("client_secret") != self.client_secret:
            raise _OAuthError("BAD_CLIENT_ID", "missing or invalid client_secret")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self._codes.get(form.get("code", ""))
            if grant is None:
                raise _OAuthError("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                raise _OAuthError(
                    "BAD_REDIRECT_URI", "redirect_uri does not match initial auth code URL"
                )
            del self._codes[form["code"]]  # single use
            scopes = grant["scopes"]
        elif grant_type == "refresh_token":
            scopes = self._refresh_tokens.get(form.get("refresh_token", ""))
            if scopes is None:
                raise _OAuthError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        else:
            raise _OAuthError("BAD_GRANT_TYPE", f"unsupported grant_type {grant_type!r}")
        serial = next(self._token_serial)
        access_token = f"fake-hs-access-{serial}-{uuid.uuid4().hex}"
        refresh_token = f"fake-hs-refresh-{serial}-{uuid.uuid4().hex}"
        self._refresh_tokens[refresh_token] = scopes  # older refresh tokens stay valid
        expires_at = self.clock() + timedelta(seconds=self.access_token_ttl)
        self._access_tokens[access_token] = {
            "expires_at": expires_at,
            "expired": False,
            "scopes": scopes,
        }
        return (
            200,
            {},
            {
                "token_type": "bearer",
                "refresh_token": refresh_token,
                "access_token": access_token,
                "expires_in": self.access_token_ttl,
            },
        )

    def _token_info(self, request, token):
        issued = self._access_tokens.get(token)
        remaining = 0 if issued is None else (issued["expires_at"] - self.clock()).total_seconds()
        if issued is None or issued["expired"] or remaining <= 0:
            return (
                404,
                {},
                {
                    "status": "error",
                    "message": "Token not found or expired",
                    "correlationId": str(uuid.uuid4()),
                },
            )
        return (
            200,
            {},
            {
                "token": token,
                "user": "fake.user@example.com",
                "hub_domain": "fake-portal.hubspot.com",
                "scopes": issued["scopes"],
                "hub_id": self.portal_id,
                "app_id": self.app_id,
                "expires_in": int(remaining),
                "user_id": 45678,
                "token_type": "access",
            },
        )
