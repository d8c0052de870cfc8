"""What a run leaves out of a contract's billable items (not configured, held, beyond what was
sold, over the cap), each with its reason, and the down payments it deducts."""

from odoo import _, api, models

from ..engine.billing_items import Item
from ..engine.caps import allocate_under_cap
from ..engine.constants import (
    KIND_DOWN_PAYMENT,
    KIND_TIMESHEET,
    SHARE_KINDS,
    SKIP_BEYOND_SOLD,
    SKIP_CONFIG,
    SKIP_HELD,
    SKIP_OVER_CAP,
)
from ..engine.invoice_lines import net_price


class PsBillingCollector(models.AbstractModel):
    _inherit = "ps.billing.collector"

    # ------------------------------------------------------------------------------------------
    # What is left out
    # ------------------------------------------------------------------------------------------

    @api.model
    def _item_value(self, item, currency):
        """The amount an item will bill (before its line is rounded as a whole)."""
        if item.adjusted:
            return currency.round(item.amount)
        if item.preset_standard is not None:
            return item.preset_standard
        return currency.round(item.quantity * net_price(item.price_unit, item.discount))

    @api.model
    def _drop_unconfigured(self, order, items, skipped):
        """Fixed-fee and retainer fees need the deferred revenue account: never post them to
        revenue by default."""
        if order.company_id.ps_deferred_revenue_account_id:
            return items
        for item in items:
            if item.deferred_revenue:
                skipped.append(
                    (
                        order,
                        item.description,
                        SKIP_CONFIG,
                        _(
                            "set the deferred revenue account in Settings > Invoicing > "
                            "Professional services billing: fixed-fee and retainer fees post there"
                        ),
                    )
                )
        return [item for item in items if not item.deferred_revenue]

    @api.model
    def _drop_held(self, order, items, holds, skipped):
        Hold = self.env["ps.billing.hold"]
        kept = []
        for item in items:
            hold = Hold._hold_for(
                holds,
                partner=order.partner_id,
                order=order,
                project=item.project,
                task=item.task,
                timesheet=item.record if item.kind == KIND_TIMESHEET else None,
            )
            if hold:
                skipped.append(
                    (
                        order,
                        item.description
                        if item.kind != KIND_TIMESHEET
                        else _(
                            "%(date)s %(employee)s, %(hours)s h",
                            date=item.day,
                            employee=item.employee.name,
                            hours=round(item.record.unit_amount, 2),
                        ),
                        SKIP_HELD,
                        hold._describe(),
                    )
                )
            else:
                kept.append(item)
        return kept

    @api.model
    def _drop_beyond_sold(self, order, items, skipped, invoiced):
        """Shares of a fee (installments, milestones, retainer fees) never bill more than the
        contract line's total: what would exceed it waits for an amendment of the contract."""
        currency = order.currency_id
        room = {}
        kept = []
        for item in items:
            if item.kind not in SHARE_KINDS:
                kept.append(item)
                continue
            sol = item.sale_line
            if sol.id not in room:
                room[sol.id] = sol.price_subtotal - invoiced.get(sol.id, 0.0)
            value = self._item_value(item, currency)
            if currency.compare_amounts(value, room[sol.id]) > 0:
                skipped.append(
                    (
                        order,
                        item.description,
                        SKIP_BEYOND_SOLD,
                        _(
                            "%(amount)s would bill more than the contract line sold (%(total)s, "
                            "%(left)s left to invoice): amend the contract line first",
                            amount=currency.format(value),
                            total=currency.format(sol.price_subtotal),
                            left=currency.format(max(room[sol.id], 0.0)),
                        ),
                    )
                )
                continue
            room[sol.id] -= value
            kept.append(item)
        return kept

    @api.model
    def _apply_cap(self, order, items, skipped):
        if not order.ps_cap_amount:
            return items
        already = order._ps_invoiced_amounts().get(order.id, 0.0)
        currency = order.currency_id
        decision = allocate_under_cap(
            [(item.key, self._item_value(item, currency)) for item in items],
            order.ps_cap_amount,
            already,
            order.ps_cap_approved_excess,
            rounding=currency.rounding,
        )
        over = set(decision.over_cap)
        if over:
            waiting = sum(self._item_value(item, currency) for item in items if item.key in over)
            skipped.append(
                (
                    order,
                    _("%s item(s)", len(over)),
                    SKIP_OVER_CAP,
                    _(
                        "%(waiting)s would exceed the not-to-exceed amount of %(cap)s "
                        "(%(already)s invoiced): a Billing Manager must approve billing over the cap",
                        waiting=currency.format(waiting),
                        cap=currency.format(order.ps_cap_amount),
                        already=currency.format(already),
                    ),
                )
            )
            order._ps_request_cap_approval(waiting)
        return [item for item in items if item.key not in over]

    @api.model
    def _down_payment_items(self, order, items):
        """Down payments invoiced on the contract (Odoo's down payment lines) deducted from this
        invoice, as Odoo's own "Create Invoice" deducts them: up to what the invoice bills, the
        rest from the next invoices."""
        currency = order.currency_id
        billable = sum(self._item_value(item, currency) for item in items)
        result = []
        down_payments = order.order_line.filtered(
            lambda line: line.is_downpayment and not line.display_type and line.qty_to_invoice < 0
        )
        for sol in down_payments:
            if currency.compare_amounts(billable, 0.0) <= 0:
                break
            available = currency.round(-sol.qty_to_invoice * sol.price_unit)
            deduct = min(available, billable)
            if currency.is_zero(deduct):
                continue
            billable -= deduct
            result.append(
                Item(
                    key=f"{KIND_DOWN_PAYMENT}:{sol.id}",
                    kind=KIND_DOWN_PAYMENT,
                    record=None,
                    sale_line=sol,
                    day=context_day(items),
                    quantity=-deduct / sol.price_unit if sol.price_unit else -1.0,
                    price_unit=sol.price_unit,
                    preset_standard=-deduct,
                    description=sol.name or _("Down payment"),
                    group_key=(KIND_DOWN_PAYMENT, sol.id),
                )
            )
        return result


def context_day(items):
    """The day a deduction is dated: the latest item's day (it closes the invoice)."""
    return max(item.day for item in items)
