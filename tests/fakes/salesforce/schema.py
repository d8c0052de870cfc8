"""The fake org's schema: objects, fields, relationships, stages; timestamp formats."""

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

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


def _id_suffix(base15):
    """The 3-character checksum that turns a 15-character Salesforce Id into 18 characters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        part = base15[chunk * 5 : chunk * 5 + 5]
        bits = sum(1 << index for index, char in enumerate(part) if "A" <= char <= "Z")
        suffix += alphabet[bits]
    return suffix


def money(value) -> float:
    """A currency amount as Salesforce stores it: two decimals, halves rounded up."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.01"), ROUND_HALF_UP))
