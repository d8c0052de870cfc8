"""Invoice lines from billable items: grouping, the amount each line carries, and the share of
it that each item records (standard and billed values).

A line's amount is its quantity times its price rounded once, in currency (never the sum of
amounts rounded item by item, never a quantity rounded before pricing). Items written up or down
in the pre-bill review carry the amount the reviewer typed; the line then carries their sum.
"""

from dataclasses import dataclass, field

from .allocation import round_amount, split_proportionally


@dataclass
class InvoiceLine:
    """One invoice line to create: its items, quantity, unit price and discount, and amounts."""

    key: tuple
    items: list
    quantity: float
    price_unit: float
    discount: float
    amount: float  # the untaxed amount the line carries
    standard: float  # the standard value of its items
    standards: list = field(default_factory=list)  # per item, adding up to ``standard``
    amounts: list = field(default_factory=list)  # per item, adding up to ``amount``


def net_price(price_unit, discount):
    return price_unit * (1.0 - (discount or 0.0) / 100.0)


def carries(quantity, price_unit, discount, amount, digits=2):
    """Whether a line of ``quantity`` x ``price_unit`` less ``discount`` % carries ``amount``."""
    return round_amount(quantity * net_price(price_unit, discount), digits) == round_amount(
        amount, digits
    )


def exact_line(amount, quantity, price_unit=None, discount=0.0, digits=2, price_digits=2):
    """(quantity, unit price) of a line that carries exactly ``amount``.

    The given price is kept when it carries the amount (time at its rate, a share of a fixed
    fee); otherwise the unit price is the amount divided by the quantity, at the price precision;
    when no such price carries the amount exactly (a written-down amount that is not a multiple
    of the quantity), the quantity moves in its far decimals so that it does.
    """
    factor = 1.0 - (discount or 0.0) / 100.0
    if (
        price_unit is not None
        and quantity
        and carries(quantity, price_unit, discount, amount, digits)
    ):
        return quantity, price_unit
    if not round_amount(amount, digits):
        return quantity or 1.0, price_unit or 0.0
    if not quantity or not factor:
        return 1.0, round_amount(amount / (factor or 1.0), price_digits)
    price = round_amount(amount / (quantity * factor), price_digits)
    if price and carries(quantity, price, discount, amount, digits):
        return quantity, price
    price = price or round_amount(amount / factor, price_digits)
    return amount / (price * factor), price


def group_items(items, digits=2, price_digits=2):
    """Group items by ``item.group_key`` (order of first appearance) into InvoiceLines.

    Each item gives ``quantity``, ``price_unit``, ``discount``, ``adjusted`` and, when adjusted,
    ``amount`` (the reviewer's amount); an item billed as a share of a fixed amount (installment,
    milestone, retainer fee) gives its ``standard`` already (``preset_standard``). The standard
    value of a group is rounded once and split over its items; an item that is not adjusted bills
    its standard share, so a group nobody adjusted carries exactly its standard value.
    """
    groups = {}
    for item in items:
        groups.setdefault(item.group_key, []).append(item)
    lines = []
    for key, group in groups.items():
        quantity = sum(item.quantity for item in group)
        exact = [
            item.preset_standard
            if item.preset_standard is not None
            else item.quantity * net_price(item.price_unit, item.discount)
            for item in group
        ]
        standard = round_amount(sum(exact), digits)
        standards = split_proportionally(standard, exact, digits)
        amounts = [
            round_amount(item.amount, digits) if item.adjusted else share
            for item, share in zip(group, standards, strict=True)
        ]
        amount = round_amount(sum(amounts), digits)
        first = group[0]
        same_price = all(
            (item.price_unit, item.discount) == (first.price_unit, first.discount) for item in group
        )
        line_quantity, price = exact_line(
            amount,
            quantity,
            first.price_unit if same_price else None,
            first.discount if same_price else 0.0,
            digits,
            price_digits,
        )
        lines.append(
            InvoiceLine(
                key=key,
                items=group,
                quantity=line_quantity,
                price_unit=price,
                discount=first.discount if same_price else 0.0,
                amount=amount,
                standard=standard,
                standards=standards,
                amounts=amounts,
            )
        )
    return lines
