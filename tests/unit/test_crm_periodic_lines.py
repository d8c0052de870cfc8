"""Issue 9, item 7: a CRM line billed per period (retainer, recurring line item) becomes a
contract line whose total is what the deal sold over its term, in a known number of fees; a line
whose term cannot be determined is refused (engine/periodic.py, engine/readiness.py, the
HubSpot fake's billing-term properties)."""

import pytest

from odoo.addons.connector_crm.engine import deals, periodic, readiness

from tests.fakes.hubspot import FakeHubSpot
from tests.unit.crm_samples import snapshot


def crm_line(quantity, price, amount=None, **extra):
    values = {
        "id": "li1",
        "product_ref": "p1",
        "product_code": "SUP-RET",
        "name": "Support retainer",
        "quantity": float(quantity),
        "price_unit": float(price),
        "discount": 0.0,
        "discount_amount": 0.0,
        "amount": float(amount if amount is not None else quantity * price),
        "billing_model": "Retainer",
    }
    values.update(extra)
    return values


def total_billed(terms):
    return round(
        terms.terms.fee_per_period * (terms.periods - 1) + terms.terms.last_fee,
        2,
    )


# The term and the total -------------------------------------------------------------------------


def test_hubspot_monthly_line_with_a_term_sells_the_whole_term():
    """1 x 2,000 billed monthly for P12M: twelve fees of 2,000 (HubSpot's hs_tcv 24,000)."""
    line = crm_line(1, 2000, frequency="monthly", term="P12M", total=24000.0)
    terms = periodic.line_terms(line)
    assert (terms.periods, terms.terms.period, terms.quantity) == (12, "monthly", 12.0)
    assert (terms.terms.fee_per_period, terms.terms.last_fee, terms.amount) == (
        2000.0,
        2000.0,
        24000.0,
    )
    assert terms.source == "crm"


def test_number_of_payments_and_quarterly_frequency():
    line = crm_line(1, 3000, frequency="quarterly", payments=4)
    terms = periodic.line_terms(line)
    assert (terms.periods, terms.terms.period, terms.months_per_period) == (4, "quarterly", 3)
    assert terms.amount == 12000.0, "amount is one period's: x the payments"
    assert periodic.line_terms(crm_line(1, 3000, frequency="quarterly", term="12")).periods == 4


def test_one_time_retainer_spread_over_a_product_default_term_keeps_its_total():
    """The issue's case: 1 x 2,000 (deal amount 2,000) is 2,000 in all, never 24,000."""
    line = crm_line(1, 2000)
    terms = periodic.line_terms(line, {"term_source": "months", "term_months": 12})
    assert terms.periods == 12
    assert (terms.terms.fee_per_period, terms.terms.last_fee) == (166.67, 166.63)
    assert terms.amount == 2000.0
    assert total_billed(terms) == 2000.0, "fees x periods give the deal's amount to the cent"
    assert terms.quantity == 1.0
    assert terms.source == "product"


def test_quantity_counts_the_periods_for_a_product_sold_per_month():
    """Salesforce 12 x 2,500: twelve monthly fees of 2,500, 30,000 in all."""
    terms = periodic.line_terms(crm_line(12, 2500), {"term_source": "quantity"})
    assert (terms.periods, terms.terms.fee_per_period, terms.amount) == (12, 2500.0, 30000.0)
    quarterly = periodic.line_terms(
        crm_line(4, 6000), {"term_source": "quantity", "frequency": "quarterly"}
    )
    assert (quarterly.periods, quarterly.terms.period) == (4, "quarterly")


def test_the_crm_term_wins_over_the_product_default():
    line = crm_line(1, 1000, frequency="monthly", term="P6M")
    terms = periodic.line_terms(line, {"term_source": "months", "term_months": 24})
    assert (terms.periods, terms.amount, terms.source) == (6, 6000.0, "crm")


def test_uneven_total_last_fee_takes_the_remainder():
    line = crm_line(1, 1000, amount=1000.0)
    terms = periodic.line_terms(line, {"term_source": "months", "term_months": 3})
    assert (terms.terms.fee_per_period, terms.terms.last_fee) == (333.33, 333.34)
    assert total_billed(terms) == 1000.0


@pytest.mark.parametrize(
    ("line", "defaults", "message"),
    [
        (crm_line(1, 2000), None, r"its term \(number of periods\) is not known"),
        (crm_line(1, 2000), {"frequency": "monthly"}, "is not known"),
        (crm_line(1, 2000, frequency="monthly"), None, "is not known"),  # auto-renewing
        (crm_line(1, 2000, frequency="annually", term="P24M"), None, "monthly or quarterly"),
        (crm_line(1, 2000, frequency="monthly", term="P1W"), None, "unknown term"),
        (crm_line(1.5, 2000), {"term_source": "quantity"}, "not a whole number"),
        (
            crm_line(1, 2000),
            {"term_source": "months", "term_months": 7, "frequency": "quarterly"},
            "not a whole number of quarterly periods",
        ),
    ],
)
def test_a_term_that_cannot_be_determined_is_an_error(line, defaults, message):
    with pytest.raises(periodic.TermError, match=message):
        periodic.line_terms(line, defaults)


# Readiness --------------------------------------------------------------------------------------


def mappings(defaults=None, crm_name="HubSpot", **overrides):
    values = {
        "crm_name": crm_name,
        "field_labels": {"billing_model": "billing_model"},
        "legal_entities": {"Acme Consulting US": 1},
        "tax_treatments": {"Domestic": False},
        "billing_models": {"Retainer": "retainer", "Fixed Fee": "fixed_fee"},
        "templates": {"Standard Implementation": 11},
        "products": lambda item: (104, "retainer"),
        "currency_ok": lambda code, company_id: None,
        "periodic_defaults": lambda line, deal: defaults,
        "currency_digits": lambda company_id, code: 2,
    }
    values.update(overrides)
    return readiness.Mappings(**values)


def retainer_deal(*lines):
    deal = snapshot(billing_model="Retainer", amount=sum(item["amount"] for item in lines))
    deal["lines"] = list(lines)
    return deal


def test_readiness_refuses_a_retainer_without_a_term_and_says_what_to_set():
    result = readiness.check(retainer_deal(crm_line(1, 2000)), mappings())
    assert not result.ready
    (problem,) = result.problems
    assert "Line 'Support retainer'" in problem
    assert "is a retainer, billed per period, but its term (number of periods) is not known" in (
        problem
    )
    assert "billing frequency (monthly or quarterly) and its term" in problem
    assert "hs_recurring_billing_period" in problem
    assert "give the product mapping of 'SUP-RET' a default term" in problem
    assert "then retry" in problem
    assert result.lines == [], "nothing would be created for it"


def test_readiness_refusal_for_salesforce_names_the_product_mapping_only():
    result = readiness.check(retainer_deal(crm_line(1, 2000)), mappings(crm_name="Salesforce"))
    (problem,) = result.problems
    assert "HubSpot" not in problem
    assert "give the product mapping of 'SUP-RET' a default term" in problem


def test_readiness_prices_the_whole_term():
    seen = []

    def line_price(line, company_id, code):
        seen.append((line["quantity"], line["amount"]))
        return (line["amount"] / line["quantity"], 0.0)

    line = crm_line(1, 2000, frequency="monthly", term="P12M", total=24000.0)
    result = readiness.check(retainer_deal(line), mappings(line_price=line_price))
    assert result.ready, result.problems
    assert seen == [(12.0, 24000.0)], "the Odoo line sells 12 months of 1 x 2,000"
    assert result.prices["li1"] == (2000.0, 0.0)
    assert result.periodic["li1"].periods == 12


def test_a_recurring_line_billed_as_fixed_fee_or_tm_also_needs_its_term():
    line = crm_line(1, 500, frequency="monthly", billing_model="Fixed Fee")
    result = readiness.check(retainer_deal(line), mappings())
    assert "is recurring, billed per period" in result.problems[0]
    line = crm_line(1, 500, frequency="monthly", term="P3M", billing_model="Fixed Fee")
    result = readiness.check(retainer_deal(line), mappings())
    assert result.ready and result.periodic["li1"].amount == 1500.0


def test_one_time_lines_of_other_models_are_not_periodic():
    line = crm_line(1, 500, billing_model="Fixed Fee")
    result = readiness.check(retainer_deal(line), mappings())
    assert result.ready and result.periodic == {}


# Normalization and the HubSpot fake ------------------------------------------------------------


def test_hubspot_line_items_carry_their_billing_terms():
    assert {
        "recurringbillingfrequency",
        "hs_recurring_billing_period",
        "hs_recurring_billing_number_of_payments",
        "hs_term_in_months",
        "hs_recurring_billing_start_date",
        "hs_tcv",
    } <= set(deals.hs_line_properties({}))
    item = {
        "id": "9",
        "properties": {
            "name": "Support",
            "quantity": "1",
            "price": "2000.00",
            "amount": "2000.00",
            "recurringbillingfrequency": "monthly",
            "hs_recurring_billing_period": "P12M",
            "hs_recurring_billing_number_of_payments": "12",
            "hs_tcv": "24000.00",
            "hs_recurring_billing_start_date": "2026-02-01",
        },
    }
    deal = deals.hs_normalize_deal({"id": "1", "properties": {}}, {}, line_items=[item])
    (line,) = deal["lines"]
    assert (line["frequency"], line["term"], line["payments"], line["total"]) == (
        "monthly",
        "P12M",
        12.0,
        24000.0,
    )
    assert line["start_date"] == "2026-02-01"
    one_time = {"id": "8", "properties": {"quantity": "1", "price": "5", "hs_tcv": "5"}}
    deal = deals.hs_normalize_deal({"id": "1", "properties": {}}, {}, line_items=[one_time])
    assert not set(periodic.PERIODIC_KEYS) & set(deal["lines"][0]), (
        "a one-time line has no periodic keys (its fingerprint does not change)"
    )


def test_salesforce_service_date_is_the_start():
    record = {
        "Id": "006X",
        "OpportunityLineItems": {
            "done": True,
            "records": [
                {"Id": "00k1", "Quantity": 12, "UnitPrice": 2500, "ServiceDate": "2026-04-01"}
            ],
        },
    }
    (line,) = deals.sf_normalize_opportunity(record, {})["lines"]
    assert line["start_date"] == "2026-04-01"
    assert "ServiceDate" in deals.sf_opportunity_fields({})[-2]


def test_hubspot_fake_calculates_tcv_term_and_the_deal_amount_like_hubspot():
    fake = FakeHubSpot()
    product = fake.add_product("Support retainer", sku="SUP-RET", price="2000.00")
    deal_id = fake.add_deal(
        dealname="Retainer",
        line_items=[
            {
                "product_id": product,
                "quantity": "1",
                "recurringbillingfrequency": "monthly",
                "hs_recurring_billing_period": "P12M",
            },
            {"product_id": product, "quantity": "1", "price": "500.00"},
        ],
    )
    recurring_id, one_time_id = fake.associated_ids("deals", deal_id, "line_items")
    recurring = fake.get("line_items", recurring_id)["properties"]
    assert recurring["amount"] == "2000.00", "a recurring line's amount is one period's"
    assert (
        recurring["hs_term_in_months"],
        recurring["hs_recurring_billing_number_of_payments"],
    ) == (
        "12",
        "12",
    )
    assert recurring["hs_tcv"] == "24000.00"
    assert fake.get("line_items", one_time_id)["properties"]["hs_tcv"] == "500.00"
    assert fake.get("deals", deal_id)["properties"]["amount"] == "24500.00", (
        "the deal amount is the total contract value of its lines"
    )
    fake.update("line_items", recurring_id, hs_recurring_billing_period="P6M")
    recurring = fake.get("line_items", recurring_id)["properties"]
    assert (recurring["hs_recurring_billing_number_of_payments"], recurring["hs_tcv"]) == (
        "6",
        "12000.00",
    )
    fake.update("line_items", recurring_id, recurringbillingfrequency="")
    recurring = fake.get("line_items", recurring_id)["properties"]
    assert "hs_recurring_billing_number_of_payments" not in recurring
    assert recurring["hs_tcv"] == "2000.00", "one-time again: its amount"


def test_a_deal_amount_that_is_not_the_contract_total_is_a_warning():
    """A portal whose deal amount is the MRR (HubSpot's default deal amount can be set so):
    the contract sells the line's term, and the difference is shown for review."""
    line = crm_line(1, 2000, frequency="monthly", term="P12M", total=24000.0)
    deal = retainer_deal(line)
    assert deal["amount"] == 2000.0
    result = readiness.check(deal, mappings())
    assert result.ready
    (warning,) = result.term_warnings
    assert "is 2000.00, but its lines sell 24000.00 over their terms" in warning
    assert "'Support retainer' 12 x 2000.00" in warning
    deal["amount"] = 24000.0
    assert readiness.check(deal, mappings()).term_warnings == []
