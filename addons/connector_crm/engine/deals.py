"""One shape for a CRM deal, whatever the CRM: what the engagement, amendment and echo logic use.

A normalized deal is a plain JSON-able dict (it travels in job payloads and is stored on deal
versions)::

    {"id", "name", "stage", "is_won", "is_closed", "close_date" (YYYY-MM-DD), "amount",
     "currency", "description", "po_number", "legal_entity", "billing_model",
     "project_template", "tax_treatment", "cap_amount", "modified" (ISO), "deleted",
     "account": {normalized account} | None, "contacts": [{normalized contact}],
     "lines": [{"id", "product_ref", "product_code", "name", "quantity", "price_unit",
                "discount", "discount_amount", "amount", "billing_model"
                [, "frequency", "term", "payments", "total", "start_date"]}],
     "writeback": {remote field: value}}

A line's ``price_unit`` is the CRM's unit price before discount, ``discount`` a percentage,
``discount_amount`` an amount off per unit (HubSpot's ``discount``) and ``amount`` the line's
total as the CRM states it (Salesforce ``TotalPrice``, HubSpot ``amount``): the Odoo line is
priced to give that total (engine/pricing.py).

A line the CRM sells per period also carries, when the CRM sets them, its billing
``frequency`` (HubSpot ``recurringbillingfrequency``), ``term`` (``hs_recurring_billing_period``,
e.g. ``P12M``, or ``hs_term_in_months``), ``payments`` (``hs_recurring_billing_number_of_payments``),
``total`` (``hs_tcv``, the total contract value: a recurring line's ``amount`` is one period's)
and ``start_date`` (``hs_recurring_billing_start_date``; Salesforce ``ServiceDate``). They are
left out when empty, so that other lines keep their fingerprint (engine/periodic.py reads them).

``fingerprint_payload`` is what matters to Odoo (not the modification stamp, nor the fields Odoo
itself writes back); its hash is the binding's payload hash, so that our own write-back
returning in the next pull is recognised as an echo (connector_base's ``payload_hash``, the one
hash of the suite).
"""

from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.connector_base.engine.hashing import payload_hash

from . import hubspot as hs
from . import pricing
from . import salesforce as sf

# Keys of the normalized deal that Odoo does not react to.
NOT_FINGERPRINTED = ("modified", "writeback")

# Normalized account/contact keys and the remote fields they come from (and go back to).
SF_ACCOUNT_FIELDS = {
    "name": "Name",
    "phone": "Phone",
    "website": "Website",
    "street": "BillingStreet",
    "city": "BillingCity",
    "zip": "BillingPostalCode",
    "state": "BillingState",
    "country": "BillingCountry",
    "ref": "AccountNumber",
    "industry": "Industry",
}
SF_CONTACT_FIELDS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone": "Phone",
    "mobile": "MobilePhone",
    "function": "Title",
}
HS_COMPANY_FIELDS = {
    "name": "name",
    "phone": "phone",
    "website": "domain",
    "street": "address",
    "city": "city",
    "zip": "zip",
    "state": "state",
    "country": "country",
    "ref": "odoo_customer_ref",
    "industry": "industry",
}
HS_CONTACT_FIELDS = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "email",
    "phone": "phone",
    "mobile": "mobilephone",
    "function": "jobtitle",
}

# Deal-level custom fields (defaults; each backend may rename them).
SF_DEAL_FIELD_DEFAULTS = {
    "legal_entity": "Legal_Entity__c",
    "billing_model": "Billing_Model__c",
    "project_template": "Project_Template__c",
    "tax_treatment": "Tax_Treatment__c",
    "po_number": "PO_Number__c",
    "cap_amount": "Cap_Amount__c",
    "line_billing_model": "Billing_Model__c",
}
HS_DEAL_FIELD_DEFAULTS = {
    "legal_entity": "legal_entity",
    "billing_model": "billing_model",
    "project_template": "project_template",
    "tax_treatment": "tax_treatment",
    "po_number": "po_number",
    "cap_amount": "cap_amount",
    "line_billing_model": "billing_model",
}


def fingerprint_payload(deal: dict) -> dict:
    """The part of a normalized deal Odoo reacts to (what the binding's hash covers)."""
    return {key: value for key, value in deal.items() if key not in NOT_FINGERPRINTED}


def fingerprint(deal: dict) -> str:
    return payload_hash(fingerprint_payload(deal))


def record_fingerprint(values: dict) -> str:
    return payload_hash(values)


def _text(value):
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value):
    text = _text(value)
    return text[:10] if text else None


def _periodic(values: dict) -> dict:
    """The periodic keys a CRM line sets (empty ones left out: the fingerprint of a line that
    has none stays what it was)."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def full_name(contact: dict) -> str:
    parts = [contact.get("first_name"), contact.get("last_name")]
    return " ".join(part for part in parts if part) or contact.get("email") or ""


def _normalize(record: dict, mapping: dict) -> dict:
    return {key: _text(record.get(remote)) for key, remote in mapping.items()}


# Salesforce ----------------------------------------------------------------------------------


def mapped(record: dict, field_names: dict, key: str):
    """The value of the deal field ``key`` in a CRM record; None when the field is unmapped."""
    name = field_names.get(key)
    return record.get(name) if name else None


def sf_opportunity_fields(field_names: dict, writeback_fields=(), multicurrency=False) -> list[str]:
    """SELECT list of the deal query: the opportunity, its account, lines and contact roles.

    Unmapped deal fields (no name on the backend) are not selected. ``CurrencyIsoCode`` exists
    only in multi-currency orgs (selecting it elsewhere is an INVALID_FIELD): without it a deal
    is in its legal entity's currency."""
    custom = [
        field_names[key]
        for key in SF_DEAL_FIELD_DEFAULTS
        if key != "line_billing_model" and field_names.get(key)
    ]
    account = [f"Account.{name}" for name in SF_ACCOUNT_FIELDS.values()]
    contacts = ", ".join(
        ["ContactId", "IsPrimary"] + [f"Contact.{name}" for name in SF_CONTACT_FIELDS.values()]
    )
    line_fields = ["Id", "Product2Id", "ProductCode", "Name", "Quantity", "UnitPrice"]
    line_fields += ["Discount", "TotalPrice", "ServiceDate", "Description"]
    if field_names.get("line_billing_model"):
        line_fields.append(field_names["line_billing_model"])
    lines = ", ".join(dict.fromkeys(line_fields))
    fields = [
        "Id",
        "Name",
        "AccountId",
        "StageName",
        "IsClosed",
        "IsWon",
        "CloseDate",
        "Amount",
        "Description",
        "SystemModstamp",
        *(["CurrencyIsoCode"] if multicurrency else []),
        *dict.fromkeys(custom),
        *dict.fromkeys(writeback_fields),
        *account,
        f"(SELECT {lines} FROM OpportunityLineItems)",
        f"(SELECT {contacts} FROM OpportunityContactRoles)",
    ]
    return list(dict.fromkeys(fields))  # a field selected twice is a MALFORMED_QUERY


def _children(record, relation):
    """The records of a sub-query; an incomplete set (``done`` false: the client did not read
    its ``nextRecordsUrl``) is refused rather than imported as a deal with part of its lines."""
    value = record.get(relation)
    if isinstance(value, dict):
        if value.get("done") is False:
            raise BusinessError(
                f"Salesforce returned only {len(value.get('records') or [])} of the "
                f"{value.get('totalSize', '?')} {relation} of {record.get('Id')}: the rest was "
                "not read, so the deal is not imported with part of its lines. Retry the job."
            )
        return value.get("records") or []
    return value or []


def sf_normalize_opportunity(record: dict, field_names: dict, writeback_fields=()) -> dict:
    account = record.get("Account")
    lines = []
    for line in _children(record, "OpportunityLineItems"):
        quantity = _number(line.get("Quantity")) or 0.0
        price = _number(line.get("UnitPrice")) or 0.0
        percent = _number(line.get("Discount")) or 0.0
        amount = _number(line.get("TotalPrice"))
        if amount is None:
            amount = pricing.salesforce_amount(quantity, price, percent)
        lines.append(
            {
                "id": line.get("Id"),
                "product_ref": _text(line.get("Product2Id")),
                "product_code": _text(line.get("ProductCode")),
                "name": _text(line.get("Name")) or "",
                "quantity": quantity,
                "price_unit": price,
                "discount": percent,
                "discount_amount": 0.0,
                "amount": amount,
                "billing_model": _text(mapped(line, field_names, "line_billing_model")),
                **_periodic({"start_date": _date(line.get("ServiceDate"))}),
            }
        )
    contacts = []
    for role in sorted(
        _children(record, "OpportunityContactRoles"), key=lambda r: not r.get("IsPrimary")
    ):
        contact = role.get("Contact") or {}
        values = _normalize(contact, SF_CONTACT_FIELDS)
        values["id"] = role.get("ContactId")
        values["primary"] = bool(role.get("IsPrimary"))
        contacts.append(values)
    modified = sf.parse_datetime(record.get("SystemModstamp"))
    deal = {
        "id": record["Id"],
        "name": _text(record.get("Name")) or record["Id"],
        "stage": _text(record.get("StageName")),
        "is_won": bool(record.get("IsWon")),
        "is_closed": bool(record.get("IsClosed")),
        "close_date": _date(record.get("CloseDate")),
        "amount": _number(record.get("Amount")),
        "currency": _text(record.get("CurrencyIsoCode")),
        "description": _text(record.get("Description")),
        "deleted": bool(record.get("IsDeleted")),
        "modified": modified.isoformat() if modified else None,
        "account": None,
        "contacts": contacts,
        "lines": sorted(lines, key=lambda line: line["id"] or ""),
        "writeback": {name: record.get(name) for name in writeback_fields if name in record},
    }
    for key in ("legal_entity", "billing_model", "project_template", "tax_treatment", "po_number"):
        deal[key] = _text(mapped(record, field_names, key))
    deal["cap_amount"] = _number(mapped(record, field_names, "cap_amount"))
    if record.get("AccountId"):
        deal["account"] = dict(_normalize(account or {}, SF_ACCOUNT_FIELDS), id=record["AccountId"])
    return deal


def sf_account_values(record: dict) -> dict:
    return dict(_normalize(record, SF_ACCOUNT_FIELDS), id=record.get("Id"))


def sf_contact_values(record: dict) -> dict:
    values = _normalize(record, SF_CONTACT_FIELDS)
    values.update(id=record.get("Id"), account_id=record.get("AccountId"))
    return values


# HubSpot -------------------------------------------------------------------------------------

HS_DEAL_PROPERTIES = (
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "description",
    "deal_currency_code",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_lastmodifieddate",
)
# ``discount`` is an amount off per unit, ``hs_discount_percentage`` a percentage, ``amount``
# the line's total after discount (HubSpot's "Net price").
HS_LINE_PROPERTIES = (
    "name",
    "quantity",
    "price",
    "amount",
    "discount",
    "hs_discount_percentage",
    "hs_product_id",
    "hs_sku",
    # Recurring line items: the price and ``amount`` are per billing period.
    "recurringbillingfrequency",
    "hs_recurring_billing_period",
    "hs_term_in_months",
    "hs_recurring_billing_number_of_payments",
    "hs_recurring_billing_start_date",
    "hs_tcv",
)


def hs_deal_properties(field_names: dict, writeback_fields=()) -> list[str]:
    custom = [
        field_names[key]
        for key in HS_DEAL_FIELD_DEFAULTS
        if key != "line_billing_model" and field_names.get(key)
    ]
    return list(dict.fromkeys([*HS_DEAL_PROPERTIES, *custom, *writeback_fields]))


def hs_line_properties(field_names: dict) -> list[str]:
    extra = [field_names["line_billing_model"]] if field_names.get("line_billing_model") else []
    return list(dict.fromkeys([*HS_LINE_PROPERTIES, *extra]))


def _truthy(value) -> bool:
    return str(value).strip().lower() == "true"


def hs_normalize_deal(
    record, field_names, *, company=None, contacts=(), line_items=(), writeback_fields=()
):
    props = record.get("properties") or {}
    lines = []
    for item in line_items:
        p = item.get("properties") or {}
        quantity = _number(p.get("quantity")) or 0.0
        price = _number(p.get("price")) or 0.0
        percent = _number(p.get("hs_discount_percentage")) or 0.0
        per_unit = _number(p.get("discount")) or 0.0
        amount = _number(p.get("amount"))
        if amount is None:
            amount = pricing.hubspot_amount(quantity, price, percent, per_unit)
        lines.append(
            {
                "id": str(item["id"]),
                "product_ref": _text(p.get("hs_product_id")),
                "product_code": _text(p.get("hs_sku")),
                "name": _text(p.get("name")) or "",
                "quantity": quantity,
                "price_unit": price,
                "discount": percent,
                "discount_amount": per_unit,
                "amount": amount,
                "billing_model": _text(mapped(p, field_names, "line_billing_model")),
                **_periodic(
                    {
                        "frequency": _text(p.get("recurringbillingfrequency")),
                        "term": _text(p.get("hs_recurring_billing_period"))
                        or _text(p.get("hs_term_in_months")),
                        "payments": _number(p.get("hs_recurring_billing_number_of_payments")),
                        # one period's amount x the payments; of a one-time line, its amount
                        "total": _number(p.get("hs_tcv"))
                        if _text(p.get("recurringbillingfrequency"))
                        else None,
                        "start_date": _date(p.get("hs_recurring_billing_start_date")),
                    }
                ),
            }
        )
    normalized_contacts = []
    for index, contact in enumerate(contacts):
        values = _normalize(contact.get("properties") or {}, HS_CONTACT_FIELDS)
        values.update(id=str(contact["id"]), primary=index == 0)
        normalized_contacts.append(values)
    modified = hs.parse_datetime(props.get("hs_lastmodifieddate") or record.get("updatedAt"))
    deal = {
        "id": str(record["id"]),
        "name": _text(props.get("dealname")) or str(record["id"]),
        "stage": _text(props.get("dealstage")),
        "is_won": _truthy(props.get("hs_is_closed_won")),
        "is_closed": _truthy(props.get("hs_is_closed")),
        "close_date": _date(props.get("closedate")),
        "amount": _number(props.get("amount")),
        "currency": _text(props.get("deal_currency_code")),
        "description": _text(props.get("description")),
        "deleted": bool(record.get("archived")),
        "modified": modified.isoformat() if modified else None,
        "account": None,
        "contacts": normalized_contacts,
        "lines": sorted(lines, key=lambda line: line["id"]),
        "writeback": {name: props.get(name) for name in writeback_fields if name in props},
    }
    for key in ("legal_entity", "billing_model", "project_template", "tax_treatment", "po_number"):
        deal[key] = _text(mapped(props, field_names, key))
    deal["cap_amount"] = _number(mapped(props, field_names, "cap_amount"))
    if company:
        deal["account"] = dict(
            _normalize(company.get("properties") or {}, HS_COMPANY_FIELDS), id=str(company["id"])
        )
    return deal


def hs_company_values(record: dict) -> dict:
    return dict(_normalize(record.get("properties") or {}, HS_COMPANY_FIELDS), id=str(record["id"]))


def hs_contact_values(record: dict) -> dict:
    return dict(_normalize(record.get("properties") or {}, HS_CONTACT_FIELDS), id=str(record["id"]))
