"""One shape for a CRM deal, whatever the CRM: what the engagement, amendment and echo logic use.

A normalized deal is a plain JSON-able dict (it travels in job payloads and is stored on deal
versions)::

    {"id", "name", "stage", "is_won", "is_closed", "close_date" (YYYY-MM-DD), "amount",
     "currency", "description", "po_number", "legal_entity", "billing_model",
     "project_template", "tax_treatment", "cap_amount", "modified" (ISO), "deleted",
     "account": {normalized account} | None, "contacts": [{normalized contact}],
     "lines": [{"id", "product_ref", "product_code", "name", "quantity", "price_unit",
                "discount", "billing_model"}],
     "writeback": {remote field: value}}

``fingerprint`` hashes what matters to Odoo (not the modification stamp, nor the fields Odoo
itself writes back), so our own write-back returning in the next pull is recognised as an echo.
"""

import hashlib
import json

from . import hubspot as hs
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


def fingerprint(deal: dict) -> str:
    relevant = {key: value for key, value in deal.items() if key not in NOT_FINGERPRINTED}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()


def record_fingerprint(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


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


def full_name(contact: dict) -> str:
    parts = [contact.get("first_name"), contact.get("last_name")]
    return " ".join(part for part in parts if part) or contact.get("email") or ""


def _normalize(record: dict, mapping: dict) -> dict:
    return {key: _text(record.get(remote)) for key, remote in mapping.items()}


# Salesforce ----------------------------------------------------------------------------------


def sf_opportunity_fields(field_names: dict, writeback_fields=(), multicurrency=False) -> list[str]:
    """SELECT list of the deal query: the opportunity, its account, lines and contact roles.

    ``CurrencyIsoCode`` exists only in multi-currency orgs (selecting it elsewhere is an
    INVALID_FIELD): without it a deal is in its legal entity's currency."""
    custom = [field_names[key] for key in SF_DEAL_FIELD_DEFAULTS if key != "line_billing_model"]
    account = [f"Account.{name}" for name in SF_ACCOUNT_FIELDS.values()]
    contacts = ", ".join(
        ["ContactId", "IsPrimary"] + [f"Contact.{name}" for name in SF_CONTACT_FIELDS.values()]
    )
    lines = ", ".join(
        [
            "Id",
            "Product2Id",
            "ProductCode",
            "Name",
            "Quantity",
            "UnitPrice",
            "Discount",
            "Description",
            field_names["line_billing_model"],
        ]
    )
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
    value = record.get(relation)
    if isinstance(value, dict):
        return value.get("records") or []
    return value or []


def sf_normalize_opportunity(record: dict, field_names: dict, writeback_fields=()) -> dict:
    account = record.get("Account")
    lines = []
    for line in _children(record, "OpportunityLineItems"):
        lines.append(
            {
                "id": line.get("Id"),
                "product_ref": _text(line.get("Product2Id")),
                "product_code": _text(line.get("ProductCode")),
                "name": _text(line.get("Name")) or "",
                "quantity": _number(line.get("Quantity")) or 0.0,
                "price_unit": _number(line.get("UnitPrice")) or 0.0,
                "discount": _number(line.get("Discount")) or 0.0,
                "billing_model": _text(line.get(field_names["line_billing_model"])),
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
        deal[key] = _text(record.get(field_names[key]))
    deal["cap_amount"] = _number(record.get(field_names["cap_amount"]))
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
HS_LINE_PROPERTIES = ("name", "quantity", "price", "discount", "hs_product_id", "hs_sku")


def hs_deal_properties(field_names: dict, writeback_fields=()) -> list[str]:
    custom = [field_names[key] for key in HS_DEAL_FIELD_DEFAULTS if key != "line_billing_model"]
    return list(dict.fromkeys([*HS_DEAL_PROPERTIES, *custom, *writeback_fields]))


def hs_line_properties(field_names: dict) -> list[str]:
    return list(dict.fromkeys([*HS_LINE_PROPERTIES, field_names["line_billing_model"]]))


def _truthy(value) -> bool:
    return str(value).strip().lower() == "true"


def hs_normalize_deal(
    record, field_names, *, company=None, contacts=(), line_items=(), writeback_fields=()
):
    props = record.get("properties") or {}
    lines = []
    for item in line_items:
        p = item.get("properties") or {}
        lines.append(
            {
                "id": str(item["id"]),
                "product_ref": _text(p.get("hs_product_id")),
                "product_code": _text(p.get("hs_sku")),
                "name": _text(p.get("name")) or "",
                "quantity": _number(p.get("quantity")) or 0.0,
                "price_unit": _number(p.get("price")) or 0.0,
                "discount": _number(p.get("discount")) or 0.0,
                "billing_model": _text(p.get(field_names["line_billing_model"])),
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
        deal[key] = _text(props.get(field_names[key]))
    deal["cap_amount"] = _number(props.get(field_names["cap_amount"]))
    if company:
        deal["account"] = dict(
            _normalize(company.get("properties") or {}, HS_COMPANY_FIELDS), id=str(company["id"])
        )
    return deal


def hs_company_values(record: dict) -> dict:
    return dict(_normalize(record.get("properties") or {}, HS_COMPANY_FIELDS), id=str(record["id"]))


def hs_contact_values(record: dict) -> dict:
    return dict(_normalize(record.get("properties") or {}, HS_CONTACT_FIELDS), id=str(record["id"]))
