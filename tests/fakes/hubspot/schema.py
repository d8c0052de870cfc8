"""HubSpot's object types, default properties, association types, pipelines; value formats."""

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import HubSpotError

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
    "hs_term_in_months",
    "hs_tcv",
    "hs_mrr",
    "hs_acv",
}

# Line items: billing frequencies (recurringbillingfrequency) and their length in months, and
# the properties HubSpot calculates from a line's billing terms (store._line_terms).
FREQUENCY_MONTHS = {
    "weekly": 0,
    "biweekly": 0,
    "monthly": 1,
    "quarterly": 3,
    "per_six_months": 6,
    "annually": 12,
    "per_two_years": 24,
    "per_three_years": 36,
    "per_four_years": 48,
    "per_five_years": 60,
}
RECURRING_DERIVED = (
    "hs_term_in_months",
    "hs_recurring_billing_number_of_payments",
    "hs_tcv",
    "hs_mrr",
    "hs_acv",
)
_ISO_MONTHS = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?$")


def _iso_months(value):
    """Months of an ISO-8601 period (``P12M``, ``P1Y``, ``P1Y6M``); None when not one."""
    match = _ISO_MONTHS.match(str(value or "").strip().upper())
    if not match or not (match[1] or match[2]):
        return None
    return int(match[1] or 0) * 12 + int(match[2] or 0)


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
        value = value.quantize(Decimal("0.01"), ROUND_HALF_UP)
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
