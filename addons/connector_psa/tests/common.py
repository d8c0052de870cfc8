"""Shared set-up of the PSA connector tests: the fake Harvest and Kantata servers on loopback, a
governed T&M contract with its project, employees, and one "world" per tool that plays what PSA
users do (log, approve, edit, unapprove, delete) so that every scenario runs against both."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import _super_send

from odoo.addons.connector_base.engine.redaction import SECRETS
from odoo.addons.connector_base.tests.common import (
    TEST_KEY,
    drain_queue,
    harness_keys,
    vault_keys,
)

try:  # the project's fake servers (tests/fakes), importable when run from the repository
    from tests.fakes.harvest import FakeHarvest
    from tests.fakes.kantata import FakeKantata
except ImportError:  # pragma: no cover - addon installed outside the repository
    FakeHarvest = FakeKantata = None

INTEGRATION_GROUPS = ",".join(
    [
        "base.group_user",
        "connector_base.group_connector_user",
        "ps_billing_rules.group_billing_manager",
        "hr_timesheet.group_timesheet_manager",
        "hr_expense.group_hr_expense_manager",
        "hr.group_hr_user",
        "project.group_project_manager",
        "sales_team.group_sale_salesman_all_leads",
        "account.group_account_invoice",
    ]
)
PEOPLE = {
    "ann": ("Ann", "Lead", "ann.lead@example.com"),
    "bob": ("Bob", "Builder", "bob.builder@example.com"),
    "cid": ("Cid", "Contractor", "cid.contractor@example.com"),  # no employee in Odoo
}
CONSULTING, INTERNAL = "Consulting", "Internal"
PSA_RATE = 140  # the PSA's own hourly rate; Odoo bills the contract's 150


class HarvestWorld:
    """The fake Harvest, seeded with the contract's project, and what its users do."""

    tool = "harvest"

    def __init__(self, code, start=None):
        self.fake = FakeHarvest().start()
        fake = self.fake
        self.users = {
            key: fake.add_user(first, last, email, cost_rates=[(None, 60)])
            for key, (first, last, email) in PEOPLE.items()
        }
        client = fake.add_client("Initech", "USD")
        self.project = fake.add_project(
            client, "Initech platform", code=code, bill_by="Tasks", starts_on=start
        )
        self.tasks = {
            CONSULTING: fake.add_task(CONSULTING),
            INTERNAL: fake.add_task(INTERNAL, billable_by_default=False),
        }
        fake.assign_task(self.project, self.tasks[CONSULTING], billable=True, hourly_rate=PSA_RATE)
        fake.assign_task(self.project, self.tasks[INTERNAL], billable=False)
        for user in self.users.values():
            fake.assign_user(self.project, user)

    def stop(self):
        self.fake.stop()

    def backend_values(self):
        return {
            "api_base_url": self.fake.url,
            "auth_base_url": self.fake.id_url,
            "psa_account_id": str(self.fake.account_id),
            "psa_contact_email": "tests@example.com",
            "psa_web_url": self.fake.url,
        }

    def token(self):
        return self.fake.personal_access_token

    def log(self, user, day, hours, task=CONSULTING, notes="", approved=True):
        return self.fake.log_time(
            self.users[user],
            self.project,
            self.tasks[task],
            day,
            hours,
            notes,
            approval="approved" if approved else "submitted",
        )

    def edit(self, entry, **changes):
        mapped = {"day": "spent_date"}
        self.fake.edit_entry(entry, **{mapped.get(k, k): v for k, v in changes.items()})

    def unapprove(self, entry):
        self.fake.unapprove([entry])

    def approve(self, entry):
        self.fake.approve([entry])

    def delete(self, entry):
        self.fake.delete_entry(entry)

    def entry(self, entry):
        return self.fake.time_entry(entry)

    def fake_edit_expense(self, expense, amount):
        with self.fake._lock:
            record = self.fake.store.expenses[expense]
            record["total_cost"] = Decimal(str(amount))
            self.fake.store.touch(record)

    def add_person(self, key, first, last, email):
        self.users[key] = self.fake.add_user(first, last, email)
        self.fake.assign_user(self.project, self.users[key])

    def set_cost_rate(self, key, start, amount):
        with self.fake._lock:
            self.fake.store.add_rate("cost", self.users[key], amount, start)

    def category(self, name):
        cache = self.__dict__.setdefault("_categories", {})
        if name not in cache:
            cache[name] = self.fake.add_expense_category(name)
        return cache[name]

    def expense(self, user, day, amount, category="Travel", notes="", billable=True, receipt=True):
        return self.fake.log_expense(
            self.users[user],
            self.project,
            self.category(category),
            day,
            total_cost=amount,
            notes=notes,
            billable=billable,
            receipt=receipt,
            approval="approved",
        )


class KantataWorld(HarvestWorld):
    tool = "kantata"

    def __init__(self, code, start=None):
        self.fake = FakeKantata().start()
        fake = self.fake
        self.users = {
            key: fake.add_user(
                f"{first} {last}", email, cost_rates={"USD": 6000}, bill_rate_in_cents=14000
            )
            for key, (first, last, email) in PEOPLE.items()
        }
        self.project = fake.add_workspace(
            "Initech platform", currency="USD", reference=code, start_date=start
        )
        self.tasks = {
            CONSULTING: fake.add_story(self.project, CONSULTING, billable=True),
            INTERNAL: fake.add_story(self.project, INTERNAL, billable=False),
        }
        for user in self.users.values():
            fake.add_participant(self.project, user)

    def backend_values(self):
        return {
            "api_base_url": self.fake.api_url,
            "auth_base_url": self.fake.url,
            "psa_web_url": self.fake.url,
        }

    def token(self):
        return self.fake.api_token

    def log(self, user, day, hours, task=CONSULTING, notes="", approved=True):
        return self.fake.log_time(
            self.users[user],
            self.project,
            day,
            round(hours * 60),
            story_id=self.tasks[task],
            notes=notes,
            approved=approved,
        )

    def edit(self, entry, **changes):
        values = {}
        for key, value in changes.items():
            if key == "hours":
                values["time_in_minutes"] = round(value * 60)
            elif key == "day":
                values["date_performed"] = value
            else:
                values[key] = value
        self.fake.edit_entry(entry, **values)

    def fake_edit_expense(self, expense, amount):
        with self.fake._lock:
            record = self.fake.store.expenses[expense]
            self.fake.store.update("expenses", record, amount_in_cents=round(amount * 100))

    def add_person(self, key, first, last, email):
        self.users[key] = self.fake.add_user(f"{first} {last}", email, cost_rates={"USD": 6000})
        self.fake.add_participant(self.project, self.users[key])

    def set_cost_rate(self, key, start, amount):
        """Kantata rates apply from their last update: the clock says when it happened."""
        fake = self.fake
        clock = fake.clock
        fake.clock = lambda: datetime.combine(start, time(9), tzinfo=UTC)
        try:
            fake.set_cost_rate(self.users[key], "USD", int(amount * 100))
        finally:
            fake.clock = clock

    def expense(self, user, day, amount, category="Travel", notes="", billable=True, receipt=True):
        return self.fake.log_expense(
            self.users[user],
            self.project,
            day,
            amount,
            self.category(category),
            notes=notes,
            billable=billable,
            receipt=receipt,
            approved=True,
        )


class PsaCase(TransactionCase):
    """A governed T&M contract (150/h) with its project, three people, and per test one fake
    PSA of the class's tool (``WORLD``) with a backend pointed at it."""

    WORLD = HarvestWorld

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert FakeHarvest is not None, "run the tests from the repository root"
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._keys = vault_keys(TEST_KEY, *harness_keys())
        cls._keys.__enter__()
        cls.addClassCleanup(cls._keys.__exit__, None, None, None)
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
        # Demo backends (if installed) talk to servers that are not running here.
        cls.env["connector.backend"].search([]).write({"state": "paused"})
        cls.company = cls.env.company
        cls.integration_user = new_test_user(
            cls.env, login="psa_integration_test", groups=INTEGRATION_GROUPS
        )
        cls.billing_user = new_test_user(
            cls.env,
            login="psa_billing_user_test",
            groups="base.group_user,ps_billing_rules.group_billing_user",
        )
        cls.connector_manager = new_test_user(
            cls.env,
            login="psa_connector_manager_test",
            groups="base.group_user,connector_base.group_connector_manager",
        )
        hour = cls.env.ref("uom.product_uom_hour")
        cls.product = cls.env["product.product"].create(
            {
                "name": "Consulting hours (PSA test)",
                "type": "service",
                "invoice_policy": "delivery",
                "service_type": "timesheet",
                "service_tracking": "project_only",
                "list_price": 150,
                "uom_id": hour.id,
                "uom_po_id": hour.id,
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "Initech", "is_company": True})
        cls.employees = {
            key: cls.env["hr.employee"].create(
                {"name": f"{first} {last}", "work_email": email, "hourly_cost": 55}
            )
            for key, (first, last, email) in PEOPLE.items()
            if key != "cid"
        }
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "product_uom_qty": 200,
                            "price_unit": 150.0,
                            "ps_billing_model": "tm",
                        }
                    )
                ],
            }
        )
        cls.order.action_confirm()
        cls.line = cls.order.order_line
        cls.project = cls.order.project_id
        cls.today = fields.Date.today()
        cls.month_start = (cls.today.replace(day=1) - timedelta(days=1)).replace(day=1)

    def setUp(self):
        super().setUp()
        self.world = self.WORLD(self.order.psa_project_code)
        self.world.fake_code = self.order.psa_project_code
        self.addCleanup(self.world.stop)
        self.backend = self.make_backend()
        self.Job = self.env["connector.job"]
        self.Line = self.env["account.analytic.line"]

    def tearDown(self):
        SECRETS.clear()
        super().tearDown()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Loopback calls to the fakes keep their (connect, read) timeouts.
        if r.url.startswith("http://127.0.0.1"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    # Set-up helpers --------------------------------------------------------------------------

    def make_backend(self, **values):
        world = self.world
        backend = self.env["connector.backend"].create(
            {
                "name": f"{world.tool} (test)",
                "backend_type": world.tool,
                "user_id": self.integration_user.id,
                "psa_start_date": date(2020, 1, 1),
                "psa_provisioning": False,
                "max_attempts": 10,
                "retry_base_seconds": 10,
                "retry_cap_seconds": 300,
                "timeout_connect": 2,
                "timeout_read": 5,
                "rate_limit": 0,
                **world.backend_values(),
                **values,
            }
        )
        backend.with_user(self.connector_manager)._set_secret("api_token", world.token())
        self.env["connector.psa.task.map"].create(
            {
                "backend_id": backend.id,
                "project_id": self.project.id,
                "psa_task_name": INTERNAL,
                "non_billable": True,
            }
        )
        backend.action_activate()
        return backend

    # Queue helpers ---------------------------------------------------------------------------

    def drain(self, now=None, rounds=400):
        """connector_base's drain, with room for the PSA's larger batches."""
        return drain_queue(self.Job, now, rounds, budget=120)

    def pull(self, code="psa_time", backend=None, now=None):
        backend = backend or self.backend
        stream = backend.stream_ids.filtered(lambda s: s.code == code)
        stream._schedule_pull(now or fields.Datetime.now(), source="user")
        return self.drain(now)

    def sync_people(self):
        self.pull("psa_people")

    def jobs(self, operation=None, state=None):
        domain = [("backend_id", "=", self.backend.id)]
        if operation:
            domain.append(("operation", "=", operation))
        if state:
            domain.append(("state", "=", state))
        return self.Job.search(domain, order="id")

    def lines(self, **filters):
        domain = [("psa_backend_id", "=", self.backend.id)]
        domain += [(key, "=", value) for key, value in filters.items()]
        return self.Line.search(domain, order="date, id")

    def line_of(self, entry_id):
        return self.Line.search(
            [("psa_backend_id", "=", self.backend.id), ("psa_remote_id", "=", str(entry_id))]
        )

    def day(self, offset):
        """A weekday of last month (work the demo-like tests bill)."""
        return self.month_start + timedelta(days=offset)

    # Billing helpers --------------------------------------------------------------------------

    def bill(self, period_end=None, orders=None):
        run = self.env["ps.billing.run"].create(
            {
                "name": "PSA test run",
                "period_end": period_end or self.today,
                "invoice_date": self.today,
                "respect_cycle": False,
                "order_ids": [Command.set((orders or self.order).ids)],
            }
        )
        run.action_run_now()
        return run.invoice_ids
