"""The billing engine: from contracts and a cutoff date to native draft invoices.

For one billing group (a contract, or every "one invoice per customer" contract of a customer):
lock the contracts, collect their billable items (approved unbilled time at its stored rate,
re-invoiced expenses, reached milestones, due installments, retainer fees and overage), drop what
is held, deferred, not approved or without a rate, keep what fits under the cap, and build the
draft invoice with Odoo's own ``_prepare_invoice`` / ``_prepare_invoice_line`` so that invoice
lines link to contract lines (invoiced quantities, invoice status) and billed timesheets link to
the invoice (Odoo's locks). Each item records the invoice line it was billed on; the SQL that
records it only touches items still unbilled, so an item can never be billed twice.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from odoo import Command, _, api, fields, models
from odoo.tools import SQL, float_is_zero, float_round

from ..logic import periods
from ..logic.caps import allocate_under_cap
from ..logic.retainer import Bucket, close_period

_logger = logging.getLogger(__name__)

SKIP_HELD = "held"
SKIP_OVER_CAP = "over_cap"
SKIP_NO_RATE = "no_rate"
SKIP_NOT_APPROVED = "not_approved"
SKIP_DEFERRED = "deferred"
SKIP_CONFIG = "configuration"
SKIP_REVIEW = "in_review"
SKIP_REASONS = [
    (SKIP_HELD, "Held"),
    (SKIP_OVER_CAP, "Over cap"),
    (SKIP_NO_RATE, "No rate"),
    (SKIP_NOT_APPROVED, "Not approved"),
    (SKIP_DEFERRED, "Deferred"),
    (SKIP_CONFIG, "Configuration missing"),
    (SKIP_REVIEW, "Back in pre-bill review"),
]


class ConcurrentBilling(Exception):
    """Another run billed some of these items first: this group is rolled back and skipped."""


@dataclass
class Item:
    """One billable thing, valued in the contract's currency."""

    key: str
    kind: str  # timesheet | expense | milestone | installment | retainer_fee | retainer_overage
    record: object  # the billable record (ps.billable.mixin), or a retainer period
    sale_line: object
    day: date
    quantity: float
    price_unit: float
    standard: float
    amount: float
    description: str
    group_key: tuple
    adjusted: bool = False
    link_sale_line: bool = True
    deferred_revenue: bool = False
    employee: object = None
    project: object = None
    task: object = None
    timesheet_ids: list = field(default_factory=list)


@dataclass
class GroupResult:
    invoice: object = None
    billed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (order, item description, reason code, detail)


class PsBillingEngine(models.AbstractModel):
    _name = "ps.billing.engine"
    _description = "Billing engine"

    # ------------------------------------------------------------------------------------------
    # Entry point for one billing group
    # ------------------------------------------------------------------------------------------

    @api.model
    def _bill_group(
        self, orders, period_end, invoice_date, respect_cycle=True, include_review=False, holds=None
    ):
        """Bill ``orders`` (one billing group) up to ``period_end``; returns a GroupResult."""
        return self._bill_groups(
            [orders], period_end, invoice_date, respect_cycle, include_review, holds
        )[0]

    @api.model
    def _bill_groups(
        self, groups, period_end, invoice_date, respect_cycle=True, include_review=False, holds=None
    ):
        """Bill several billing groups (one invoice each) with one batched invoice creation, as
        Odoo's own ``_create_invoices`` does; returns a GroupResult per group, in order.

        The contracts' rows are updated first (``ps_billing_seq``): a second run working on them
        at the same time either waits to see this one's items billed, or fails with a
        serialization error and skips them; it can never bill them again.
        """
        self._lock_contracts(self.env["sale.order"].union(*groups))
        if holds is None:
            companies = self.env["sale.order"].union(*groups).company_id
            holds = self.env["ps.billing.hold"]._active_holds_index(companies.ids)
        all_orders = self.env["sale.order"].union(*groups)
        prefetched = self._prefetch_timesheets(all_orders, period_end)
        results, to_invoice = [], []
        for orders in groups:
            result = GroupResult()
            billable = []
            for order in orders:
                cutoff = (
                    periods.cycle_cutoff(order.ps_billing_cycle or "monthly", period_end)
                    if respect_cycle
                    else period_end
                )
                items, skipped = self._collect(
                    order, cutoff, invoice_date, include_review, prefetched
                )
                result.skipped.extend(skipped)
                items = self._drop_unconfigured(order, items, result.skipped)
                items = self._drop_held(order, items, holds, result.skipped)
                items = self._apply_cap(order, items, result.skipped)
                billable.extend(items)
            results.append(result)
            if billable:
                result.billed = billable
                to_invoice.append((result, orders, billable))
        if to_invoice:
            prepared = [
                self._invoice_values(orders, billable, invoice_date)
                for _result, orders, billable in to_invoice
            ]
            invoices = self._create_invoices_batch([vals for vals, _sequences in prepared])
            for (result, _orders, billable), (_vals, sequences), invoice in zip(
                to_invoice, prepared, invoices, strict=True
            ):
                lines_by_sequence = {line.sequence: line for line in invoice.invoice_line_ids}
                lines_by_group = {key: lines_by_sequence[seq] for key, seq in sequences.items()}
                self._record_billed(billable, lines_by_group)
                result.invoice = invoice
        return results

    @api.model
    def _lock_contracts(self, orders):
        self.env.cr.execute(
            "UPDATE sale_order SET ps_billing_seq = COALESCE(ps_billing_seq, 0) + 1 WHERE id = ANY(%s)",
            (orders.ids,),
        )
        orders.invalidate_recordset(["ps_billing_seq"])

    # ------------------------------------------------------------------------------------------
    # Collecting billable items
    # ------------------------------------------------------------------------------------------

    @api.model
    def _prefetch_timesheets(self, orders, cutoff):
        """{contract line id: [timesheets]} of every not-yet-billed line of these contracts up to
        ``cutoff``, in one query (a run reads a chunk of contracts at once)."""
        lines = orders.order_line.filtered(lambda line: line.ps_billing_model in ("tm", "retainer"))
        found = defaultdict(list)
        if lines:
            timesheets = (
                self.env["account.analytic.line"]
                .sudo()
                .search(
                    [
                        ("so_line", "in", lines.ids),
                        ("project_id", "!=", False),
                        ("date", "<=", cutoff),
                        ("ps_billing_state", "in", ("unbilled", "review")),
                    ],
                    order="date, id",
                )
            )
            for timesheet in timesheets:
                found[timesheet.so_line.id].append(timesheet)
        return found

    @api.model
    def _collect(self, order, cutoff, invoice_date, include_review=False, prefetched=None):
        """Billable items of one contract up to ``cutoff``, and (order, what, reason, detail) of
        the items left out for a reason a user must see (not approved, no rate, deferred...).

        ``prefetched``: the result of ``_prefetch_timesheets`` for a batch of contracts.
        """
        if prefetched is None:
            prefetched = self._prefetch_timesheets(order, cutoff)
        items, skipped = [], []
        lines = order.order_line.filtered(
            lambda line: line.ps_billing_model and not line.display_type
        )
        states = ("unbilled", "review") if include_review else ("unbilled",)
        by_model = defaultdict(lambda: self.env["sale.order.line"])
        for line in lines:
            by_model[line.ps_billing_model] |= line
        if by_model["tm"] or by_model["retainer"]:
            self._collect_timesheets(
                order, by_model["tm"], cutoff, invoice_date, states, items, skipped, prefetched
            )
        if by_model["milestone"]:
            self._collect_milestones(order, by_model["milestone"], cutoff, states, items, skipped)
        if by_model["fixed_fee"]:
            self._collect_installments(order, by_model["fixed_fee"], cutoff, states, items, skipped)
        if by_model["retainer"]:
            self._collect_retainers(
                order, by_model["retainer"], cutoff, invoice_date, states, items, skipped
            )
        self._collect_expenses(order, cutoff, items, skipped)
        if not include_review:
            self._report_review_items(order, lines, cutoff, skipped, prefetched)
        items.sort(key=lambda item: (item.day, item.key))
        return items, skipped

    @api.model
    def _convert_rate(self, line, order, invoice_date):
        """A timesheet's stored rate in the contract's currency, on the invoice date."""
        rate_currency = line.ps_rate_currency_id or order.currency_id
        if rate_currency == order.currency_id:
            return line.ps_rate
        return float_round(
            rate_currency._convert(
                line.ps_rate, order.currency_id, order.company_id, invoice_date, round=False
            ),
            precision_digits=self.env["decimal.precision"].precision_get("Product Price"),
        )

    @api.model
    def _collect_timesheets(
        self, order, tm_lines, cutoff, invoice_date, states, items, skipped, prefetched
    ):
        if not tm_lines:
            return
        timesheets = sorted(
            (
                ts
                for sol in tm_lines
                for ts in prefetched.get(sol.id, ())
                if ts.date <= cutoff and ts.ps_billing_state in states
            ),
            key=lambda ts: (ts.date, ts.id),
        )
        detail = order.ps_invoice_detail or "role"
        currency = order.currency_id
        for ts in timesheets:
            what = _(
                "%(date)s %(employee)s, %(hours)s h",
                date=ts.date,
                employee=ts.employee_id.name,
                hours=ts.unit_amount,
            )
            if ts.ps_approval_state != "approved":
                skipped.append(
                    (
                        order,
                        what,
                        SKIP_NOT_APPROVED,
                        _(
                            "time is %s, not approved",
                            dict(ts._fields["ps_approval_state"].selection)[
                                ts.ps_approval_state
                            ].lower(),
                        ),
                    )
                )
                continue
            if ts.ps_defer_until and ts.ps_defer_until > cutoff:
                skipped.append((order, what, SKIP_DEFERRED, _("deferred to %s", ts.ps_defer_until)))
                continue
            if not ts.ps_rate_source:
                skipped.append(
                    (
                        order,
                        what,
                        SKIP_NO_RATE,
                        _(
                            "no rate card line and no price on the contract line applies to %s",
                            ts.employee_id.name,
                        ),
                    )
                )
                continue
            sol = ts.so_line
            quantity = (
                ts.product_uom_id._compute_quantity(ts.unit_amount, sol.product_uom)
                if ts.product_uom_id and sol.product_uom and ts.product_uom_id != sol.product_uom
                else ts.unit_amount
            )
            price = self._convert_rate(ts, order, invoice_date)
            standard = currency.round(quantity * price)
            adjusted = bool(ts.ps_adjustment_reason)
            amount = currency.round(ts.ps_adjusted_amount) if adjusted else standard
            role = ts.employee_id.job_id
            if adjusted:
                group_key = ("adjusted", "timesheet", ts.id)
            elif detail == "entry":
                group_key = ("tm", sol.id, "entry", ts.id)
            else:
                group_key = ("tm", sol.id, role.id or 0, price)
            items.append(
                Item(
                    key=f"timesheet:{ts.id}",
                    kind="timesheet",
                    record=ts,
                    sale_line=sol,
                    day=ts.date,
                    quantity=quantity,
                    price_unit=price,
                    standard=standard,
                    amount=amount,
                    description=self._timesheet_description(ts, detail, role),
                    group_key=group_key,
                    adjusted=adjusted,
                    employee=ts.employee_id,
                    project=ts.project_id,
                    task=ts.task_id,
                    timesheet_ids=[ts.id],
                )
            )

    @api.model
    def _timesheet_description(self, ts, detail, role):
        if detail == "entry":
            return _(
                "%(date)s %(employee)s: %(what)s",
                date=ts.date,
                employee=ts.employee_id.name,
                what=ts.name
                if ts.name and ts.name != "/"
                else ts.task_id.name or ts.project_id.name,
            )
        return role.name or ts.so_line.product_id.display_name

    @api.model
    def _collect_milestones(self, order, lines, cutoff, states, items, skipped):
        Milestone = self.env["project.milestone"].sudo()
        milestones = Milestone.search(
            [("sale_line_id", "in", lines.ids), ("ps_billing_state", "in", states)],
            order="reached_date, id",
        )
        currency = order.currency_id
        for milestone in milestones:
            sol = milestone.sale_line_id
            if (
                not milestone.is_reached
                or not milestone.reached_date
                or milestone.reached_date > cutoff
            ):
                continue
            if milestone.ps_defer_until and milestone.ps_defer_until > cutoff:
                skipped.append(
                    (
                        order,
                        milestone.name,
                        SKIP_DEFERRED,
                        _("deferred to %s", milestone.ps_defer_until),
                    )
                )
                continue
            remaining = Milestone.search_count(
                [
                    ("sale_line_id", "=", sol.id),
                    ("ps_billing_state", "!=", "billed"),
                    ("id", "!=", milestone.id),
                ]
            )
            quantity = self._share_quantity(sol, milestone.quantity_percentage, last=not remaining)
            standard = currency.round(quantity * sol.price_unit * (1 - (sol.discount or 0.0) / 100))
            adjusted = bool(milestone.ps_adjustment_reason)
            items.append(
                Item(
                    key=f"milestone:{milestone.id}",
                    kind="milestone",
                    record=milestone,
                    sale_line=sol,
                    day=milestone.reached_date,
                    quantity=quantity,
                    price_unit=sol.price_unit,
                    standard=standard,
                    amount=currency.round(milestone.ps_adjusted_amount) if adjusted else standard,
                    description=_(
                        "%(line)s: milestone %(milestone)s reached on %(date)s",
                        line=sol.product_id.display_name,
                        milestone=milestone.name,
                        date=milestone.reached_date,
                    ),
                    group_key=("milestone", milestone.id),
                    adjusted=adjusted,
                    project=milestone.project_id,
                )
            )

    @api.model
    def _share_quantity(self, sol, fraction, last):
        """Invoice quantity for a share of a line; the last share takes what is left so that the
        line ends exactly fully invoiced."""
        precision = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        if last:
            return float_round(sol.product_uom_qty - sol.qty_invoiced, precision_digits=precision)
        return float_round(sol.product_uom_qty * fraction, precision_digits=precision)

    @api.model
    def _collect_installments(self, order, lines, cutoff, states, items, skipped):
        Installment = self.env["ps.billing.installment"].sudo()
        currency = order.currency_id
        installments = Installment.search(
            [("sale_line_id", "in", lines.ids), ("ps_billing_state", "in", states)],
            order="date, id",
        )
        for installment in installments:
            if installment.date > cutoff:
                continue
            if installment.ps_defer_until and installment.ps_defer_until > cutoff:
                skipped.append(
                    (
                        order,
                        installment.name,
                        SKIP_DEFERRED,
                        _("deferred to %s", installment.ps_defer_until),
                    )
                )
                continue
            sol = installment.sale_line_id
            others = Installment.search_count(
                [
                    ("sale_line_id", "=", sol.id),
                    ("ps_billing_state", "!=", "billed"),
                    ("id", "!=", installment.id),
                ]
            )
            quantity = self._share_quantity(sol, installment.percentage / 100.0, last=not others)
            standard = currency.round(quantity * sol.price_unit * (1 - (sol.discount or 0.0) / 100))
            adjusted = bool(installment.ps_adjustment_reason)
            items.append(
                Item(
                    key=f"installment:{installment.id}",
                    kind="installment",
                    record=installment,
                    sale_line=sol,
                    day=installment.date,
                    quantity=quantity,
                    price_unit=sol.price_unit,
                    standard=standard,
                    amount=currency.round(installment.ps_adjusted_amount) if adjusted else standard,
                    description=_(
                        "%(line)s: %(name)s (%(pct)s%%)",
                        line=sol.product_id.display_name,
                        name=installment.name,
                        pct=installment.percentage,
                    ),
                    group_key=("installment", installment.id),
                    adjusted=adjusted,
                    deferred_revenue=True,
                )
            )

    @api.model
    def _collect_expenses(self, order, cutoff, items, skipped):
        """Re-invoiced expenses: the expense lines Odoo added to the contract when the expense
        report was posted (so already approved), billed at cost (or sales price) plus markup."""
        currency = order.currency_id
        markup = (order.ps_expense_markup or 0.0) / 100.0
        precision = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        expense_lines = order.order_line.filtered(
            lambda line: line.is_expense and not line.display_type
        )
        if not expense_lines:
            return
        analytic = (
            self.env["account.analytic.line"]
            .sudo()
            .search(
                [("so_line", "in", expense_lines.ids), ("move_line_id.expense_id", "!=", False)]
            )
        )
        expense_by_line = {a.so_line.id: a.move_line_id.expense_id for a in analytic}
        for sol in expense_lines:
            quantity = float_round(sol.qty_delivered - sol.qty_invoiced, precision_digits=precision)
            if float_is_zero(quantity, precision_digits=precision) or quantity < 0:
                continue
            expense = expense_by_line.get(sol.id)
            if expense and expense.ps_billing_state not in ("unbilled",):
                continue
            day = (
                expense.date
                if expense and expense.date
                else (sol.create_date.date() if sol.create_date else cutoff)
            )
            if day > cutoff:
                continue
            if expense and expense.ps_defer_until and expense.ps_defer_until > cutoff:
                skipped.append(
                    (
                        order,
                        expense.name,
                        SKIP_DEFERRED,
                        _("deferred to %s", expense.ps_defer_until),
                    )
                )
                continue
            price = sol.price_unit * (1 + markup)
            standard = currency.round(quantity * price)
            adjusted = bool(expense and expense.ps_adjustment_reason)
            items.append(
                Item(
                    key=f"expense:{sol.id}",
                    kind="expense",
                    record=expense,
                    sale_line=sol,
                    day=day,
                    quantity=quantity,
                    price_unit=price,
                    standard=standard,
                    amount=currency.round(expense.ps_adjusted_amount) if adjusted else standard,
                    description=sol.name.splitlines()[0]
                    if sol.name
                    else sol.product_id.display_name,
                    group_key=("expense", sol.id),
                    adjusted=adjusted,
                    employee=expense.employee_id if expense else None,
                )
            )

    @api.model
    def _report_review_items(self, order, lines, cutoff, skipped, prefetched):
        """Items a full credit note sent back to the pre-bill review: runs leave them there."""
        returned = sum(
            1
            for sol in lines
            for ts in prefetched.get(sol.id, ())
            if ts.ps_billing_state == "review" and ts.date <= cutoff
        )
        if returned:
            skipped.append(
                (
                    order,
                    _("%s timesheet line(s)", returned),
                    SKIP_REVIEW,
                    _("returned by a full credit note: bill them from the pre-bill review"),
                )
            )

    # ------------------------------------------------------------------------------------------
    # Retainers
    # ------------------------------------------------------------------------------------------

    @api.model
    def _retainer_periods(self, sol, cutoff):
        """Every period of a retainer line that starts on or before the day after ``cutoff``
        (created when missing), oldest first: a run at a period's end bills the next period's
        fee in advance."""
        Period = self.env["ps.retainer.period"].sudo()
        existing = {p.date_start: p for p in Period.search([("sale_line_id", "=", sol.id)])}
        horizon = cutoff + timedelta(days=1)
        end = min(horizon, sol.ps_retainer_end) if sol.ps_retainer_end else horizon
        bounds = (
            periods.periods_between(sol.ps_retainer_period or "monthly", sol.ps_retainer_start, end)
            if sol.ps_retainer_start and sol.ps_retainer_start <= end
            else []
        )
        result = Period.browse()
        for index, (start, stop) in enumerate(bounds):
            period = existing.get(start)
            if not period:
                period = Period.create(
                    {
                        "sale_line_id": sol.id,
                        "index": index,
                        "date_start": start,
                        "date_end": stop,
                        "included": sol.ps_retainer_included,
                    }
                )
                period._ledger(
                    "included", start, sol.ps_retainer_included, _("included in the period")
                )
            result |= period
        return result

    @api.model
    def _collect_retainers(self, order, lines, cutoff, invoice_date, states, items, skipped):
        currency = order.currency_id
        for sol in lines:
            for period in self._retainer_periods(sol, cutoff):
                # The fee is invoiced in advance: as soon as the period has started.
                if period.ps_billing_state in states:
                    items.append(
                        Item(
                            key=f"retainer_fee:{period.id}",
                            kind="retainer_fee",
                            record=period,
                            sale_line=sol,
                            day=period.date_start,
                            quantity=1.0,
                            price_unit=sol.price_unit,
                            standard=currency.round(
                                sol.price_unit * (1 - (sol.discount or 0.0) / 100)
                            ),
                            amount=currency.round(
                                period.ps_adjusted_amount
                                if period.ps_adjustment_reason
                                else sol.price_unit * (1 - (sol.discount or 0.0) / 100)
                            ),
                            description=_(
                                "%(line)s: retainer %(start)s to %(end)s",
                                line=sol.product_id.display_name,
                                start=period.date_start,
                                end=period.date_end,
                            ),
                            group_key=("retainer_fee", period.id),
                            adjusted=bool(period.ps_adjustment_reason),
                            deferred_revenue=True,
                        )
                    )
                # Overage is billed in arrears, after the period's true-up.
                if period.date_end <= cutoff:
                    if period.state == "open":
                        self._true_up(period)
                    if period.overage > 0 and not period.overage_invoice_line_id:
                        rate = sol.ps_overage_rate
                        if not rate:
                            skipped.append(
                                (
                                    order,
                                    period.display_name,
                                    SKIP_NO_RATE,
                                    _(
                                        "%(units)s overage unit(s) but no overage rate on the retainer line",
                                        units=period.overage,
                                    ),
                                )
                            )
                            continue
                        amount = currency.round(period.overage * rate)
                        items.append(
                            Item(
                                key=f"retainer_overage:{period.id}",
                                kind="retainer_overage",
                                record=period,
                                sale_line=sol,
                                day=period.date_end,
                                quantity=period.overage,
                                price_unit=rate,
                                standard=amount,
                                amount=amount,
                                description=_(
                                    "%(line)s: overage %(start)s to %(end)s (%(units)s %(unit)s beyond the retainer)",
                                    line=sol.product_id.display_name,
                                    start=period.date_start,
                                    end=period.date_end,
                                    units=period.overage,
                                    unit=_("h")
                                    if sol.ps_retainer_unit == "hours"
                                    else currency.symbol,
                                ),
                                group_key=("retainer_overage", period.id),
                                link_sale_line=False,
                            )
                        )

    @api.model
    def _true_up(self, period):
        """Close a retainer period: consumption from approved time, rollover, expiry, overage.

        Consumption is the approved time of the line not yet consumed up to the period's end:
        time approved late for an already closed period counts against this one.
        """
        sol = period.sale_line_id
        Line = self.env["account.analytic.line"].sudo()
        timesheets = Line.search(
            [
                ("so_line", "=", sol.id),
                ("project_id", "!=", False),
                ("date", "<=", period.date_end),
                ("ps_approval_state", "=", "approved"),
                ("ps_billing_state", "=", "unbilled"),
            ]
        )
        if sol.ps_retainer_unit == "amount":
            consumed = sum(ts.ps_rate * ts.unit_amount for ts in timesheets)
        else:
            consumed = sum(timesheets.mapped("unit_amount"))
        previous = (
            self.env["ps.retainer.period"]
            .sudo()
            .search(
                [("sale_line_id", "=", sol.id), ("date_end", "<", period.date_start)],
                order="date_start desc",
                limit=1,
            )
        )
        carried = [
            Bucket(b["units"], b["from"], b.get("expires"))
            for b in (previous.rollover_buckets or [])
        ]
        outcome = close_period(
            period.index,
            period.included,
            consumed,
            carried,
            rule=sol.ps_rollover_rule or "none",
            cap=sol.ps_rollover_cap,
            expiry_periods=sol.ps_rollover_expiry,
        )
        rolled_in = sum(b.units for b in carried)
        rolled_out = sum(b.units for b in outcome.rolled_over)
        period.write(
            {
                "rolled_in": rolled_in,
                "consumed": consumed,
                "overage": outcome.overage,
                "expired": outcome.expired,
                "rolled_out": rolled_out,
                "rollover_buckets": [
                    {"units": b.units, "from": b.from_period, "expires": b.expires_after}
                    for b in outcome.rolled_over
                ],
                "state": "closed",
                "closed_on": fields.Date.context_today(self),
            }
        )
        end = period.date_end
        if rolled_in:
            period._ledger(
                "rollover_in", period.date_start, rolled_in, _("carried from earlier periods")
            )
        if consumed:
            period._ledger(
                "consumption", end, -consumed, _("%s approved timesheet line(s)", len(timesheets))
            )
        if outcome.overage:
            period._ledger(
                "overage", end, outcome.overage, _("beyond what was available: billed in arrears")
            )
        if outcome.expired:
            period._ledger("expiry", end, -outcome.expired, _("unused and not carried over"))
        if rolled_out:
            period._ledger("rollover_out", end, -rolled_out, _("carried to the next period"))
        # The time is covered by the retainer: locked as billed on the period's fee.
        if timesheets:
            self.env.cr.execute(
                """UPDATE account_analytic_line SET ps_billing_state = 'billed',
                       ps_invoice_line_id = %s, ps_invoice_id = %s
                   WHERE id = ANY(%s) AND ps_billing_state = 'unbilled'""",
                (
                    period.ps_invoice_line_id.id or None,
                    period.ps_invoice_id.id or None,
                    timesheets.ids,
                ),
            )
            timesheets.invalidate_recordset()
        return outcome

    # ------------------------------------------------------------------------------------------
    # Holds and caps
    # ------------------------------------------------------------------------------------------

    @api.model
    def _drop_unconfigured(self, order, items, skipped):
        """Fixed-fee and retainer fees need the deferred revenue account: never post them to
        revenue by default."""
        if order.company_id.ps_deferred_revenue_account_id:
            return items
        missing = [item for item in items if item.deferred_revenue]
        for item in missing:
            skipped.append(
                (
                    order,
                    item.description,
                    SKIP_CONFIG,
                    _(
                        "set the deferred revenue account in Settings > Invoicing > Professional services "
                        "billing: fixed-fee and retainer fees post there"
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
                timesheet=item.record if item.kind == "timesheet" else None,
            )
            if hold:
                skipped.append(
                    (
                        order,
                        item.description
                        if item.kind != "timesheet"
                        else _(
                            "%(date)s %(employee)s, %(hours)s h",
                            date=item.day,
                            employee=item.employee.name,
                            hours=item.quantity,
                        ),
                        SKIP_HELD,
                        hold._describe(),
                    )
                )
            else:
                kept.append(item)
        return kept

    @api.model
    def _apply_cap(self, order, items, skipped):
        if not order.ps_cap_amount:
            return items
        already = order._ps_invoiced_amounts().get(order.id, 0.0)
        decision = allocate_under_cap(
            [(item.key, item.amount) for item in items],
            order.ps_cap_amount,
            already,
            order.ps_cap_approved_excess,
            rounding=order.currency_id.rounding,
        )
        over = set(decision.over_cap)
        if over:
            waiting = sum(item.amount for item in items if item.key in over)
            skipped.append(
                (
                    order,
                    _("%s item(s)", len(over)),
                    SKIP_OVER_CAP,
                    _(
                        "%(waiting)s would exceed the not-to-exceed amount of %(cap)s "
                        "(%(already)s invoiced): a Billing Manager must approve billing over the cap",
                        waiting=order.currency_id.format(waiting),
                        cap=order.currency_id.format(order.ps_cap_amount),
                        already=order.currency_id.format(already),
                    ),
                )
            )
            order._ps_request_cap_approval(waiting)
        return [item for item in items if item.key not in over]

    # ------------------------------------------------------------------------------------------
    # Building the invoice
    # ------------------------------------------------------------------------------------------

    @api.model
    def _invoice_values(self, orders, items, invoice_date):
        """Values of one native draft invoice for ``items``, and {group key: line sequence}."""
        first = orders[0]
        company = first.company_id
        deferred_account = company.ps_deferred_revenue_account_id
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
        groups = defaultdict(list)
        for item in items:
            groups[item.group_key].append(item)
        line_commands = []
        sequence_by_group = {}
        for sequence, (group_key, group) in enumerate(groups.items(), start=1):
            sol = group[0].sale_line
            quantity = sum(item.quantity for item in group)
            amount = sum(item.amount for item in group)
            if any(item.adjusted for item in group) or len({item.price_unit for item in group}) > 1:
                price = (
                    float_round(amount / quantity, precision_digits=price_digits)
                    if quantity
                    else amount
                )
            else:
                price = group[0].price_unit
            name = group[0].description
            if group[0].kind == "timesheet" and group_key[0] == "tm" and group_key[2] != "entry":
                first_day = min(item.day for item in group)
                last_day = max(item.day for item in group)
                name = _(
                    "%(role)s: %(hours)s h (%(start)s to %(end)s)",
                    role=name,
                    hours=quantity,
                    start=first_day,
                    end=last_day,
                )
            values = sol.with_company(company)._prepare_invoice_line(
                quantity=quantity,
                price_unit=price,
                discount=0.0
                if group[0].kind in ("timesheet", "expense", "retainer_overage")
                else sol.discount,
                name=name,
                sequence=sequence * 10,
            )
            values["ps_sale_line_id"] = sol.id
            if not group[0].link_sale_line:
                values.pop("sale_line_ids", None)
                values["analytic_distribution"] = sol.analytic_distribution
            if group[0].deferred_revenue and deferred_account:
                values["account_id"] = deferred_account.id
            line_commands.append(Command.create(values))
            sequence_by_group[group_key] = sequence * 10
        invoice_vals = first.with_company(company)._prepare_invoice()
        invoice_vals["invoice_date"] = invoice_date
        if len(orders) > 1:
            invoice_vals["invoice_origin"] = ", ".join(orders.mapped("name"))
            refs = [ref for ref in orders.mapped("client_order_ref") if ref]
            invoice_vals["ref"] = ", ".join(dict.fromkeys(refs))[:2000]
        invoice_vals["invoice_line_ids"] = line_commands
        return invoice_vals, sequence_by_group

    @api.model
    def _create_invoices_batch(self, vals_list):
        """One create for many invoices (much faster than one each), in Odoo's own way."""
        return (
            self.env["account.move"]
            .sudo()
            .with_context(default_move_type="out_invoice")
            .create(vals_list)
        )

    @api.model
    def _record_billed(self, items, lines_by_group):
        """Link every item to its invoice line with its share of the line's amount.

        Done in SQL, each update guarded by "still unbilled": if another run billed an item in
        the meantime the counts differ and the whole group is rolled back (ConcurrentBilling).
        """
        groups = defaultdict(list)
        for item in items:
            groups[item.group_key].append(item)
        rows_by_table = defaultdict(list)
        overage_rows = []
        for group_key, group in groups.items():
            line = lines_by_group[group_key]
            total = line.price_subtotal
            weights = [item.amount for item in group]
            weight_sum = sum(weights) or len(group)
            allocated = 0.0
            for index, item in enumerate(group):
                if index == len(group) - 1:
                    billed = line.currency_id.round(total - allocated)
                else:
                    billed = line.currency_id.round(total * (weights[index] or 1) / weight_sum)
                    allocated += billed
                if item.kind == "retainer_overage":
                    overage_rows.append((item.record.id, line.id, billed))
                elif item.record:
                    rows_by_table[item.record._table].append(
                        (item.record.id, line.id, line.move_id.id, item.standard, billed)
                    )
        for table, rows in rows_by_table.items():
            extra = ", timesheet_invoice_id = v.move" if table == "account_analytic_line" else ""
            self.env.cr.execute(
                SQL(
                    """UPDATE %s AS t
                       SET ps_billing_state = 'billed', ps_invoice_line_id = v.line,
                           ps_invoice_id = v.move, ps_standard_amount = v.standard,
                           ps_billed_amount = v.billed %s
                       FROM (VALUES %s) AS v(id, line, move, standard, billed)
                       WHERE t.id = v.id AND t.ps_invoice_line_id IS NULL
                         AND t.ps_billing_state IN ('unbilled', 'review')""",
                    SQL.identifier(table),
                    SQL(extra),
                    SQL(", ").join(SQL("(%s, %s, %s, %s::float, %s::float)", *row) for row in rows),
                )
            )
            if self.env.cr.rowcount != len(rows):
                raise ConcurrentBilling(table)
        for period_id, line_id, billed in overage_rows:
            self.env.cr.execute(
                """UPDATE ps_retainer_period SET overage_invoice_line_id = %s, overage_billed_amount = %s
                   WHERE id = %s AND overage_invoice_line_id IS NULL""",
                (line_id, billed, period_id),
            )
            if self.env.cr.rowcount != 1:
                raise ConcurrentBilling("ps_retainer_period")
        # Time consumed by a retainer period billed now points at the fee line too.
        for item in items:
            if item.kind == "retainer_fee":
                line = lines_by_group[item.group_key]
                self.env.cr.execute(
                    """UPDATE account_analytic_line SET ps_invoice_line_id = %s, ps_invoice_id = %s
                       WHERE so_line = %s AND date BETWEEN %s AND %s AND ps_billing_state = 'billed'
                         AND ps_invoice_line_id IS NULL""",
                    (
                        line.id,
                        line.move_id.id,
                        item.sale_line.id,
                        item.record.date_start,
                        item.record.date_end,
                    ),
                )
        for model in {item.record._name for item in items if item.record}:
            self.env[model].invalidate_model()
