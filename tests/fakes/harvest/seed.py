"""Helpers that play the Harvest users (a mixin of :class:`FakeHarvest`).

Tests and the demo use them to set up an account and to do, "in Harvest", what the connector must
then notice: log time, approve or unapprove a week, edit or delete an entry after approval (as an
administrator can), invoice entries in Harvest. Ids are Harvest's integers.
"""

from datetime import date, timedelta
from decimal import Decimal

from tests.fakes import psa_seed

RECEIPT_BYTES = b"%PDF-1.4\n% fake receipt\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


class Seeding:
    # Set-up -----------------------------------------------------------------------------------

    def add_user(
        self,
        first_name,
        last_name,
        email,
        *,
        admin=False,
        contractor=False,
        cost_rates=(),
        billable_rates=(),
        **extra,
    ) -> int:
        """A user; ``cost_rates``/``billable_rates`` are ``(start date or None, amount)``."""
        with self._lock:
            roles = ("administrator",) if admin else ("member",)
            user = self.store.add_user(
                first_name, last_name, email, access_roles=roles, is_contractor=contractor, **extra
            )
            for start, amount in cost_rates:
                self.store.add_rate("cost", user["id"], Decimal(amount), start)
            for start, amount in billable_rates:
                self.store.add_rate("billable", user["id"], Decimal(amount), start)
            return user["id"]

    def add_client(self, name, currency="USD") -> int:
        with self._lock:
            return self.store.add_client(name, currency)["id"]

    def add_project(self, client_id, name, **values) -> int:
        with self._lock:
            return self.store.add_project(client_id, name, **values)["id"]

    def add_task(self, name, **values) -> int:
        with self._lock:
            return self.store.add_task(name, **values)["id"]

    def assign_task(self, project_id, task_id, **values) -> int:
        with self._lock:
            return self.store.add_task_assignment(project_id, task_id, **values)["id"]

    def assign_user(self, project_id, user_id, **values) -> int:
        with self._lock:
            return self.store.add_user_assignment(project_id, user_id, **values)["id"]

    def add_expense_category(self, name, unit_name=None, unit_price=None) -> int:
        with self._lock:
            return self.store.add_expense_category(name, unit_name, unit_price)["id"]

    # What Harvest users do ---------------------------------------------------------------------

    def log_time(
        self, user_id, project_id, task_id, spent_date, hours, notes="", approval="unsubmitted"
    ) -> int:
        with self._lock:
            entry = self.store.add_time_entry(
                user_id, project_id, task_id, spent_date, Decimal(str(hours)), notes
            )
            entry["approval_status"] = approval
            return entry["id"]

    def log_expense(
        self,
        user_id,
        project_id,
        category_id,
        spent_date,
        *,
        total_cost=None,
        units=None,
        notes="",
        billable=True,
        receipt=False,
        approval="unsubmitted",
    ) -> int:
        with self._lock:
            expense = self.store.add_expense(
                user_id,
                project_id,
                category_id,
                spent_date,
                total_cost=total_cost,
                units=units,
                notes=notes,
                billable=billable,
                approval_status=approval,
            )
            if receipt:
                expense["receipt"] = {
                    "url": f"{self.url}/expenses/{expense['id']}/receipt",
                    "file_name": f"receipt-{expense['id']}.pdf",
                    "file_size": len(RECEIPT_BYTES),
                    "content_type": "application/pdf",
                }
                self.store.receipts[expense["id"]] = (RECEIPT_BYTES, "application/pdf")
            return expense["id"]

    def _set_status(self, records, ids, status) -> None:
        with self._lock:
            for record_id in ids:
                record = records[record_id]
                record["approval_status"] = status
                self.store.touch(record)

    def submit(self, entry_ids) -> None:
        self._set_status(self.store.time_entries, entry_ids, "submitted")

    def approve(self, entry_ids) -> None:
        """Approve entries (Harvest approves whole weeks: pass the week's entries)."""
        self._set_status(self.store.time_entries, entry_ids, "approved")

    def unapprove(self, entry_ids, status="submitted") -> None:
        """Withdraw approval, as an administrator can after the fact."""
        self._set_status(self.store.time_entries, entry_ids, status)

    def approve_expenses(self, expense_ids) -> None:
        self._set_status(self.store.expenses, expense_ids, "approved")

    def edit_entry(self, entry_id, **changes) -> None:
        """Change an entry as an administrator (allowed even when approved or invoiced)."""
        with self._lock:
            entry = self.store.time_entries[entry_id]
            for name, value in changes.items():
                entry[name] = Decimal(str(value)) if name == "hours" else value
            entry["billable_rate"], entry["cost_rate"] = self.store.entry_rates(entry)
            self.store.touch(entry)

    def delete_entry(self, entry_id) -> None:
        """Delete an entry for good: Harvest keeps no trace and has no deleted feed."""
        with self._lock:
            del self.store.time_entries[entry_id]
            self.store.deleted_time_entries.add(entry_id)

    def delete_expense(self, expense_id) -> None:
        with self._lock:
            del self.store.expenses[expense_id]

    def invoice(self, entry_ids=(), expense_ids=(), number=None) -> int:
        """Invoice entries in Harvest itself (``is_billed``, ``invoice`` set; locked)."""
        with self._lock:
            invoice_id = self.store.new_id("invoice")
            invoice = {"id": invoice_id, "number": number or str(invoice_id - 13_149_000)}
            for records, ids in (
                (self.store.time_entries, entry_ids),
                (self.store.expenses, expense_ids),
            ):
                for record_id in ids:
                    records[record_id]["is_billed"] = True
                    records[record_id]["invoice"] = dict(invoice)
                    self.store.touch(records[record_id])
            return invoice_id

    def archive_project(self, project_id) -> None:
        with self._lock:
            self.store.projects[project_id]["is_active"] = False
            self.store.touch(self.store.projects[project_id])

    # Reading back (tests) -------------------------------------------------------------------------

    def time_entry(self, entry_id) -> dict | None:
        with self._lock:
            entry = self.store.time_entries.get(entry_id)
            return entry and self.store.time_entry_json(entry)

    def time_entry_ids(self) -> list[int]:
        with self._lock:
            return sorted(self.store.time_entries)

    # Scenarios --------------------------------------------------------------------------------

    def seed_bulk(self, n, *, spent_from=date(2026, 10, 1), days=28, approved=True) -> list[int]:
        """``n`` entries (one project, two users, one task) spread over ``days`` days."""
        with self._lock:
            client = self.store.add_client(f"Bulk client {len(self.store.clients) + 1}", "EUR")
            project = self.store.add_project(
                client["id"],
                f"Bulk project {client['id']}",
                code=f"BULK-{client['id']}",
                bill_by="Project",
                hourly_rate=Decimal("150"),
            )
            task = self.store.add_task(f"Bulk work {project['id']}")
            self.store.add_task_assignment(project["id"], task["id"])
            users = [
                self.store.add_user("Bulk", f"User {i}", f"bulk{i}.{project['id']}@example.com")
                for i in range(2)
            ]
            for user in users:
                self.store.add_rate("cost", user["id"], Decimal("60"), None)
                self.store.add_user_assignment(project["id"], user["id"])
            ids = []
            for i in range(n):
                entry = self.store.add_time_entry(
                    users[i % 2]["id"],
                    project["id"],
                    task["id"],
                    spent_from + timedelta(days=i % days),
                    Decimal("1.25") + Decimal(i % 7) / 4,
                    f"Bulk entry {i}",
                )
                if approved:
                    entry["approval_status"] = "approved"
                ids.append(entry["id"])
            return ids

    def seed_demo(self, today=None) -> dict:
        """Last month of the demo consultancy (``tests/fakes/psa_seed.py``), with corrections.

        Returns ids for tests and the demo banner: users and projects by key/code, and the ids
        of the entries edited, deleted and unapproved after approval.
        """
        with self._lock:
            start, end = psa_seed.demo_month(today)
            users = {}
            for spec in psa_seed.DEMO_USERS:
                users[spec["key"]] = self.add_user(
                    spec["first_name"],
                    spec["last_name"],
                    spec["email"],
                    admin=spec["admin"],
                    contractor=spec["contractor"],
                    cost_rates=psa_seed.cost_rate_history(spec, start),
                    billable_rates=[(None, spec["billable_rate"])],
                )
            # The token used by the demo backend belongs to the demo administrator.
            self._pats[self.personal_access_token] = users["alexandra"]
            self.owner = self.store.users[users["alexandra"]]
            clients = {
                c["key"]: self.add_client(c["name"], c["currency"]) for c in psa_seed.DEMO_CLIENTS
            }
            projects, tasks = {}, {}
            for spec in psa_seed.DEMO_PROJECTS:
                project_id = self.add_project(
                    clients[spec["client"]],
                    spec["name"],
                    code=spec["code"],
                    bill_by=spec["bill_by"],
                    budget_by=spec["budget_by"],
                    budget=spec["budget"],
                    is_fixed_fee=spec["is_fixed_fee"],
                    fee=spec["fee"],
                    hourly_rate=spec["hourly_rate"],
                    starts_on=start - timedelta(days=30),
                    ends_on=end + timedelta(days=150),
                )
                projects[spec["code"]] = project_id
                for name, billable, rate in spec["tasks"]:
                    task_id = next(
                        (t["id"] for t in self.store.tasks.values() if t["name"] == name), None
                    )
                    if task_id is None:
                        task_id = self.add_task(name, billable_by_default=billable)
                    tasks[(spec["code"], name)] = task_id
                    self.assign_task(project_id, task_id, billable=billable, hourly_rate=rate)
                for key in spec["users"]:
                    self.assign_user(project_id, users[key])
            categories = {
                c["name"]: self.add_expense_category(c["name"], c["unit_name"], c["unit_price"])
                for c in psa_seed.EXPENSE_CATEGORIES
            }
            entries = psa_seed.demo_time_entries(start, end)
            for spec in entries:
                spec["id"] = self.log_time(
                    users[spec["user"]],
                    projects[spec["project"]],
                    tasks[(spec["project"], spec["task"])],
                    spec["date"],
                    spec["hours"],
                    spec["notes"],
                    approval=spec["approval"],
                )
            expenses = []
            for (
                user,
                code,
                day,
                category,
                amount,
                billable,
                notes,
                receipt,
            ) in psa_seed.DEMO_EXPENSES:
                unit_priced = any(
                    c["name"] == category and c["unit_price"] is not None
                    for c in psa_seed.EXPENSE_CATEGORIES
                )
                expenses.append(
                    self.log_expense(
                        users[user],
                        projects[code],
                        categories[category],
                        start + timedelta(days=day - 1),
                        total_cost=None if unit_priced else amount,
                        units=amount if unit_priced else None,
                        notes=notes,
                        billable=billable,
                        receipt=receipt,
                        approval="approved",
                    )
                )
            edited = psa_seed.pick(entries, psa_seed.EDITED_AFTER_APPROVAL["key"])["id"]
            self.edit_entry(
                edited,
                hours=psa_seed.EDITED_AFTER_APPROVAL["hours"],
                notes=psa_seed.EDITED_AFTER_APPROVAL["notes"],
            )
            deleted = psa_seed.pick(entries, psa_seed.DELETED_AFTER_APPROVAL)["id"]
            self.delete_entry(deleted)
            unapproved = psa_seed.pick(entries, psa_seed.UNAPPROVED_AFTER_APPROVAL)["id"]
            self.unapprove([unapproved])
            return {
                "month": (start, end),
                "users": users,
                "clients": clients,
                "projects": projects,
                "tasks": tasks,
                "entries": [e["id"] for e in entries if e["id"] != deleted],
                "expenses": expenses,
                "edited_after_approval": edited,
                "deleted_after_approval": deleted,
                "unapproved_after_approval": [unapproved],
            }
