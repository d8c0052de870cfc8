"""Is a won deal ready to become an engagement, and who can fix what (engine/readiness.py)."""

import pytest

from odoo.addons.connector_crm.engine import readiness

from tests.unit.crm_samples import line, snapshot

# Readiness -----------------------------------------------------------------------------------

WHERE = "Salesforce deal 'Northwind - ERP implementation' (006A)"
IN_SF = "in Salesforce (the deal's owner or a Salesforce admin can)"
MAPPINGS = "Connectors > Configuration > Backends, tab Mappings; a Connector Manager can"
PRODUCTS = {
    "IMPL": (101, "fixed"),  # creates the project
    "CONS-H": (102, None),  # no default billing model on the product mapping
    "TRAIN": (103, "fixed"),
}


class Currencies:
    """currency_ok that records its calls."""

    def __init__(self, problems=None):
        self.problems = problems or {}
        self.calls = []

    def __call__(self, code, company_id):
        self.calls.append((code, company_id))
        return self.problems.get(code)


def quantity_counts_periods(_line, _deal):
    return {"term_source": "quantity"}


def mappings(**overrides):
    values = {
        "crm_name": "Salesforce",
        "field_labels": {
            "legal_entity": "Legal_Entity__c",
            "tax_treatment": "Tax_Treatment__c",
            "project_template": "Project_Template__c",
            "billing_model": "Billing_Model__c",
            "line_billing_model": "OpportunityLineItem.Billing_Model__c",
        },
        "legal_entities": {"Acme Consulting US": 1, "Acme Consulting EU": 2},
        "tax_treatments": {"Domestic": False, "EU reverse charge": 7},
        "billing_models": {
            "Fixed Fee": "fixed",
            "Time and Materials": "tm",
            "Retainer": "retainer",
            "Mixed": None,  # per line
        },
        "templates": {"Standard Implementation": 11, "Support": 12},
        "products": lambda item: PRODUCTS.get(item.get("product_code")),
        "currency_ok": Currencies(),
        "default_billing_model": None,
        "default_template": None,
        "creates_project": lambda product_id: product_id == 101,
    }
    values.update(overrides)
    return readiness.Mappings(**values)


def ready_deal(**overrides):
    deal = snapshot(tax_treatment="EU reverse charge")
    deal["lines"] = [line("00kA", "IMPL", 1, 60000, model=None), line("00kB", "TRAIN", 3, 1200)]
    deal.update(overrides)
    return deal


def test_ready_deal_gives_company_fiscal_position_template_and_lines():
    deal = ready_deal()
    maps = mappings()
    result = readiness.check(deal, maps)
    assert result.problems == []
    assert result.ready
    assert result.company_id == 1
    assert result.fiscal_position_id == 7
    assert result.template_id == 11
    assert result.lines == [(deal["lines"][0], 101, "fixed"), (deal["lines"][1], 103, "fixed")]
    assert maps.currency_ok.calls == [("USD", 1)]


def test_tax_treatment_mapped_to_no_fiscal_position_is_ready():
    result = readiness.check(ready_deal(tax_treatment="Domestic"), mappings())
    assert result.ready
    assert result.fiscal_position_id is False


@pytest.mark.parametrize("account", [None, {}, {"id": None, "name": "Northwind"}])
def test_deal_without_account(account):
    result = readiness.check(ready_deal(account=account), mappings())
    assert result.problems == [
        f"{WHERE} has no account/company: link it to one {IN_SF}, then retry."
    ]
    assert not result.ready


def test_empty_legal_entity():
    result = readiness.check(ready_deal(legal_entity=None), mappings())
    assert result.problems == [
        f"Legal_Entity__c is empty on {WHERE}: set the legal entity {IN_SF}, then retry."
    ]
    assert result.company_id is None


def test_unmapped_legal_entity_and_no_currency_check_without_company():
    maps = mappings()
    result = readiness.check(ready_deal(legal_entity="Acme Consulting Mars"), maps)
    assert result.problems == [
        f"Legal_Entity__c 'Acme Consulting Mars' on {WHERE} has no mapping: add it to the "
        f"backend's legal entity mapping ({MAPPINGS}), then retry."
    ]
    assert result.company_id is None
    assert maps.currency_ok.calls == []


def test_empty_tax_treatment():
    result = readiness.check(ready_deal(tax_treatment=""), mappings())
    assert result.problems == [
        f"Tax_Treatment__c is empty on {WHERE}: set the tax treatment {IN_SF}, or choose a "
        "default tax treatment on the backend's Deals tab (a Connector Manager can), then retry."
    ]


def test_unmapped_tax_treatment():
    result = readiness.check(ready_deal(tax_treatment="Zero rated"), mappings())
    assert result.problems == [
        f"Tax_Treatment__c 'Zero rated' on {WHERE} has no mapping: add it to the backend's tax "
        f"treatment mapping ({MAPPINGS}), then retry."
    ]
    assert result.fiscal_position_id is None


def test_unmapped_template_is_a_problem_even_with_a_default():
    result = readiness.check(ready_deal(project_template="Agile"), mappings(default_template=99))
    assert result.problems == [
        f"Project_Template__c 'Agile' on {WHERE} has no mapping: add it to the backend's project "
        f"template mapping ({MAPPINGS}), then retry."
    ]
    assert result.template_id is None


def test_empty_template_takes_the_default_template():
    result = readiness.check(ready_deal(project_template=None), mappings(default_template=99))
    assert result.ready
    assert result.template_id == 99


def test_empty_template_without_default():
    result = readiness.check(ready_deal(project_template=None), mappings())
    assert result.problems == [
        f"Project_Template__c is empty on {WHERE}: set the project template {IN_SF}, or choose "
        "a default project template on the backend's Deals tab (a Connector Manager can), then "
        "retry."
    ]


def test_unmapped_deal_billing_model():
    result = readiness.check(ready_deal(billing_model="Barter"), mappings())
    assert result.problems == [
        f"Billing_Model__c 'Barter' on {WHERE} has no mapping: add it to the backend's billing "
        f"model mapping ({MAPPINGS}), then retry."
    ]


def test_unmapped_line_billing_model_skips_the_line():
    deal = ready_deal()
    deal["lines"][1]["billing_model"] = "Pay what you want"
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"OpportunityLineItem.Billing_Model__c 'Pay what you want' on {WHERE} has no mapping: add "
        f"it to the backend's billing model mapping ({MAPPINGS}), then retry."
    ]
    assert [item["id"] for item, _product, _model in result.lines] == ["00kA"]


def test_mixed_deal_model_falls_back_to_the_line_then_the_product_model():
    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 30000, model=None),  # product default: fixed
        line("00kB", "CONS-H", 80, 140, model="Time and Materials"),  # line model
        line("00kC", "TRAIN", 2, 1100, model="Retainer"),  # line model beats the product's
    ]
    result = readiness.check(deal, mappings(periodic_defaults=quantity_counts_periods))
    assert result.problems == []
    assert [(item["id"], product, model) for item, product, model in result.lines] == [
        ("00kA", 101, "fixed"),
        ("00kB", 102, "tm"),
        ("00kC", 103, "retainer"),
    ]


def test_line_model_mapped_to_none_falls_back_like_the_deal_model():
    deal = ready_deal(billing_model="Time and Materials")
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model="Mixed")]
    result = readiness.check(deal, mappings())
    assert result.problems == []
    assert [(product, model) for _item, product, model in result.lines] == [(101, "tm")]


def test_deal_model_beats_the_product_default_and_the_backend_default_comes_last():
    deal = ready_deal(billing_model="Time and Materials")
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model=None)]
    result = readiness.check(deal, mappings(default_billing_model="retainer"))
    assert [model for _item, _product, model in result.lines] == ["tm"]

    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 1, model=None),
        line("00kB", "CONS-H", 1, 1, model=None),
    ]
    result = readiness.check(
        deal,
        mappings(default_billing_model="retainer", periodic_defaults=quantity_counts_periods),
    )
    assert result.problems == []
    assert [model for _item, _product, model in result.lines] == ["fixed", "retainer"]


def test_line_without_any_billing_model():
    deal = ready_deal(billing_model="Mixed")
    deal["lines"] = [
        line("00kA", "IMPL", 1, 30000, model=None),
        line("00kB", "CONS-H", 80, 140, model=None, name="Consulting hours"),
    ]
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"Line 'Consulting hours' on {WHERE} has no billing model: set Billing_Model__c on the "
        f"deal, or set OpportunityLineItem.Billing_Model__c on the line {IN_SF}, or give the "
        "product mapping of 'CONS-H' a default billing model, or the backend a default billing "
        f"model ({MAPPINGS}), then retry."
    ]
    assert [item["id"] for item, _product, _model in result.lines] == ["00kA"]


def test_unmapped_product_names_its_code():
    deal = ready_deal()
    deal["lines"].append(line("00kC", "NEW-SKU", 1, 8000, name="Data migration add-on"))
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"Product 'NEW-SKU' (Data migration add-on) on {WHERE} has no product mapping: map it to "
        "an Odoo service product (Connectors > Configuration > Backends, tab Mappings > "
        "Products, or Connectors > CRM > Product mappings; a Connector Manager can), then retry."
    ]
    assert len(result.lines) == 2


def test_unmapped_product_without_code_is_named_by_its_reference_or_name():
    deal = ready_deal()
    no_code = line("00kC", "X", 1, 1, name="Workshop")
    no_code.update(product_code=None, product_ref="01tWORKSHOP")
    nothing = line("00kD", "X", 1, 1, name="Free text line")
    nothing.update(product_code=None, product_ref=None)
    deal["lines"] += [no_code, nothing]
    problems = readiness.check(deal, mappings()).problems
    assert [problem.split(" on ")[0] for problem in problems] == [
        "Product '01tWORKSHOP' (Workshop)",
        "Product 'Free text line' (Free text line)",
    ]


def test_deal_without_lines():
    result = readiness.check(ready_deal(lines=[]), mappings())
    assert result.problems == [
        f"{WHERE} has no products: add at least one product line {IN_SF}, then retry."
    ]


def test_no_product_creating_a_project():
    deal = ready_deal()
    deal["lines"] = deal["lines"][1:]  # training only
    result = readiness.check(deal, mappings())
    assert result.problems == [
        f"No product of {WHERE} creates a project: set 'Create on Order' to a project on at least "
        "one mapped service product (Sales > Products > Products, tab Sales; a Sales "
        "administrator can), then retry."
    ]


def test_project_check_is_skipped_without_the_callback():
    deal = ready_deal()
    deal["lines"] = deal["lines"][1:]
    assert readiness.check(deal, mappings(creates_project=None)).ready


def test_currency_problem_is_reported_with_the_deal():
    maps = mappings(currency_ok=Currencies({"GBP": "currency GBP is not active in Odoo"}))
    result = readiness.check(ready_deal(currency="GBP", legal_entity="Acme Consulting EU"), maps)
    assert result.problems == [f"{WHERE}: currency GBP is not active in Odoo"]
    assert maps.currency_ok.calls == [("GBP", 2)]


def test_every_problem_is_listed_at_once():
    deal = {"id": "006Z", "name": "Empty", "lines": [line("00kA", "NEW-SKU", 1, 1)]}
    maps = mappings(
        crm_name="HubSpot",
        field_labels={},
        backend_name="HubSpot (test)",
        fixers={"mappings": "ask Ada Lovelace (Connector Manager)", "crm": "Grace can"},
    )
    result = readiness.check(deal, maps)
    where = "HubSpot deal 'Empty' (006Z)"
    backend = "a Connector Manager can"
    assert result.problems == [
        f"{where} has no account/company: link it to one in HubSpot (Grace can), then retry.",
        f"legal_entity is empty on {where}: set the legal entity in HubSpot (Grace can), then "
        "retry.",
        f"tax_treatment is empty on {where}: set the tax treatment in HubSpot (Grace can), or "
        f"choose a default tax treatment on the backend's Deals tab ({backend}), then retry.",
        f"project_template is empty on {where}: set the project template in HubSpot (Grace "
        "can), or choose a default project template on the backend's Deals tab "
        f"({backend}), then retry.",
        f"Product 'NEW-SKU' (NEW-SKU) on {where} has no product mapping: map it to an Odoo "
        "service product (Connectors > Configuration > Backends > HubSpot (test), tab Mappings "
        "> Products, or Connectors > CRM > Product mappings; ask Ada Lovelace (Connector "
        "Manager)), then retry.",
    ]


def test_unmapped_optional_fields_fall_back_to_the_backend_defaults():
    """An org without the custom fields: no legal entity, tax treatment, template or billing
    model field. Deals go to the default company, Odoo's own fiscal position rules, the default
    template and the product mapping's billing model."""
    deal = ready_deal(legal_entity=None, tax_treatment=None, project_template=None)
    deal["billing_model"] = None
    deal["lines"] = [line("00kA", "IMPL", 1, 30000, model=None)]
    maps = mappings(mapped_fields={"po_number"}, default_company_id=5, default_template=99)
    result = readiness.check(deal, maps)
    assert result.problems == []
    assert (result.company_id, result.fiscal_position_id, result.template_id) == (5, None, 99)
    assert [model for _line, _product, model in result.lines] == ["fixed"]


def test_a_default_tax_treatment_is_used_when_the_deal_has_none():
    maps = mappings(
        mapped_fields=set(), default_company_id=1, default_tax_treatment="EU reverse charge"
    )
    assert readiness.check(ready_deal(tax_treatment=None), maps).fiscal_position_id == 7
    maps = mappings(default_tax_treatment="EU reverse charge")
    assert readiness.check(ready_deal(tax_treatment=""), maps).fiscal_position_id == 7


def test_unmapped_fields_without_defaults_name_what_is_really_missing():
    deal = ready_deal(project_template=None, billing_model=None)
    deal["lines"] = [line("00kB", "CONS-H", 1, 150, model=None, name="Consulting hours")]
    maps = mappings(mapped_fields={"legal_entity", "tax_treatment"}, default_company_id=1)
    problems = readiness.check(deal, maps).problems
    assert problems == [
        f"No project template for {WHERE}: the backend maps no CRM field for it and has no "
        "default project template: choose one on the backend's Deals tab (a Connector Manager "
        "can), then retry.",
        f"Line 'Consulting hours' on {WHERE} has no billing model: give the product mapping of "
        "'CONS-H' a default billing model, or the backend a default billing model "
        f"({MAPPINGS}), then retry.",
    ]


def test_tax_treatment_resolves_to_the_fiscal_position_of_the_deal_company():
    positions = {"EU reverse charge": {1: 71, 2: 72}, "Domestic": {}}
    maps = mappings(tax_treatments=positions, company_names={3: "Acme Consulting UK"})
    us = readiness.check(ready_deal(), maps)
    eu = readiness.check(ready_deal(legal_entity="Acme Consulting EU"), maps)
    assert (us.fiscal_position_id, eu.fiscal_position_id) == (71, 72)
    assert readiness.check(ready_deal(tax_treatment="Domestic"), maps).fiscal_position_id is False
    maps.legal_entities["Acme Consulting UK"] = 3
    uk = readiness.check(ready_deal(legal_entity="Acme Consulting UK"), maps)
    assert uk.problems == [
        f"Tax treatment 'EU reverse charge' of {WHERE} has no fiscal position of Acme Consulting "
        "UK, the legal entity the deal is signed by (only of other companies): add Acme "
        "Consulting UK's fiscal position to that tax treatment's mapping "
        f"({MAPPINGS}), then retry."
    ]


def test_line_prices_come_from_the_price_function_and_unreachable_amounts_are_problems():
    deal = ready_deal()
    calls = []

    def line_price(item, company_id, currency):
        calls.append((item["id"], company_id, currency))
        return None if item["id"] == "00kB" else (60000.0, 0.0)

    result = readiness.check(deal, mappings(line_price=line_price))
    assert calls == [("00kA", 1, "USD"), ("00kB", 1, "USD")]
    assert result.prices == {"00kA": (60000.0, 0.0)}
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"Line 'TRAIN' on {WHERE}: its amount")
    assert "Decimal Accuracy" in result.problems[0]


def test_tax_warning_is_kept_without_stopping_the_deal():
    def warning(position_id, company_id, deal, product_ids):
        return f"position {position_id} of company {company_id} on {product_ids}"

    result = readiness.check(ready_deal(), mappings(tax_warning=warning))
    assert result.ready
    assert result.warnings == ["position 7 of company 1 on [101, 103]"]
