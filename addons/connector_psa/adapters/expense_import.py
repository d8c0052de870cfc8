"""Expenses: approved PSA expenses become ``hr.expense`` in expense reports per employee and
month, with the mapped product, the project's analytic account, the receipt, and the contract
to re-invoice when the expense is billable (Odoo's own re-invoicing, billed by billing runs with
the contract's markup). The backend decides whether the reports are also approved and posted.

An expense imported before follows the PSA while its report is not posted; once posted (or
billed) a change becomes a correction item.
"""

import base64
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from odoo.addons.connector_base.engine.errors import BusinessError, ConnectorError

from ..engine import corrections
from ..engine.payloads import from_payload, unpack
from ..engine.validation import report, validate_expense
from .deletions import EXPENSE
from .resolver import Resolver


def expense_key(expense):
    return f"expense:{expense.remote_id}"


class ExpenseImportMixin:
    def pull_expenses(self, stream, job):
        pages = self.client().expenses_since(
            stream.cursor_date or None,
            overlap=self.overlap(),
            approved_only=False,
            resume=stream.cursor_value or None,
        )
        return self._pull_page(stream, pages, self._queue_expenses)

    def _queue_expenses(self, expenses, source="pull"):
        start = self.backend.psa_start_date
        expenses = [e for e in expenses if not start or e.spent_on >= start]
        bound = self._bound(EXPENSE, [e.remote_id for e in expenses if not e.approved])
        expenses = [e for e in expenses if e.approved or e.remote_id in bound]
        self._queue_batches("psa.expense.batch", "expense", expenses, source)
        return len(expenses)

    def import_expense_batch(self, job):
        expenses = unpack("expense", job._payload().get("entries") or {})
        waiting = self._waiting_record_keys({expense_key(e) for e in expenses})
        for expense in expenses:
            if expense_key(expense) in waiting:
                self._queue_single("psa.expense.entry", "expense", expense, expense_key(expense))
        problems = self._import_expenses([e for e in expenses if expense_key(e) not in waiting])
        for expense, message in problems:
            self._queue_single(
                "psa.expense.entry", "expense", expense, expense_key(expense), problem=message
            )
        return None

    def import_expense_entry(self, job):
        expense = from_payload("expense", job._payload()["entry"])
        current = self.client().get_expense(expense.remote_id)
        if current is None:
            self.handle_deleted("expense", [expense.remote_id])
            return None
        problems = self._import_expenses([current])
        if problems:
            raise BusinessError(problems[0][1])
        return None

    # ------------------------------------------------------------------------------------------

    def _category_products(self):
        rows = self.env["connector.psa.category.map"].search([("backend_id", "=", self.backend.id)])
        by_ref = {row.psa_category_ref: row.product_id for row in rows if row.psa_category_ref}
        by_name = {
            (row.psa_category_name or "").lower(): row.product_id
            for row in rows
            if row.psa_category_name
        }
        return by_ref, by_name

    def _import_expenses(self, expenses):
        problems = []
        if not expenses:
            return problems
        Expense = self.env["hr.expense"]
        bound = self._bound(EXPENSE, [e.remote_id for e in expenses])
        existing = {rec.id: rec for rec in Expense.browse(set(bound.values())).exists()}
        resolver = Resolver(self, expenses)
        by_ref, by_name = self._category_products()
        default_product = self.backend.psa_default_expense_product_id
        sheets = self.env["hr.expense.sheet"]
        for expense in expenses:
            record = existing.get(bound.get(expense.remote_id))
            product = (
                by_ref.get(expense.category_id)
                or by_name.get((expense.category_name or "").lower())
                or default_product
            )
            resolution = resolver.resolve(expense, kind="expense")
            if not resolution.project and self.backend.psa_unknown_projects == "ignore":
                continue
            if record and record._psa_is_locked():
                self._expense_changed_after_posting(record, expense)
                continue
            if record and record.psa_fingerprint == expense.fingerprint:
                continue
            if not expense.approved:
                if record:  # lost its approval before posting: it leaves the report
                    record._psa_remove_deleted(self.tool, reason="unapproved")
                continue
            subject = replace(
                resolution.subject,
                amount=f"{expense.amount} {expense.currency or ''}".strip(),
                extra={"category": expense.category_name},
            )
            facts = replace(resolution.facts, category_product=product.display_name or None)
            found = validate_expense(subject, facts, expense.amount)
            if found:
                problems.append((expense, report(subject, self.tool, found)))
                continue
            values = self._expense_values(expense, resolution, product)
            if record:
                record.write(values)
            else:
                record = Expense.create(values)
                self._bind_entry(record, EXPENSE, expense)
                self._attach_receipt(record, expense)
            sheets |= self._report_for(record)
        self._finish_reports(sheets)
        return problems

    def _expense_values(self, expense, resolution, product):
        project = resolution.project
        order = project.sale_order_id or project.sale_line_id.order_id
        reinvoice = (
            expense.billable
            and order
            and order.state == "sale"
            and product.expense_policy in ("cost", "sales_price")
        )
        values = {
            "name": (expense.notes or expense.category_name or product.name or "").strip()[:200],
            "employee_id": resolution.employee.id,
            "product_id": product.id,
            "date": expense.spent_on,
            "payment_mode": "own_account",
            "sale_order_id": order.id if reinvoice else False,
            "psa_backend_id": self.backend.id,
            "psa_remote_id": expense.remote_id,
            "psa_user_ref": expense.user_id,
            "psa_billable": expense.billable,
            "psa_category": expense.category_name or False,
            "psa_amount": float(expense.amount),
            "psa_fingerprint": expense.fingerprint,
            "psa_updated_at": expense.updated_at or False,
            "psa_deleted": False,
            "description": f"{self.tool} expense {expense.remote_id}: {expense.notes or ''}".strip(),
        }
        if project.account_id:
            values["analytic_distribution"] = {str(project.account_id.id): 100.0}
        currency = self._currency_id(expense.currency)
        if currency:
            values["currency_id"] = currency
        cost = product.standard_price
        if cost and expense.units:
            values["quantity"] = float(expense.units)
        else:
            values.update(quantity=1.0, total_amount_currency=float(expense.amount))
        return values

    def _report_for(self, record):
        """The draft report of the employee and month (created when missing)."""
        if record.sheet_id:
            return record.sheet_id
        first = record.date.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        name = f"{self.tool} expenses {first:%Y-%m} ({record.employee_id.name})"
        Sheet = self.env["hr.expense.sheet"]
        sheet = Sheet.search(
            [
                ("psa_backend_id", "=", self.backend.id),
                ("employee_id", "=", record.employee_id.id),
                ("psa_period_start", "=", first),
                ("state", "=", "draft"),
            ],
            limit=1,
        )
        if not sheet:
            sheet = Sheet.create(
                {
                    "name": name,
                    "employee_id": record.employee_id.id,
                    "psa_backend_id": self.backend.id,
                    "psa_period_start": first,
                    "psa_period_end": last,
                }
            )
        record.sheet_id = sheet
        return sheet

    def _finish_reports(self, sheets):
        """Approve and post the reports (backend setting); else accounting does."""
        if self.backend.psa_expense_posting != "post" or not sheets:
            return
        for sheet in sheets.filtered(lambda s: s.state == "draft" and s.expense_line_ids):
            sheet.action_submit_sheet()
            sheet.action_approve_expense_sheets()
            if sheet.state != "approve":  # e.g. Odoo found duplicates: a person decides
                self._note(
                    sheet,
                    f"Not approved automatically by the {self.tool} import: check the "
                    "report (duplicates?) and approve it by hand.",
                )
                continue
            sheet.action_sheet_move_post()

    def _attach_receipt(self, record, expense):
        if not expense.receipt_url:
            return
        try:
            content, content_type = self.client().download_receipt(expense)
        except ConnectorError as exc:
            if exc.error_class == "business":  # not fatal: the expense stays, the note says why
                self._note(record, f"Receipt not downloaded: {exc.message}")
                return
            raise
        self.env["ir.attachment"].create(
            {
                "name": expense.receipt_name or f"receipt-{expense.remote_id}",
                "datas": base64.b64encode(content),
                "mimetype": content_type or "application/octet-stream",
                "res_model": "hr.expense",
                "res_id": record.id,
            }
        )

    def _expense_changed_after_posting(self, record, expense):
        if record.psa_fingerprint == expense.fingerprint:
            return
        changes = {}
        if Decimal(str(round(record.psa_amount, 2))) != expense.amount:
            changes["amount"] = (record.psa_amount, str(expense.amount))
        if record.date != expense.spent_on:
            changes["date"] = (record.date, expense.spent_on)
        if record.psa_billable != expense.billable:
            changes["billable"] = (record.psa_billable, expense.billable)
        kind = corrections.KIND_CHANGED if expense.approved else corrections.KIND_UNAPPROVED
        if not changes and expense.approved:
            record.write({"psa_fingerprint": expense.fingerprint})
            return
        decision = corrections.Decision(corrections.CORRECTION, kind, changes)
        self.env["connector.psa.correction"]._record_expense(
            self.backend, record, expense, decision
        )
