"""Helpers that play the Kantata users (a mixin of :class:`FakeKantata`).

Set up users (with account memberships and cost rates per currency), workspaces, stories,
participations; log time and expenses; submit, approve (timesheet submissions) or reject; edit
or delete approved time as an account administrator; invoice; complete milestones. Every change
goes through the store, so it also lands in the Subscribed Events log.
"""

from datetime import timedelta
from decimal import Decimal

RECEIPT_BYTES = b"%PDF-1.4\n% fake Kantata receipt\n%%EOF\n"


def _cents(amount) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1)))


class Seeding:
    # Set-up -----------------------------------------------------------------------------------

    def add_user(
        self, full_name, email, *, admin=False, cost_rates=None, bill_rate_in_cents=None
    ) -> int:
        """A user on the account; ``cost_rates`` maps currency -> hourly cost in subunits."""
        with self._lock:
            user = self.store.add(
                "users",
                full_name=full_name,
                email_address=email,
                headline="",
                photo_path="https://example.com/avatar.png",
            )
            cost_rates = cost_rates or {}
            membership = self.store.add(
                "account_memberships",
                user_id=user["id"],
                is_administrator=admin,
                is_owner=False,
                is_project_lead=admin,
                permission="administrator" if admin else "collaborator",
                cost_rate_in_cents=next(iter(cost_rates.values()), None),
                bill_rate_in_cents=bill_rate_in_cents,
                disabled_at=None,
            )
            user["account_membership_id"] = membership["id"]
            for currency, amount in cost_rates.items():
                self.set_cost_rate(user["id"], currency, amount)
            return user["id"]

    def set_cost_rate(self, user_id, currency, amount_in_subunits) -> int:
        """Set the user's cost rate in ``currency`` (overrides it: future work only)."""
        with self._lock:
            membership = self.store.membership_of(user_id)
            existing = next(
                (
                    r
                    for r in self.store.cost_rates.values()
                    if r["account_membership_id"] == membership["id"] and r["currency"] == currency
                ),
                None,
            )
            if existing:
                self.store.update(
                    "cost_rates", existing, amount_in_subunits=int(amount_in_subunits)
                )
                return existing["id"]
            return self.store.add(
                "cost_rates",
                account_membership_id=membership["id"],
                currency=currency,
                amount_in_subunits=int(amount_in_subunits),
                in_use=True,
            )["id"]

    def add_workspace(
        self,
        title,
        *,
        currency="USD",
        require_time_approvals=True,
        require_expense_approvals=True,
        reference=None,
        **values,
    ) -> int:
        """A project; ``reference`` marks it with an external reference (service "odoo")."""
        with self._lock:
            workspace = self.store.add(
                "workspaces",
                **{
                    "title": title,
                    "description": "",
                    "account_id": self.store.account_id,
                    "archived": False,
                    "budgeted": False,
                    "price_in_cents": None,
                    "currency": currency,
                    "start_date": None,
                    "due_date": None,
                    "require_time_approvals": require_time_approvals,
                    "require_expense_approvals": require_expense_approvals,
                    **values,
                },
            )
            if reference:
                self._save_reference(
                    "Workspace",
                    workspace["id"],
                    {
                        "service_name": "odoo",
                        "service_model": "sale.order",
                        "service_model_ref": reference,
                    },
                )
            return workspace["id"]

    def add_story(self, workspace_id, title, story_type="task", **values) -> int:
        with self._lock:
            return self.store.add(
                "stories",
                **{
                    "workspace_id": workspace_id,
                    "title": title,
                    "story_type": story_type,
                    "state": "not started",
                    "billable": True,
                    "start_date": None,
                    "due_date": None,
                    "parent_id": None,
                    "description": "",
                    **values,
                },
            )["id"]

    def add_participant(self, workspace_id, user_id, role="maven") -> int:
        with self._lock:
            return self.store.add(
                "participations", workspace_id=workspace_id, user_id=user_id, role=role
            )["id"]

    def add_expense_category(self, name) -> int:
        with self._lock:
            return self.store.add("expense_categories", name=name, deleted_at=None)["id"]

    def add_billing_milestone(
        self, workspace_id, title, amount, date_to_invoice, story_id=None, billing_type="fixed_date"
    ) -> int:
        with self._lock:
            currency = self.store.workspaces[workspace_id]["currency"]
            return self.store.add(
                "billing_milestones",
                workspace_id=workspace_id,
                story_id=story_id,
                title=title,
                amount_in_cents=_cents(amount),
                currency=currency,
                date_to_invoice=date_to_invoice,
                billing_type=billing_type,
                invoice_id=None,
            )["id"]

    # What Kantata users do ---------------------------------------------------------------------

    def add_time_entry(self, user_id, workspace_id, date_performed, minutes, **values) -> dict:
        """A time entry with the rates and currency Kantata derives (used by the API too)."""
        workspace = self.store.workspaces[workspace_id]
        story = self.store.stories.get(values.get("story_id")) if values.get("story_id") else None
        membership = self.store.membership_of(user_id) or {}
        billable = values.pop("billable", None)
        if billable is None:
            billable = story["billable"] if story else True
        return self.store.add(
            "time_entries",
            **{
                "workspace_id": workspace_id,
                "user_id": user_id,
                "story_id": None,
                "date_performed": date_performed,
                "time_in_minutes": int(minutes),
                "billable": billable,
                "notes": "",
                "taxable": False,
                "rate_in_cents": membership.get("bill_rate_in_cents") or 0,
                "cost_rate_in_cents": self.store.cost_rate_for(user_id, workspace["currency"]),
                "currency": workspace["currency"],
                "is_invoiced": False,
                "invoice_id": None,
                "role_id": None,
                "active_submission_id": None,
                "recent_submission_id": None,
                **values,
            },
        )

    def log_time(
        self,
        user_id,
        workspace_id,
        date_performed,
        minutes,
        *,
        story_id=None,
        notes="",
        billable=None,
        approved=False,
    ) -> int:
        with self._lock:
            entry = self.add_time_entry(
                user_id,
                workspace_id,
                date_performed,
                minutes,
                story_id=story_id,
                notes=notes,
                billable=billable,
            )
            if approved:
                self.approve([entry["id"]])
            return entry["id"]

    def submit_time(self, entry_ids, comment="") -> int:
        """Submit entries -> id of the first submission.

        Kantata holds one submission per user, project and week: entries are grouped so.
        """
        with self._lock:
            groups = {}
            for entry_id in entry_ids:
                entry = self.store.time_entries[entry_id]
                day = entry["date_performed"]
                week = day - timedelta(days=day.weekday())
                groups.setdefault((entry["workspace_id"], entry["user_id"], week), []).append(entry)
            first = None
            for (workspace_id, user_id, week), entries in sorted(groups.items()):
                submission = self.store.add(
                    "timesheet_submissions",
                    workspace_id=workspace_id,
                    user_id=user_id,
                    status="pending",
                    comment=comment,
                    start_date=week,
                    end_date=week + timedelta(days=6),
                    title=f"Timesheet {week.isoformat()}",
                    type="TimesheetSubmission",
                    current_resolution_description=None,
                )
                for entry in entries:
                    self.store.update(
                        "time_entries",
                        entry,
                        active_submission_id=submission["id"],
                        recent_submission_id=submission["id"],
                    )
                first = first or submission["id"]
            return first

    def resolve_submissions(self, submission_ids, status, description="") -> None:
        """Approve, reject or cancel submissions; their entries change (and emit events)."""
        with self._lock:
            for submission_id in submission_ids:
                submission = self.store.timesheet_submissions[submission_id]
                self.store.update(
                    "timesheet_submissions",
                    submission,
                    status=status,
                    current_resolution_description=description,
                )
                for entry in list(self.store.time_entries.values()):
                    if entry["active_submission_id"] == submission_id:
                        active = submission_id if status == "approved" else None
                        self.store.update("time_entries", entry, active_submission_id=active)

    def approve(self, entry_ids) -> None:
        with self._lock:
            pending = [
                i for i in entry_ids if not self.store.time_entries[i]["active_submission_id"]
            ]
            if pending:
                self.submit_time(pending)
            submissions = {self.store.time_entries[i]["active_submission_id"] for i in entry_ids}
            self.resolve_submissions(sorted(submissions), "approved")

    def unapprove(self, entry_ids) -> None:
        """Reject the approved timesheets holding these entries (they lose their approval)."""
        with self._lock:
            submissions = {self.store.time_entries[i]["active_submission_id"] for i in entry_ids}
            self.resolve_submissions(
                sorted(s for s in submissions if s), "rejected", "Reopened after approval"
            )

    def edit_entry(self, entry_id, **changes) -> None:
        """Change an entry as an account administrator (allowed on approved time)."""
        with self._lock:
            self.store.update("time_entries", self.store.time_entries[entry_id], **changes)

    def delete_entry(self, entry_id) -> None:
        """Hard delete (no restore); a ``time_entry:deleted`` event is recorded."""
        with self._lock:
            self.store.delete("time_entries", self.store.time_entries[entry_id])

    def invoice(self, entry_ids) -> int:
        with self._lock:
            invoice_id = self.store.new_id()
            for entry_id in entry_ids:
                self.store.update(
                    "time_entries",
                    self.store.time_entries[entry_id],
                    is_invoiced=True,
                    invoice_id=invoice_id,
                )
            return invoice_id

    def complete_story(self, story_id) -> None:
        with self._lock:
            self.store.update("stories", self.store.stories[story_id], state="completed")

    def log_expense(
        self,
        user_id,
        workspace_id,
        day,
        amount,
        category_id,
        *,
        notes="",
        billable=True,
        receipt=False,
        approved=False,
    ) -> int:
        with self._lock:
            workspace = self.store.workspaces[workspace_id]
            receipt_id = None
            if receipt:
                attachment = self.store.add(
                    "attachments",
                    filename="receipt.pdf",
                    filesize=len(RECEIPT_BYTES),
                    url="",
                    previewable=False,
                )
                attachment["url"] = f"{self.url}/receipts/{attachment['id']}"
                self.store.receipt_bytes[attachment["id"]] = (RECEIPT_BYTES, "application/pdf")
                receipt_id = attachment["id"]
            expense = self.store.add(
                "expenses",
                workspace_id=workspace_id,
                user_id=user_id,
                story_id=None,
                date=day,
                notes=notes,
                amount_in_cents=_cents(amount),
                currency=workspace["currency"],
                billable=billable,
                is_invoiced=False,
                reimbursable=True,
                expense_category_id=category_id,
                category=self.store.expense_categories[category_id]["name"],
                receipt_id=receipt_id,
                active_submission_id=None,
            )
            if approved:
                self.approve_expenses([expense["id"]])
            return expense["id"]

    def approve_expenses(self, expense_ids) -> None:
        with self._lock:
            for expense_id in expense_ids:
                expense = self.store.expenses[expense_id]
                report = self.store.add(
                    "expense_report_submissions",
                    status="approved",
                    workspace_id=expense["workspace_id"],
                    user_id=expense["user_id"],
                    type="ExpenseReportSubmission",
                )
                self.store.update("expenses", expense, active_submission_id=report["id"])

    # Reading back (tests) --------------------------------------------------------------------------

    def time_entry(self, entry_id) -> dict | None:
        with self._lock:
            entry = self.store.time_entries.get(entry_id)
            return entry and self.store.to_json("time_entries", entry)
