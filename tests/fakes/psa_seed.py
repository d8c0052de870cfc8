"""The demo PSA data: one month of a small consultancy's time and expenses, tool-neutral.

Both fake PSA servers (``tests/fakes/harvest``, ``tests/fakes/kantata``) are seeded from this
module by ``seed_demo``, and the demo data of ``connector_psa`` mirrors it: the project codes are
the contract references the Odoo demo contracts carry, the e-mails are those of the Odoo demo
employees (``ps_billing_rules`` demo: Alexandra Partner, Benedict Senior, Chloe Analyst). Dana
Freelancer has no employee in Odoo on purpose: her time must end in "needs attention".

Everything is dated relative to ``today`` (the month before it), like ``ps_billing_rules``'s demo,
so a fresh demo always has last month's time to import. Nothing here is random.
"""

from datetime import date, timedelta
from decimal import Decimal

# Users of the PSA. ``cost_rates`` are (effective date, hourly cost) with the date given as an
# offset in days from the start of the demo month (negative: before it), so that Benedict's rate
# changes in the middle of the month: the cost-rate history import has something to show.
DEMO_USERS = [
    {
        "key": "alexandra",
        "first_name": "Alexandra",
        "last_name": "Partner",
        "email": "alexandra.partner@example.com",
        "admin": True,
        "contractor": False,
        "billable_rate": Decimal("320.00"),
        "cost_rates": [(-400, Decimal("105.00")), (-30, Decimal("110.00"))],
    },
    {
        "key": "benedict",
        "first_name": "Benedict",
        "last_name": "Senior",
        "email": "benedict.senior@example.com",
        "admin": False,
        "contractor": False,
        "billable_rate": Decimal("210.00"),
        "cost_rates": [(-400, Decimal("66.00")), (14, Decimal("70.00"))],
    },
    {
        "key": "chloe",
        "first_name": "Chloe",
        "last_name": "Analyst",
        "email": "chloe.analyst@example.com",
        "admin": False,
        "contractor": False,
        "billable_rate": Decimal("130.00"),
        "cost_rates": [(-400, Decimal("40.00"))],
    },
    {
        "key": "dana",
        "first_name": "Dana",
        "last_name": "Freelancer",
        "email": "dana.freelancer@example.com",
        "admin": False,
        "contractor": True,
        "billable_rate": Decimal("150.00"),
        "cost_rates": [(-200, Decimal("85.00"))],
    },
]

DEMO_CLIENTS = [
    {"key": "globex", "name": "Globex Corporation", "currency": "EUR"},
    {"key": "initrode", "name": "Initrode Manufacturing", "currency": "EUR"},
    {"key": "umbrella", "name": "Umbrella Logistics", "currency": "USD"},
]

# Project codes are the contract references of the Odoo demo contracts (connector_psa demo).
# Tasks: (name, billable, hourly rate when billed by task). Milestones: (name, day of the demo
# month it is due, reached?, amount billed when reached).
DEMO_PROJECTS = [
    {
        "code": "PSA-GLX-ASSESS",
        "name": "Globex data-platform assessment",
        "client": "globex",
        "bill_by": "People",
        "budget_by": "project",
        "budget": Decimal("200"),
        "is_fixed_fee": False,
        "fee": None,
        "hourly_rate": None,
        "users": ["alexandra", "benedict", "chloe"],
        "tasks": [
            ("Interviews", True, Decimal("180.00")),
            ("Analysis", True, Decimal("180.00")),
            ("Internal review", False, None),
        ],
        "milestones": [],
    },
    {
        "code": "PSA-INI-ERP",
        "name": "Initrode ERP implementation",
        "client": "initrode",
        "bill_by": "Project",
        "budget_by": "project_cost",
        "budget": Decimal("48000"),
        "is_fixed_fee": True,
        "fee": Decimal("48000.00"),
        "hourly_rate": Decimal("190.00"),
        "users": ["alexandra", "benedict"],
        "tasks": [
            ("Design", True, Decimal("190.00")),
            ("Configuration", True, Decimal("190.00")),
            ("Training", True, Decimal("190.00")),
        ],
        "milestones": [
            ("Design approved", 10, True, Decimal("7200.00")),
            ("Pilot site live", 25, False, Decimal("9600.00")),
        ],
    },
    {
        "code": "PSA-UMB-SUPPORT",
        "name": "Umbrella managed support",
        "client": "umbrella",
        "bill_by": "Tasks",
        "budget_by": "task",
        "budget": Decimal("60"),
        "is_fixed_fee": False,
        "fee": None,
        "hourly_rate": None,
        "users": ["chloe", "dana"],
        "tasks": [
            ("Support tickets", True, Decimal("150.00")),
            ("Monitoring", False, None),
        ],
        "milestones": [],
    },
]

EXPENSE_CATEGORIES = [
    {"name": "Travel", "unit_name": None, "unit_price": None},
    {"name": "Lodging", "unit_name": None, "unit_price": None},
    {"name": "Meals", "unit_name": None, "unit_price": None},
    {"name": "Mileage", "unit_name": "km", "unit_price": Decimal("0.30")},
]

# (user, project code, day of month, category, amount or units for unit-priced categories,
# billable, notes, has a receipt)
DEMO_EXPENSES = [
    (
        "benedict",
        "PSA-GLX-ASSESS",
        3,
        "Travel",
        Decimal("142.50"),
        True,
        "Train to Globex HQ",
        True,
    ),
    ("benedict", "PSA-GLX-ASSESS", 3, "Lodging", Decimal("310.00"), True, "Hotel, 2 nights", True),
    ("chloe", "PSA-GLX-ASSESS", 9, "Meals", Decimal("38.40"), False, "Team lunch", True),
    ("alexandra", "PSA-INI-ERP", 12, "Mileage", Decimal("84"), True, "Site visit Initrode", False),
    ("alexandra", "PSA-INI-ERP", 18, "Travel", Decimal("96.00"), True, "Flight to plant", True),
    ("dana", "PSA-UMB-SUPPORT", 20, "Travel", Decimal("55.00"), True, "Taxi to data centre", True),
]

# Daily pattern per (user, project): hours per weekday index (Mon=0) and the task and note used.
_PATTERNS = {
    ("alexandra", "PSA-GLX-ASSESS"): [(0, Decimal("1.5"), "Interviews", "Steering committee")],
    ("alexandra", "PSA-INI-ERP"): [
        (1, Decimal("3.0"), "Design", "Solution design workshop"),
        (3, Decimal("2.5"), "Configuration", "Review of configuration"),
    ],
    ("benedict", "PSA-GLX-ASSESS"): [
        (0, Decimal("6.0"), "Interviews", "Current-state interviews"),
        (2, Decimal("7.5"), "Analysis", "Target architecture"),
        (4, Decimal("2.0"), "Internal review", "Peer review of findings"),
    ],
    ("benedict", "PSA-INI-ERP"): [
        (1, Decimal("5.0"), "Configuration", "Finance module setup"),
        (3, Decimal("4.25"), "Training", "Key-user training"),
    ],
    ("chloe", "PSA-GLX-ASSESS"): [
        (1, Decimal("8.0"), "Analysis", "Data inventory"),
        (3, Decimal("6.5"), "Analysis", "Data quality findings"),
    ],
    ("chloe", "PSA-UMB-SUPPORT"): [
        (0, Decimal("2.0"), "Support tickets", "Ticket queue"),
        (2, Decimal("1.75"), "Support tickets", "Incident follow-up"),
        (4, Decimal("0.5"), "Monitoring", "Weekly monitoring check"),
    ],
    ("dana", "PSA-UMB-SUPPORT"): [
        (1, Decimal("3.0"), "Support tickets", "Night shift tickets"),
        (3, Decimal("2.33"), "Support tickets", "Database upgrade"),
    ],
}

# Corrections made in the PSA after approval (what the import must catch), as (user, project
# code, day of month, task): the first matching demo entry is picked.
EDITED_AFTER_APPROVAL = {
    "key": ("benedict", "PSA-GLX-ASSESS", "Target architecture"),
    "hours": Decimal("8.5"),
    "notes": "Target architecture (incl. follow-up call)",
}
DELETED_AFTER_APPROVAL = ("chloe", "PSA-UMB-SUPPORT", "Incident follow-up")
UNAPPROVED_AFTER_APPROVAL = ("chloe", "PSA-GLX-ASSESS", "Data quality findings")


def demo_month(today=None) -> tuple[date, date]:
    """First and last day of the month before ``today``: the demo's month of work."""
    today = today or date.today()
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def cost_rate_history(user, month_start) -> list[tuple[date, Decimal]]:
    """``(effective date, hourly cost)`` of a demo user, oldest first."""
    return [(month_start + timedelta(days=offset), amount) for offset, amount in user["cost_rates"]]


def demo_time_entries(month_start, month_end) -> list[dict]:
    """Every demo time entry of the month, in date order: tool-neutral dicts.

    Keys: ``user`` (key of DEMO_USERS), ``project`` (code), ``task`` (name), ``date``, ``hours``
    (Decimal), ``notes``. The last week of the month is left submitted (not approved) and the
    entries of the last two days are not even submitted: ``approval`` says which.
    """
    entries = []
    day = month_start
    last_week_start = month_end - timedelta(days=month_end.weekday())
    while day <= month_end:
        for (user, project), pattern in _PATTERNS.items():
            for weekday, hours, task, notes in pattern:
                if day.weekday() != weekday:
                    continue
                if day >= month_end - timedelta(days=1):
                    approval = "unsubmitted"
                elif day >= last_week_start:
                    approval = "submitted"
                else:
                    approval = "approved"
                entries.append(
                    {
                        "user": user,
                        "project": project,
                        "task": task,
                        "date": day,
                        "hours": hours,
                        "notes": notes,
                        "approval": approval,
                    }
                )
        day += timedelta(days=1)
    return entries


def pick(entries, key, approved_only=True) -> dict:
    """The first demo entry matching ``(user, project, notes)``, approved when asked."""
    user, project, notes = key
    for entry in entries:
        if (entry["user"], entry["project"], entry["notes"]) == key and (
            entry["approval"] == "approved" or not approved_only
        ):
            return entry
    raise LookupError(f"no demo entry for {user} / {project} / {notes}")


def user_by_key(key) -> dict:
    return next(user for user in DEMO_USERS if user["key"] == key)


def project_by_code(code) -> dict:
    return next(project for project in DEMO_PROJECTS if project["code"] == code)
