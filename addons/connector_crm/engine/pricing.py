"""A CRM line's price in Odoo: the unit price and discount whose subtotal is the CRM's line total.

The CRMs state a line's total themselves (Salesforce ``TotalPrice``, HubSpot ``amount``), and
that total is what the customer agreed to. Odoo computes a line's subtotal as
``round(price_unit * (1 - discount / 100) * quantity)`` with its own precisions (unit price and
discount decimals, currency rounding), so copying the CRM's unit price and discount is not
always enough:

* HubSpot's ``discount`` is an amount off per unit, not a percentage (its percentage is
  ``hs_discount_percentage``); 100 off a unit of 1,200 is 8.333...%, which Odoo's discount
  (two decimals by default) cannot hold;
* HubSpot applies a percentage to the line's total and rounds the discount (22.50 at 15 % is
  19.12 there), where Odoo rounds the discounted total (19.13).

``odoo_price`` tries, in order, the CRM's own unit price and discount, the same unit price with
the discount that gives the CRM's total, then the net unit price without discount, and returns
the first that gives the CRM's total to the cent; ``None`` when none does (the deal is then not
ready: nothing is imported with a wrong amount).
"""

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, digits: int) -> float:
    """Round as Odoo's float_round does (half away from zero), at ``digits`` decimals."""
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def hubspot_amount(quantity, price, percent=None, per_unit=None) -> float:
    """HubSpot's ``amount`` of a line item when the CRM did not send it: the total before
    discount minus the total discount, a percentage of the total (rounded to the cent) or the
    amount off per unit times the quantity."""
    total = (quantity or 0.0) * (price or 0.0)
    if percent:
        discount = round_half_up(total * percent / 100.0, 2)
    else:
        discount = (per_unit or 0.0) * (quantity or 0.0)
    return round_half_up(total - discount, 2)


def salesforce_amount(quantity, price, percent=None) -> float:
    """Salesforce's ``TotalPrice``: quantity x sales price less the discount percentage."""
    return round_half_up((quantity or 0.0) * (price or 0.0) * (1 - (percent or 0.0) / 100.0), 2)


def odoo_price(
    quantity,
    price,
    amount,
    *,
    percent=0.0,
    per_unit=0.0,
    price_digits=2,
    discount_digits=2,
    round_amount=None,
):
    """``(price_unit, discount)`` for an Odoo line of ``quantity`` whose subtotal is ``amount``.

    ``percent``/``per_unit``: the discount as the CRM states it (a percentage, or an amount off
    per unit); ``price_digits``/``discount_digits``: Odoo's decimal accuracy of unit prices and
    discounts; ``round_amount``: the currency's rounding (default: cents, half up).
    """
    quantity = float(quantity or 0.0)
    price = float(price or 0.0)
    round_amount = round_amount or (lambda value: round_half_up(value, 2))
    target = round_amount(float(amount if amount is not None else quantity * price))
    tolerance = 10 ** -(discount_digits + 6)

    def fits(price_unit, discount):
        price_unit = round_half_up(price_unit, price_digits)
        discount = round_half_up(discount, discount_digits)
        if not -tolerance <= discount <= 100.0 + tolerance:
            return None
        subtotal = round_amount(price_unit * (1 - discount / 100.0) * quantity)
        return (price_unit, discount) if abs(subtotal - target) < 1e-9 else None

    stated = percent or ((per_unit / price * 100.0) if per_unit and price else 0.0)
    candidates = [(price, stated or 0.0)]
    if quantity and price:
        solved = (1 - target / (quantity * price)) * 100.0
        step = 10**-discount_digits
        candidates += [(price, solved), (price, solved - step), (price, solved + step)]
    if quantity:
        candidates.append((target / quantity, 0.0))
    for price_unit, discount in candidates:
        found = fits(price_unit, discount)
        if found:
            return found
    return None
