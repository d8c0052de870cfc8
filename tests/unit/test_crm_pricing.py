"""A CRM line priced in Odoo gives the CRM's own line total, to the cent (engine/pricing.py)."""

import pytest

from odoo.addons.connector_crm.engine import pricing


def odoo_subtotal(quantity, price_unit, discount):
    """What Odoo computes for a sale order line (round per line, cents, half up)."""
    return pricing.round_half_up(price_unit * (1 - discount / 100.0) * quantity, 2)


@pytest.mark.parametrize(
    ("quantity", "price", "percent", "per_unit", "amount"),
    [
        # HubSpot: 100 off a unit of 1,200 is 8.333...%: not a two-decimal discount.
        (3, 1200.0, 0.0, 100.0, 3300.0),
        # HubSpot applies a percentage to the line total and rounds the discount: 19.12 there,
        # where Odoo's rounding of the discounted total would give 19.13.
        (1, 22.50, 15.0, 0.0, 19.12),
        (10, 234.56, 20.0, 0.0, 1876.48),
        (2, 1200.0, 10.0, 0.0, 2160.0),
        (200, 150.0, 5.0, 0.0, 28500.0),
        (1, 45000.0, 0.0, 0.0, 45000.0),
        (3, 33.33, 0.0, 0.01, 99.96),
        (0, 150.0, 0.0, 0.0, 0.0),
    ],
)
def test_odoo_line_gives_the_crm_amount_to_the_cent(quantity, price, percent, per_unit, amount):
    price_unit, discount = pricing.odoo_price(
        quantity, price, amount, percent=percent, per_unit=per_unit
    )
    assert odoo_subtotal(quantity, price_unit, discount) == amount
    assert 0.0 <= discount <= 100.0


def test_the_crm_unit_price_and_percentage_are_kept_when_they_give_the_amount():
    assert pricing.odoo_price(2, 1200.0, 2160.0, percent=10.0) == (1200.0, 10.0)
    # 120 off a unit of 1,200 is exactly 10 %: shown as a discount on the list price.
    assert pricing.odoo_price(2, 1200.0, 2160.0, per_unit=120.0) == (1200.0, 10.0)


def test_a_per_unit_discount_that_is_no_round_percentage_becomes_the_net_unit_price():
    assert pricing.odoo_price(3, 1200.0, 3300.0, per_unit=100.0) == (1100.0, 0.0)


def test_hubspot_rounding_of_a_percentage_is_met_by_the_nearest_discount():
    price_unit, discount = pricing.odoo_price(1, 22.50, 19.12, percent=15.0)
    assert (price_unit, discount) == (22.50, 15.02)


def test_an_amount_no_odoo_precision_can_give_is_refused():
    # 100.00 for three units: neither 33.33 nor 33.34 a unit, and no discount on 40.00 with two
    # decimals gives it either (33.3333...% off).
    assert pricing.odoo_price(3, 40.0, 100.0, price_digits=2, discount_digits=1) is None
    # With a finer discount accuracy it fits.
    assert pricing.odoo_price(3, 40.0, 100.0, discount_digits=4) == (40.0, 16.6667)


def test_other_currency_roundings_are_used():
    def whole(value):  # a currency without decimals (JPY)
        return pricing.round_half_up(value, 0)

    assert pricing.odoo_price(3, 1000.0, 2700.0, percent=10.0, round_amount=whole) == (
        1000.0,
        10.0,
    )


def test_vendor_formulas_when_the_crm_sends_no_total():
    assert pricing.hubspot_amount(3, 1200.0, per_unit=100.0) == 3300.0
    assert pricing.hubspot_amount(1, 22.50, percent=15.0) == 19.12
    assert pricing.hubspot_amount(10, 234.56, percent=20.0) == 1876.48
    # A line item has one discount type; the percentage wins when both are set.
    assert pricing.hubspot_amount(2, 100.0, percent=10.0, per_unit=5.0) == 180.0
    assert pricing.salesforce_amount(200, 150.0, 5.0) == 28500.0
    assert pricing.salesforce_amount(1, 22.50, 15.0) == 19.13
    assert pricing.round_half_up(2.675, 2) == 2.68
    assert pricing.round_half_up(-2.675, 2) == -2.68
