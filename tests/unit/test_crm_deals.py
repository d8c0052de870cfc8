"""One shape for a CRM deal (engine/deals.py) and the clients' small helpers."""

import pytest

from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.connector_crm.engine import deals, hubspot
from odoo.addons.connector_crm.engine import salesforce as sf

# Deal shapes ---------------------------------------------------------------------------------


FIELD_NAMES = dict(deals.SF_DEAL_FIELD_DEFAULTS, legal_entity="Entity__c", cap_amount="Cap__c")


def sf_record():
    """An Opportunity as the deal query returns it (relationships, child subqueries)."""
    return {
        "attributes": {
            "type": "Opportunity",
            "url": "/services/data/v62.0/sobjects/Opportunity/006A",
        },
        "Id": "006A",
        "Name": "  Globex - Process consulting ",
        "AccountId": "001G",
        "StageName": "Closed Won",
        "IsClosed": True,
        "IsWon": True,
        "CloseDate": "2026-05-20",
        "Amount": 28500.0,
        "CurrencyIsoCode": "EUR",
        "Description": "",
        "SystemModstamp": "2026-05-20T14:03:07.000+0000",
        "Entity__c": "Acme Consulting EU",
        "Billing_Model__c": "Time and Materials",
        "Project_Template__c": "Standard Implementation",
        "Tax_Treatment__c": "EU reverse charge",
        "PO_Number__c": "4500012345",
        "Cap__c": 30000.0,
        "Odoo_Id__c": "SO042",
        "Account": {
            "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001G"},
            "Name": "Globex GmbH",
            "Phone": "+49 30 5550 1200",
            "Website": "https://globex.example.de",
            "BillingStreet": "Friedrichstrasse 68",
            "BillingCity": "Berlin",
            "BillingPostalCode": "10117",
            "BillingState": None,
            "BillingCountry": "Germany",
            "AccountNumber": "CUST-1002",
            "Industry": "Manufacturing",
        },
        "OpportunityLineItems": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "OpportunityLineItem"},
                    "Id": "00kB",
                    "Product2Id": "01tT",
                    "ProductCode": "TRAIN",
                    "Name": "Training day",
                    "Quantity": 2.0,
                    "UnitPrice": 1200.0,
                    "Discount": None,
                    "Description": None,
                    "Billing_Model__c": None,
                },
                {
                    "attributes": {"type": "OpportunityLineItem"},
                    "Id": "00kA",
                    "Product2Id": "01tC",
                    "ProductCode": "CONS-H",
                    "Name": "Consulting hours",
                    "Quantity": 200.0,
                    "UnitPrice": 150.0,
                    "Discount": 5.0,
                    "TotalPrice": 28500.0,
                    "Description": "Senior consultants",
                    "Billing_Model__c": "Time and Materials",
                },
            ],
        },
        "OpportunityContactRoles": {
            "totalSize": 2,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "OpportunityContactRole"},
                    "ContactId": "003J",
                    "IsPrimary": False,
                    "Contact": {
                        "attributes": {"type": "Contact"},
                        "FirstName": "Jonas",
                        "LastName": "Weber",
                        "Email": "jonas.weber@globex.example.de",
                        "Phone": None,
                        "MobilePhone": "+49 170 555",
                        "Title": "IT Director",
                    },
                },
                {
                    "attributes": {"type": "OpportunityContactRole"},
                    "ContactId": "003G",
                    "IsPrimary": True,
                    "Contact": {
                        "attributes": {"type": "Contact"},
                        "FirstName": "Greta",
                        "LastName": "Keller",
                        "Email": "greta.keller@globex.example.de",
                        "Phone": "+49 30 5550 1200",
                        "MobilePhone": None,
                        "Title": "Head of Finance",
                    },
                },
            ],
        },
    }


def test_sf_normalize_opportunity():
    deal = deals.sf_normalize_opportunity(sf_record(), FIELD_NAMES, ["Odoo_Id__c", "Missing__c"])
    assert deal == {
        "id": "006A",
        "name": "Globex - Process consulting",
        "stage": "Closed Won",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-05-20",
        "amount": 28500.0,
        "currency": "EUR",
        "description": None,
        "deleted": False,
        "modified": "2026-05-20T14:03:07",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Time and Materials",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": "4500012345",
        "cap_amount": 30000.0,
        "account": {
            "id": "001G",
            "name": "Globex GmbH",
            "phone": "+49 30 5550 1200",
            "website": "https://globex.example.de",
            "street": "Friedrichstrasse 68",
            "city": "Berlin",
            "zip": "10117",
            "state": None,
            "country": "Germany",
            "ref": "CUST-1002",
            "industry": "Manufacturing",
        },
        "contacts": [
            {
                "id": "003G",
                "primary": True,
                "first_name": "Greta",
                "last_name": "Keller",
                "email": "greta.keller@globex.example.de",
                "phone": "+49 30 5550 1200",
                "mobile": None,
                "function": "Head of Finance",
            },
            {
                "id": "003J",
                "primary": False,
                "first_name": "Jonas",
                "last_name": "Weber",
                "email": "jonas.weber@globex.example.de",
                "phone": None,
                "mobile": "+49 170 555",
                "function": "IT Director",
            },
        ],
        "lines": [
            {
                "id": "00kA",
                "product_ref": "01tC",
                "product_code": "CONS-H",
                "name": "Consulting hours",
                "quantity": 200.0,
                "price_unit": 150.0,
                "discount": 5.0,
                "discount_amount": 0.0,
                "amount": 28500.0,
                "billing_model": "Time and Materials",
            },
            {
                "id": "00kB",
                "product_ref": "01tT",
                "product_code": "TRAIN",
                "name": "Training day",
                "quantity": 2.0,
                "price_unit": 1200.0,
                "discount": 0.0,
                "discount_amount": 0.0,
                "amount": 2400.0,  # no TotalPrice selected: Salesforce's own formula
                "billing_model": None,
            },
        ],
        "writeback": {"Odoo_Id__c": "SO042"},
    }


def test_sf_normalize_opportunity_without_account_children_or_name():
    record = {
        "Id": "006B",
        "Name": None,
        "AccountId": None,
        "Account": None,
        "IsDeleted": True,
        "OpportunityLineItems": None,
        "OpportunityContactRoles": None,
        "SystemModstamp": "2026-05-20T16:03:07.000+0200",
        "Amount": "not a number",
    }
    deal = deals.sf_normalize_opportunity(record, deals.SF_DEAL_FIELD_DEFAULTS)
    assert deal["name"] == "006B"
    assert deal["account"] is None
    assert deal["lines"] == deal["contacts"] == []
    assert deal["deleted"] is True
    assert deal["modified"] == "2026-05-20T14:03:07"  # converted to UTC
    assert deal["amount"] is None
    assert deal["writeback"] == {}


def test_sf_opportunity_fields_select_the_renamed_custom_and_writeback_fields_once():
    fields = deals.sf_opportunity_fields(FIELD_NAMES, ["Odoo_Id__c", "Entity__c"])
    assert fields.count("Entity__c") == 1
    assert fields.count("Billing_Model__c") == 1
    assert "Legal_Entity__c" not in fields
    assert {"Cap__c", "Odoo_Id__c", "Account.Name", "Account.BillingCity"} <= set(fields)
    assert fields[-2] == (
        "(SELECT Id, Product2Id, ProductCode, Name, Quantity, UnitPrice, Discount, TotalPrice, "
        "ServiceDate, Description, Billing_Model__c FROM OpportunityLineItems)"
    )
    assert fields[-1].startswith("(SELECT ContactId, IsPrimary, Contact.FirstName")
    assert fields[-1].endswith("FROM OpportunityContactRoles)")


def hs_deal_record(**properties):
    props = {
        "dealname": "Stark - Implementation and support",
        "dealstage": "closedwon",
        "pipeline": "default",
        "amount": "40500.00",
        "closedate": "2026-04-01T00:00:00Z",
        "description": None,
        "deal_currency_code": "EUR",
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_lastmodifieddate": "2026-04-01T09:15:30.250Z",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Mixed",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": "",
        "cap_amount": "80000.00",
        "odoo_sale_order": "SO042",
    }
    props.update(properties)
    return {
        "id": "20001",
        "properties": props,
        "createdAt": "2026-03-01T08:00:00Z",
        "updatedAt": "2026-04-01T09:15:30.250Z",
        "archived": False,
    }


HS_COMPANY = {
    "id": 10001,
    "properties": {
        "name": "Stark Retail B.V.",
        "domain": "starkretail.nl",
        "phone": "+31 20 000",
        "address": "1 Stark Street",
        "city": "Amsterdam",
        "zip": "1012",
        "state": None,
        "country": "Netherlands",
        "odoo_customer_ref": "CUST-4",
        "industry": "RETAIL",
    },
}
HS_CONTACTS = [
    {
        "id": "10002",
        "properties": {
            "firstname": "Pepper",
            "lastname": "Potts",
            "email": "pepper.potts@starkretail.nl",
            "phone": "+31 20 001",
            "mobilephone": None,
            "jobtitle": "COO",
        },
    },
    {"id": "10003", "properties": {"firstname": "Happy", "lastname": "Hogan", "email": None}},
]
HS_LINES = [
    {
        "id": "30010",
        "properties": {
            "name": "Consulting hours",
            "quantity": "100",
            "price": "140.00",
            "discount": None,
            "hs_discount_percentage": "12.5",
            "amount": "12250.00",
            "hs_product_id": "40002",
            "hs_sku": "CONS-H",
            "billing_model": "Time and Materials",
        },
    },
    {
        "id": "30009",
        "properties": {
            "name": "Implementation",
            "quantity": "1",
            "price": "25000.00",
            "discount": "500.00",
            "hs_product_id": "40001",
            "hs_sku": "IMPL",
            "billing_model": "Fixed Fee",
        },
    },
]


def test_hs_normalize_deal():
    deal = deals.hs_normalize_deal(
        hs_deal_record(),
        deals.HS_DEAL_FIELD_DEFAULTS,
        company=HS_COMPANY,
        contacts=HS_CONTACTS,
        line_items=HS_LINES,
        writeback_fields=["odoo_sale_order", "odoo_project"],
    )
    assert deal == {
        "id": "20001",
        "name": "Stark - Implementation and support",
        "stage": "closedwon",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-04-01",
        "amount": 40500.0,
        "currency": "EUR",
        "description": None,
        "deleted": False,
        "modified": "2026-04-01T09:15:30.250000",
        "legal_entity": "Acme Consulting EU",
        "billing_model": "Mixed",
        "project_template": "Standard Implementation",
        "tax_treatment": "EU reverse charge",
        "po_number": None,
        "cap_amount": 80000.0,
        "account": {
            "id": "10001",
            "name": "Stark Retail B.V.",
            "phone": "+31 20 000",
            "website": "starkretail.nl",
            "street": "1 Stark Street",
            "city": "Amsterdam",
            "zip": "1012",
            "state": None,
            "country": "Netherlands",
            "ref": "CUST-4",
            "industry": "RETAIL",
        },
        "contacts": [
            {
                "id": "10002",
                "primary": True,
                "first_name": "Pepper",
                "last_name": "Potts",
                "email": "pepper.potts@starkretail.nl",
                "phone": "+31 20 001",
                "mobile": None,
                "function": "COO",
            },
            {
                "id": "10003",
                "primary": False,
                "first_name": "Happy",
                "last_name": "Hogan",
                "email": None,
                "phone": None,
                "mobile": None,
                "function": None,
            },
        ],
        "lines": [
            {
                "id": "30009",
                "product_ref": "40001",
                "product_code": "IMPL",
                "name": "Implementation",
                "quantity": 1.0,
                "price_unit": 25000.0,
                "discount": 0.0,  # HubSpot's "discount" is an amount off per unit
                "discount_amount": 500.0,
                "amount": 24500.0,  # no amount sent: HubSpot's own formula
                "billing_model": "Fixed Fee",
            },
            {
                "id": "30010",
                "product_ref": "40002",
                "product_code": "CONS-H",
                "name": "Consulting hours",
                "quantity": 100.0,
                "price_unit": 140.0,
                "discount": 12.5,  # hs_discount_percentage
                "discount_amount": 0.0,
                "amount": 12250.0,
                "billing_model": "Time and Materials",
            },
        ],
        "writeback": {"odoo_sale_order": "SO042"},
    }


def test_hs_normalize_open_archived_deal_without_company():
    record = hs_deal_record(
        hs_is_closed="false",
        hs_is_closed_won="false",
        hs_lastmodifieddate=None,
        amount="",
        dealname=" ",
    )
    record["archived"] = True
    deal = deals.hs_normalize_deal(record, deals.HS_DEAL_FIELD_DEFAULTS)
    assert (deal["is_won"], deal["is_closed"], deal["deleted"]) == (False, False, True)
    assert deal["name"] == "20001"
    assert deal["amount"] is None
    assert deal["modified"] == "2026-04-01T09:15:30.250000"  # from updatedAt
    assert deal["account"] is None
    assert deal["contacts"] == deal["lines"] == []


def test_unmapped_deal_fields_are_neither_read_nor_selected():
    names = dict(
        deals.SF_DEAL_FIELD_DEFAULTS,
        tax_treatment=None,
        po_number="",
        cap_amount=None,
        line_billing_model=None,
    )
    fields = deals.sf_opportunity_fields(names)
    assert not {"Tax_Treatment__c", "PO_Number__c", "Cap_Amount__c", None, ""} & set(fields)
    assert "Billing_Model__c FROM" not in fields[-2]
    record = dict(sf_record(), Tax_Treatment__c="Domestic", PO_Number__c="PO-1")
    deal = deals.sf_normalize_opportunity(record, names)
    assert (deal["tax_treatment"], deal["po_number"], deal["cap_amount"]) == (None, None, None)
    assert {line["billing_model"] for line in deal["lines"]} == {None}
    hs_names = dict(deals.HS_DEAL_FIELD_DEFAULTS, tax_treatment=None, line_billing_model="")
    assert "tax_treatment" not in deals.hs_deal_properties(hs_names)
    assert deals.hs_line_properties(hs_names) == list(deals.HS_LINE_PROPERTIES)
    deal = deals.hs_normalize_deal(hs_deal_record(), hs_names, line_items=HS_LINES)
    assert deal["tax_treatment"] is None
    assert {line["billing_model"] for line in deal["lines"]} == {None}


def test_a_salesforce_deal_with_part_of_its_lines_is_refused():
    record = sf_record()
    record["OpportunityLineItems"].update(
        totalSize=250, done=False, nextRecordsUrl="/services/data/v62.0/query/01gX-2"
    )
    with pytest.raises(BusinessError, match="only 2 of the 250 OpportunityLineItems of 006A"):
        deals.sf_normalize_opportunity(record, FIELD_NAMES)


def test_hs_property_lists():
    names = dict(deals.HS_DEAL_FIELD_DEFAULTS, legal_entity="entity")
    properties = deals.hs_deal_properties(names, ["odoo_sale_order", "dealname"])
    assert properties[: len(deals.HS_DEAL_PROPERTIES)] == list(deals.HS_DEAL_PROPERTIES)
    assert properties.count("dealname") == 1
    assert {"entity", "billing_model", "cap_amount", "odoo_sale_order"} <= set(properties)
    assert "legal_entity" not in properties
    assert deals.hs_line_properties(dict(names, line_billing_model="line_model"))[-1] == (
        "line_model"
    )
    line_properties = deals.hs_line_properties(names)
    assert {"price", "quantity", "amount", "discount", "hs_discount_percentage"} <= set(
        line_properties
    )


# Small helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com/", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("http://127.0.0.1:8069/", "http://127.0.0.1:8069"),
    ],
)
def test_jwt_audience(login_url, audience):
    assert sf.jwt_audience(login_url) == audience


def test_salesforce_literals_and_timestamps():
    from datetime import UTC, datetime, timedelta, timezone

    paris = timezone(timedelta(hours=2))
    assert sf.soql_datetime(datetime(2026, 5, 20, 16, 3, 7, tzinfo=paris)) == "2026-05-20T14:03:07Z"
    assert sf.soql_datetime(datetime(2026, 5, 20, 14, 3, 7)) == "2026-05-20T14:03:07Z"
    assert sf.soql_string("O'Brien \\ Co") == "'O\\'Brien \\\\ Co'"
    assert sf.parse_datetime("2026-05-20T14:03:07.000+0000") == datetime(2026, 5, 20, 14, 3, 7)
    assert sf.parse_datetime("2026-05-20T14:03:07Z") == datetime(2026, 5, 20, 14, 3, 7)
    assert sf.parse_datetime(None) is None
    with pytest.raises(ValueError, match="not a Salesforce timestamp"):
        sf.parse_datetime("yesterday")
    assert hubspot.parse_datetime("1779285787000") == datetime(2026, 5, 20, 14, 3, 7)
    assert hubspot.parse_datetime("2026-05-20T14:03:07.5Z") == datetime(
        2026, 5, 20, 14, 3, 7, 500000
    )
    assert hubspot.to_ms(datetime(2026, 5, 20, 14, 3, 7, tzinfo=UTC)) == 1779285787000
    assert hubspot.to_ms(datetime(2026, 5, 20, 14, 3, 7)) == 1779285787000
