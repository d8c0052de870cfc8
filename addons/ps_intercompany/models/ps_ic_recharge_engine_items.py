"""Loading the work a recharge looks at, in SQL (tens of thousands of timesheet lines a month):
new work of the provider's people on the receiver's projects, and work recharged before that
changed since."""

from collections import defaultdict

from odoo import models

from ..engine.corrections import Entry
from ..engine.pricing import EXPENSE, TIME, Item
from .ps_ic_recharge_engine import EXPENSE_MODEL, TIMESHEET, Meta

_TIMESHEET_COLUMNS = """
    l.id, l.date, l.employee_id, e.job_id, l.project_id, l.unit_amount, COALESCE(l.ps_cost_rate, 0),
    l.ps_approval_state = 'approved',
    CASE WHEN l.ps_billing_state = 'billed' AND inv.state = 'posted' THEN l.ps_billed_amount END,
    inv.currency_id, l.name, l.company_id, e.company_id"""
_EXPENSE_COLUMNS = """
    x.id, x.date, x.employee_id, e.job_id, x.ps_ic_project_id, 0.0, 0.0,
    x.state IN ('approved', 'done'), NULL::float, NULL::int, x.name, p.company_id, x.company_id,
    COALESCE(x.total_amount, 0) - COALESCE(x.tax_amount, 0)"""


class PsIcRechargeEngine(models.AbstractModel):
    _inherit = "ps.ic.recharge.engine"

    # ------------------------------------------------------------------------------------------
    # Loading the work
    # ------------------------------------------------------------------------------------------

    def _rows_to_items(self, rows, model):
        items = {}
        for row in rows:
            (rid, day, employee, job, project, hours, cost, approved, billed, billed_cur, name) = (
                row[:11]
            )
            expense_amount = row[13] if model == EXPENSE_MODEL else 0.0
            item = Item(
                model=model,
                id=rid,
                kind=EXPENSE if model == EXPENSE_MODEL else TIME,
                day=day,
                employee_id=employee,
                role_id=job,
                project_id=project,
                hours=hours or 0.0,
                cost_rate=cost or 0.0,
                billed_value=billed,
                billed_currency=billed_cur,
                expense_amount=expense_amount or 0.0,
                approved=bool(approved),
            )
            items[rid] = (item, Meta(name or "", day, employee, job, project), row[11], row[12])
        return items

    def _new_items(self, agreement, date_to):
        """Work of the provider's employees on the receiver's projects, up to ``date_to``, that
        has never been recharged under this agreement."""
        cr = self.env.cr
        params = {
            "provider": agreement.provider_company_id.id,
            "receiver": agreement.receiver_company_id.id,
            "agreement": agreement.id,
            "date_from": agreement.date_from,
            "date_to": date_to,
        }
        cr.execute(
            f"""SELECT {_TIMESHEET_COLUMNS}
                FROM account_analytic_line l
                JOIN hr_employee e ON e.id = l.employee_id
                LEFT JOIN account_move inv ON inv.id = l.ps_invoice_id
                WHERE l.company_id = %(receiver)s AND e.company_id = %(provider)s
                  AND l.project_id IS NOT NULL AND l.date BETWEEN %(date_from)s AND %(date_to)s
                  AND NOT EXISTS (SELECT 1 FROM ps_ic_recharge_entry x
                                  WHERE x.agreement_id = %(agreement)s
                                    AND x.item_model = 'account.analytic.line' AND x.item_ref = l.id)
                ORDER BY l.date, l.id""",
            params,
        )
        timesheets = self._rows_to_items(cr.fetchall(), TIMESHEET)
        cr.execute(
            f"""SELECT {_EXPENSE_COLUMNS}
                FROM hr_expense x
                JOIN project_project p ON p.id = x.ps_ic_project_id
                JOIN hr_employee e ON e.id = x.employee_id
                WHERE x.company_id = %(provider)s AND p.company_id = %(receiver)s
                  AND x.date BETWEEN %(date_from)s AND %(date_to)s
                  AND NOT EXISTS (SELECT 1 FROM ps_ic_recharge_entry r
                                  WHERE r.agreement_id = %(agreement)s
                                    AND r.item_model = 'hr.expense' AND r.item_ref = x.id)
                ORDER BY x.date, x.id""",
            params,
        )
        expenses = self._rows_to_items(cr.fetchall(), EXPENSE_MODEL)
        return [(TIMESHEET, rid, *data) for rid, data in timesheets.items()] + [
            (EXPENSE_MODEL, rid, *data) for rid, data in expenses.items()
        ]

    def _stale_items(self, agreement):
        """{(model, id): (entries, item or None, meta, belongs)} for the items of this agreement
        that changed (or were deleted) since they were recharged."""
        cr = self.env.cr
        cr.execute(
            """SELECT x.item_model, x.item_ref, x.basis, x.quantity, x.price_unit, x.cost_amount,
                      x.hours, x.project_ref, x.employee_ref, e.job_id, x.name, x.date
               FROM ps_ic_recharge_entry x
               LEFT JOIN hr_employee e ON e.id = x.employee_ref
               WHERE x.agreement_id = %s AND (x.item_model, x.item_ref) IN (
                   SELECT item_model, item_ref FROM ps_ic_recharge_entry
                   WHERE agreement_id = %s AND stale)
               ORDER BY x.id""",
            (agreement.id, agreement.id),
        )
        by_item = defaultdict(list)
        for (
            model,
            ref,
            basis,
            qty,
            price,
            cost,
            hours,
            project,
            employee,
            job,
            name,
            day,
        ) in cr.fetchall():
            by_item[(model, ref)].append(
                (
                    Entry(basis, qty, price, cost or 0.0, (project, employee)),
                    hours or 0.0,
                    Meta(name or "", day, employee, job, project),
                )
            )
        if not by_item:
            return {}
        current = {}
        for model, columns, table in (
            (
                TIMESHEET,
                _TIMESHEET_COLUMNS,
                """account_analytic_line l
                JOIN hr_employee e ON e.id = l.employee_id
                LEFT JOIN account_move inv ON inv.id = l.ps_invoice_id WHERE l.id = ANY(%s)""",
            ),
            (
                EXPENSE_MODEL,
                _EXPENSE_COLUMNS,
                """hr_expense x
                JOIN hr_employee e ON e.id = x.employee_id
                LEFT JOIN project_project p ON p.id = x.ps_ic_project_id WHERE x.id = ANY(%s)""",
            ),
        ):
            ids = [ref for item_model, ref in by_item if item_model == model]
            if ids:
                cr.execute(f"SELECT {columns} FROM {table}", (ids,))
                for rid, data in self._rows_to_items(cr.fetchall(), model).items():
                    current[(model, rid)] = data
        result = {}
        for key, entries in by_item.items():
            if key in current:
                item, meta, receiver, provider = current[key]
                belongs = (
                    receiver == agreement.receiver_company_id.id
                    and provider == agreement.provider_company_id.id
                    and item.project_id
                    and agreement._covers(item.day)
                )
                result[key] = (entries, item, meta, bool(belongs))
            else:
                result[key] = (entries, None, entries[-1][2], False)
        return result
