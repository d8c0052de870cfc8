"""The items a billing run works with: plain data, filled by the collector from Odoo records."""

from dataclasses import dataclass, field
from datetime import date


class ConcurrentBilling(Exception):
    """Another run billed some of these items first: this group is rolled back and skipped."""


@dataclass
class Item:
    """One billable thing, valued in the contract's currency.

    ``quantity`` is in the contract line's unit and ``price_unit`` per that unit (time converted
    from the timesheet's unit); ``preset_standard`` is the fixed amount of a share of a fee
    (installment, milestone, retainer fee); ``amount`` is what the reviewer decided to bill when
    ``adjusted``. ``standard`` and ``amount`` are final once the items are grouped into lines
    (engine.invoice_lines.group_items).
    """

    key: str
    kind: str  # engine.constants.ITEM_KINDS
    record: object  # the billable record (ps.billable.mixin), a retainer period or a sale line
    sale_line: object
    day: date
    quantity: float
    price_unit: float
    description: str
    group_key: tuple
    discount: float = 0.0
    preset_standard: float | None = None
    amount: float | None = None
    adjusted: bool = False
    standard: float = 0.0
    hours: float = 0.0  # time: its hours in the timesheet's unit (for the line's label)
    link_sale_line: bool = True
    deferred_revenue: bool = False
    employee: object = None
    project: object = None
    task: object = None


@dataclass
class GroupResult:
    """What billing one group (a contract, or a customer's contracts) gave."""

    invoice: object = None
    billed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (order, item description, reason code, detail)
