"""Ready-made Kantata accounts for tests and the demo (a mixin of :class:`FakeKantata`)."""

from datetime import date, timedelta

from tests.fakes import psa_seed

from .seed import _cents


class Scenarios:
    # Scenarios ---------------------------------------------------------------------------------

    def seed_bulk(
        self, n, *, performed_from=date(2026, 10, 1), days=28, approved=True
    ) -> list[int]:
        """``n`` entries on one workspace without approvals required (hence approved)."""
        with self._lock:
            workspace = self.add_workspace(
                f"Bulk project {len(self.store.workspaces) + 1}",
                currency="EUR",
                require_time_approvals=not approved,
            )
            story = self.add_story(workspace, "Bulk work")
            users = [
                self.add_user(
                    f"Bulk User {i}",
                    f"bulk{i}.{workspace}@example.com",
                    cost_rates={"EUR": 6000},
                    bill_rate_in_cents=15000,
                )
                for i in range(2)
            ]
            for user in users:
                self.add_participant(workspace, user)
            self.store.events_enabled = False  # 5,000 creation events help no test
            try:
                return [
                    self.add_time_entry(
                        users[i % 2],
                        workspace,
                        performed_from + timedelta(days=i % days),
                        60 + 15 * (i % 7),
                        story_id=story,
                        notes=f"Bulk entry {i}",
                    )["id"]
                    for i in range(n)
                ]
            finally:
                self.store.events_enabled = True

    def seed_demo(self, today=None) -> dict:
        """Last month of the demo consultancy (``tests/fakes/psa_seed.py``), with corrections."""
        with self._lock:
            start, end = psa_seed.demo_month(today)
            currencies = {c["key"]: c["currency"] for c in psa_seed.DEMO_CLIENTS}
            users = {}
            for spec in psa_seed.DEMO_USERS:
                rates = {currency: _cents(spec["cost_rates"][-1][1]) for currency in ("EUR", "USD")}
                users[spec["key"]] = self.add_user(
                    f"{spec['first_name']} {spec['last_name']}",
                    spec["email"],
                    admin=spec["admin"],
                    cost_rates=rates,
                    bill_rate_in_cents=_cents(spec["billable_rate"]),
                )
            # The demo backend's token belongs to the demo administrator.
            self._tokens[self.api_token]["user_id"] = users["alexandra"]
            self.owner = users["alexandra"]
            projects, stories, milestones = {}, {}, {}
            for spec in psa_seed.DEMO_PROJECTS:
                fee = spec["fee"] or (
                    spec["budget"] * 180 if spec["budget_by"] == "project" else None
                )
                workspace = self.add_workspace(
                    spec["name"],
                    currency=currencies[spec["client"]],
                    reference=spec["code"],
                    budgeted=fee is not None,
                    price_in_cents=_cents(fee) if fee else None,
                    start_date=start - timedelta(days=30),
                    due_date=end + timedelta(days=150),
                    description=f"Contract {spec['code']}",
                )
                projects[spec["code"]] = workspace
                for name, billable, _rate in spec["tasks"]:
                    stories[(spec["code"], name)] = self.add_story(
                        workspace, name, billable=billable
                    )
                for key in spec["users"]:
                    self.add_participant(workspace, users[key])
                for title, day, reached, amount in spec["milestones"]:
                    due = start + timedelta(days=day - 1)
                    story = self.add_story(workspace, title, "milestone", due_date=due)
                    if reached:
                        self.complete_story(story)
                    milestones[title] = story
                    self.add_billing_milestone(
                        workspace, title, amount, due, story, "upon_completion"
                    )
            categories = {
                c["name"]: self.add_expense_category(c["name"]) for c in psa_seed.EXPENSE_CATEGORIES
            }
            entries = psa_seed.demo_time_entries(start, end)
            for spec in entries:
                spec["id"] = self.add_time_entry(
                    users[spec["user"]],
                    projects[spec["project"]],
                    spec["date"],
                    int(spec["hours"] * 60),
                    story_id=stories[(spec["project"], spec["task"])],
                    notes=spec["notes"],
                )["id"]
            self.submit_time([e["id"] for e in entries if e["approval"] != "unsubmitted"])
            self.approve([e["id"] for e in entries if e["approval"] == "approved"])
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
                unit_price = next(
                    c["unit_price"] for c in psa_seed.EXPENSE_CATEGORIES if c["name"] == category
                )
                total = amount * unit_price if unit_price is not None else amount
                expenses.append(
                    self.log_expense(
                        users[user],
                        projects[code],
                        start + timedelta(days=day - 1),
                        total,
                        categories[category],
                        notes=notes,
                        billable=billable,
                        receipt=receipt,
                        approved=True,
                    )
                )
            edited = psa_seed.pick(entries, psa_seed.EDITED_AFTER_APPROVAL["key"])["id"]
            self.edit_entry(
                edited,
                time_in_minutes=int(psa_seed.EDITED_AFTER_APPROVAL["hours"] * 60),
                notes=psa_seed.EDITED_AFTER_APPROVAL["notes"],
            )
            deleted = psa_seed.pick(entries, psa_seed.DELETED_AFTER_APPROVAL)["id"]
            self.delete_entry(deleted)
            picked = psa_seed.pick(entries, psa_seed.UNAPPROVED_AFTER_APPROVAL)["id"]
            week = self.store.time_entries[picked]["active_submission_id"]
            unapproved = [
                i for i, e in self.store.time_entries.items() if e["active_submission_id"] == week
            ]
            self.unapprove([picked])  # the whole weekly timesheet is rejected
            return {
                "month": (start, end),
                "users": users,
                "projects": projects,
                "stories": stories,
                "milestones": milestones,
                "entries": [e["id"] for e in entries if e["id"] != deleted],
                "expenses": expenses,
                "edited_after_approval": edited,
                "deleted_after_approval": deleted,
                "unapproved_after_approval": unapproved,
            }
