"""What is billable: from a contract and a cutoff date to the items a draft invoice may carry.

Approved unbilled time at its stored rate (converted to the contract line's unit), re-invoiced
expenses, reached milestones, due installments, retainer fees and overage, posted down payments
to deduct; then what is held, not configured, beyond what the contract sold or over its cap is
left out, each with the reason a user sees in the run report and the pre-bill review.
"""

from collections import defaultdict

from odoo import _, api, models
from odoo.tools import float_is_zero, float_round

from ..engine.billing_items import Item
from ..engine.constants import (
    APPROVAL_STATES,
    APPROVED,
    FIXED_FEE,
    KIND_EXPENSE,
    KIND_TIMESHEET,
    MILESTONE,
    OPEN_STATES,
    RETAINER,
    REVIEW,
    SKIP_BEYOND_SOLD,
    SKIP_DEFERRED,
    SKIP_NO_RATE,
    SKIP_NOT_APPROVED,
    SKIP_REVIEW,
    TM,
    UNBILLED,
)


class PsBillingCollector(models.AbstractModel):
    _name = "ps.billing.collector"
    _description = "Billable items of contracts"

    # ------------------------------------------------------------------------------------------
    # Batch reads for a chunk of contracts
    # ------------------------------------------------------------------------------------------

    @api.model
    def _prefetch(self, orders, cutoff):
        """What a chunk of contracts needs, read once: {"timesheets": {contract line id:
        [TimeRow]}, "invoiced": {contract line id: net invoiced amount}}."""
        lines = orders.order_line.filtered(lambda line: line.ps_billing_model in (TM, RETAINER))
        timesheets = defaultdict(list)
        if lines:
            for row in self._time_rows(lines, cutoff):
                timesheets[row.so_line].append(row)
        shares = orders.order_line.filtered(
            lambda line: line.ps_billing_model in (FIXED_FEE, MILESTONE, RETAINER)
        )
        return {"timesheets": timesheets, "invoiced": self._invoiced_by_line(shares)}

    @api.model
    def _time_rows(self, sale_lines, cutoff):
        """Open (unbilled or in review) time of these contract lines up to ``cutoff``, oldest
        first, as plain rows: a run reads thousands of lines, one query instead of the ORM's
        field by field reads."""
        Line = self.env["account.analytic.line"]
        Line.flush_model()
        self.env["hr.employee"].flush_model(["job_id"])
        self.env.cr.execute(
            f"""SELECT {", ".join(f"l.{name}" for name in TimeRow.COLUMNS)}, e.job_id
                FROM account_analytic_line l
                LEFT JOIN hr_employee e ON e.id = l.employee_id
                WHERE l.so_line = ANY(%s) AND l.project_id IS NOT NULL AND l.date <= %s
                  AND l.ps_billing_state IN %s
                ORDER BY l.date, l.id""",
            (sale_lines.ids, cutoff, OPEN_STATES),
        )
        return [TimeRow(*row) for row in self.env.cr.fetchall()]

    @api.model
    def _invoiced_by_line(self, sale_lines):
        """Net untaxed amount invoiced per contract line (drafts and posted, minus credit notes),
        in the contract's currency."""
        if not sale_lines:
            return {}
        self.env["account.move"].flush_model(["state", "move_type"])
        self.env["account.move.line"].flush_model(["price_subtotal", "ps_sale_line_id"])
        self.env.cr.execute(
            """
            SELECT sol.id,
                   SUM(CASE WHEN m.move_type = 'out_refund' THEN -aml.price_subtotal
                            ELSE aml.price_subtotal END)
            FROM account_move_line aml
            JOIN account_move m ON m.id = aml.move_id
            JOIN sale_order_line sol ON sol.id = COALESCE(
                aml.ps_sale_line_id,
                (SELECT rel.order_line_id FROM sale_order_line_invoice_rel rel
                 WHERE rel.invoice_line_id = aml.id LIMIT 1))
            WHERE sol.id = ANY(%s) AND m.state != 'cancel'
              AND m.move_type IN ('out_invoice', 'out_refund') AND aml.display_type = 'product'
            GROUP BY sol.id
            """,
            (sale_lines.ids,),
        )
        return dict(self.env.cr.fetchall())

    # ------------------------------------------------------------------------------------------
    # One contract
    # ------------------------------------------------------------------------------------------

    @api.model
    def _collect(
        self, order, cutoff, invoice_date, include_review=False, prefetched=None, period_start=None
    ):
        """Billable items of one contract up to ``cutoff`` (time from ``period_start`` on, when
        given), and (order, what, reason, detail) of the items left out for a reason a user must
        see (not approved, no rate, deferred...)."""
        if prefetched is None:
            prefetched = self._prefetch(order, cutoff)
        items, skipped = [], []
        lines = order.order_line.filtered(
            lambda line: line.ps_billing_model and not line.display_type
        )
        states = OPEN_STATES if include_review else (UNBILLED,)
        by_model = defaultdict(lambda: self.env["sale.order.line"])
        for line in lines:
            by_model[line.ps_billing_model] |= line
        context = {
            "order": order,
            "cutoff": cutoff,
            "start": period_start,
            "invoice_date": invoice_date,
            "states": states,
            "include_review": include_review,
            "prefetched": prefetched,
            "items": items,
            "skipped": skipped,
        }
        if by_model[TM] or by_model[RETAINER]:
            self._collect_timesheets(context, by_model[TM], by_model[RETAINER])
        if by_model[MILESTONE]:
            self._collect_milestones(context, by_model[MILESTONE])
        if by_model[FIXED_FEE]:
            self._collect_installments(context, by_model[FIXED_FEE])
        if by_model[RETAINER]:
            self._collect_retainers(context, by_model[RETAINER])
        self._collect_expenses(context)
        if not include_review:
            self._report_review_items(context, lines)
        items.sort(key=lambda item: (item.day, item.key))
        return items, skipped

    @api.model
    def _convert_rate(self, row, order, invoice_date):
        """A timesheet's stored rate in the contract's currency, on the invoice date."""
        if not row.ps_rate_currency_id or row.ps_rate_currency_id == order.currency_id.id:
            return row.ps_rate
        return (
            self.env["res.currency"]
            .browse(row.ps_rate_currency_id)
            ._convert(row.ps_rate, order.currency_id, order.company_id, invoice_date, round=False)
        )

    @api.model
    def _collect_timesheets(self, context, tm_lines, retainer_lines):
        order, cutoff, start = context["order"], context["cutoff"], context["start"]
        items, skipped, states = context["items"], context["skipped"], context["states"]
        prefetched = context["prefetched"]["timesheets"]
        # Time on a retainer beyond its last sold period is never consumed: say so.
        for sol in retainer_lines.filtered("ps_retainer_end"):
            late = [
                row
                for row in prefetched.get(sol.id, ())
                if row.date > sol.ps_retainer_end
                and row.ps_approval_state == APPROVED
                and row.ps_billing_state == UNBILLED
            ]
            if late:
                skipped.append(
                    (
                        order,
                        _("%s h on %s", sum(row.unit_amount for row in late), sol.product_id.name),
                        SKIP_BEYOND_SOLD,
                        _(
                            "after the retainer's last sold period (it ended on %(end)s after "
                            "%(count)s period(s)): amend the number of periods on the contract "
                            "line to bill it",
                            end=sol.ps_retainer_end,
                            count=sol.ps_period_count,
                        ),
                    )
                )
        rows = [
            row
            for sol in tm_lines
            for row in prefetched.get(sol.id, ())
            if row.date <= cutoff
            and (not start or row.date >= start)
            and row.ps_billing_state in states
        ]
        if not rows:
            return
        rows.sort(key=lambda row: (row.date, row.id))
        env = self.env
        ids = [row.id for row in rows]
        Line = env["account.analytic.line"].sudo().browse(ids)
        Employee = env["hr.employee"].sudo().browse({row.employee_id for row in rows} - {None})
        lines_by_id = {sol.id: sol for sol in tm_lines}
        roles = {
            job.id: job
            for job in env["hr.job"].sudo().browse({row.job_id for row in rows} - {None})
        }
        detail = order.ps_invoice_detail or "role"
        price_digits = env["decimal.precision"].precision_get("Product Price")
        approval_labels = dict(APPROVAL_STATES)
        units = env["uom.uom"]

        def what(row):
            return _(
                "%(date)s %(employee)s, %(hours)s h",
                date=row.date,
                employee=Employee.browse(row.employee_id).with_prefetch(Employee._ids).name,
                hours=round(row.unit_amount, 2),
            )

        for row in rows:
            if row.ps_approval_state != APPROVED:
                skipped.append(
                    (
                        order,
                        what(row),
                        SKIP_NOT_APPROVED,
                        _(
                            "time is %s, not approved",
                            approval_labels[row.ps_approval_state].lower(),
                        ),
                    )
                )
                continue
            if row.ps_defer_until and row.ps_defer_until > cutoff:
                skipped.append(
                    (order, what(row), SKIP_DEFERRED, _("deferred to %s", row.ps_defer_until))
                )
                continue
            employee = Employee.browse(row.employee_id).with_prefetch(Employee._ids)
            if not row.ps_rate_source:
                skipped.append(
                    (
                        order,
                        what(row),
                        SKIP_NO_RATE,
                        _(
                            "no rate card line and no price on the contract line applies to %s",
                            employee.name,
                        ),
                    )
                )
                continue
            sol = lines_by_id[row.so_line]
            rate = self._convert_rate(row, order, context["invoice_date"])
            quantity = row.unit_amount
            # Quantity and rate in the contract line's unit (hours billed on a line sold in days).
            if row.product_uom_id and sol.product_uom and row.product_uom_id != sol.product_uom.id:
                ts_unit = units.browse(row.product_uom_id)
                quantity = ts_unit._compute_quantity(quantity, sol.product_uom, round=False)
                rate = ts_unit._compute_price(rate, sol.product_uom)
            price = float_round(rate, precision_digits=price_digits)
            adjusted = bool(row.ps_adjustment_reason)
            role = roles.get(row.job_id)
            record = Line.browse(row.id).with_prefetch(Line._ids)
            if adjusted:
                group_key = ("adjusted", KIND_TIMESHEET, row.id)
            elif detail == "entry":
                group_key = (TM, sol.id, "entry", row.id)
            else:
                group_key = (TM, sol.id, row.job_id or 0, price)
            items.append(
                Item(
                    key=f"{KIND_TIMESHEET}:{row.id}",
                    kind=KIND_TIMESHEET,
                    record=record,
                    sale_line=sol,
                    day=row.date,
                    quantity=quantity,
                    price_unit=price,
                    description=self._timesheet_description(record, sol, detail, role),
                    group_key=group_key,
                    amount=row.ps_adjusted_amount if adjusted else None,
                    adjusted=adjusted,
                    hours=row.unit_amount,
                    employee=employee,
                    project=env["project.project"].browse(row.project_id),
                    task=env["project.task"].browse(row.task_id),
                )
            )

    @api.model
    def _timesheet_description(self, ts, sol, detail, role):
        if detail == "entry":
            return _(
                "%(date)s %(employee)s: %(what)s",
                date=ts.date,
                employee=ts.employee_id.name,
                what=ts.name
                if ts.name and ts.name != "/"
                else ts.task_id.name or ts.project_id.name,
            )
        return role.name if role else sol.product_id.display_name

    @api.model
    def _collect_expenses(self, context):
        """Re-invoiced expenses: the expense lines Odoo added to the contract when the expense
        report was posted (so already approved), billed at cost (or sales price) plus markup."""
        order, cutoff = context["order"], context["cutoff"]
        markup = (order.ps_expense_markup or 0.0) / 100.0
        precision = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
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
            quantity = sol.qty_delivered - sol.qty_invoiced
            if float_is_zero(quantity, precision_digits=precision) or quantity < 0:
                continue
            expense = expense_by_line.get(sol.id)
            if expense and expense.ps_billing_state not in context["states"]:
                continue
            day = (
                expense.date
                if expense and expense.date
                else (sol.create_date.date() if sol.create_date else cutoff)
            )
            if day > cutoff:
                continue
            if expense and self._deferred_skip(context, expense, expense.name):
                continue
            adjusted = bool(expense and expense.ps_adjustment_reason)
            context["items"].append(
                Item(
                    key=f"{KIND_EXPENSE}:{sol.id}",
                    kind=KIND_EXPENSE,
                    record=expense,
                    sale_line=sol,
                    day=day,
                    quantity=quantity,
                    price_unit=float_round(
                        sol.price_unit * (1 + markup), precision_digits=price_digits
                    ),
                    amount=expense.ps_adjusted_amount if adjusted else None,
                    adjusted=adjusted,
                    description=sol.name.splitlines()[0]
                    if sol.name
                    else sol.product_id.display_name,
                    group_key=(KIND_EXPENSE, sol.id),
                    employee=expense.employee_id if expense else None,
                )
            )

    @api.model
    def _report_review_items(self, context, lines):
        """Items a full credit note sent back to the pre-bill review: runs leave them there."""
        order, cutoff = context["order"], context["cutoff"]
        prefetched = context["prefetched"]["timesheets"]
        returned = sum(
            1
            for sol in lines
            for row in prefetched.get(sol.id, ())
            if row.ps_billing_state == REVIEW and row.date <= cutoff
        )
        by_model = {
            "project.milestone": ("sale_line_id", MILESTONE),
            "ps.billing.installment": ("sale_line_id", FIXED_FEE),
            "ps.retainer.period": ("sale_line_id", RETAINER),
        }
        for model, (field, billing_model) in by_model.items():
            model_lines = lines.filtered(lambda line, bm=billing_model: line.ps_billing_model == bm)
            if model_lines:
                returned += (
                    self.env[model]
                    .sudo()
                    .search_count(
                        [(field, "in", model_lines.ids), ("ps_billing_state", "=", REVIEW)]
                    )
                )
        if returned:
            context["skipped"].append(
                (
                    order,
                    _("%s item(s)", returned),
                    SKIP_REVIEW,
                    _("returned by a full credit note: bill them from the pre-bill review"),
                )
            )


class TimeRow:
    """One timesheet line as a billing run reads it (ids for relations)."""

    COLUMNS = (
        "id",
        "so_line",
        "date",
        "unit_amount",
        "product_uom_id",
        "employee_id",
        "project_id",
        "task_id",
        "ps_approval_state",
        "ps_billing_state",
        "ps_defer_until",
        "ps_rate",
        "ps_rate_currency_id",
        "ps_rate_source",
        "ps_adjustment_reason",
        "ps_adjusted_amount",
    )
    __slots__ = (*COLUMNS, "job_id")

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)
