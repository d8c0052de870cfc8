"""connector_psa's Kantata client against the fake Kantata, over real HTTP on loopback."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError
from odoo.addons.connector_base.engine.http_client import BearerTokenAuth, HttpClient
from odoo.addons.connector_psa.engine import oauth
from odoo.addons.connector_psa.engine.kantata import EventFeedForbidden, KantataClient
from odoo.addons.connector_psa.engine.records import PsaTimeEntry

from tests.fakes.kantata import FakeKantata

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ENTRIES = "GET /time_entries"


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def kantata():
    with FakeKantata() as fake:
        fake.clock = Clock()
        yield fake


@pytest.fixture
def build(kantata):
    opened = []

    def make(token=None, *, auth=None, page_size=20, quick_retries=2, timeout=(2, 5)):
        http = HttpClient(
            kantata.api_url,
            auth=auth or BearerTokenAuth(token or kantata.api_token),
            timeout=timeout,
            quick_retries=quick_retries,
            quick_retry_wait=0.01,
        )
        opened.append(http)
        return KantataClient(
            http, page_size=page_size, clock=lambda: kantata.clock().replace(tzinfo=None)
        )

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def demo(kantata):
    return kantata.seed_demo(today=date(2026, 12, 5))


def entries(pages):
    return [item for page in pages for item in page.items]


def member_token(kantata, demo):
    return kantata.add_token("ben-token", demo["users"]["benedict"])


# Connecting ---------------------------------------------------------------------------------------


def test_connection_reports_user_account_and_permissions(kantata, build, demo):
    info = build().test_connection()
    assert info.ok and info.account_id == str(kantata.store.account_id)
    assert info.user.email == "alexandra.partner@example.com" and info.user.is_admin
    assert info.permissions["event_feed"] and info.permissions["read_cost_rates"]
    limited = build(member_token(kantata, demo)).test_connection()
    assert not limited.permissions["event_feed"] and not limited.permissions["provision_projects"]
    assert "not a Kantata Account Administrator" in limited.problems[0]
    assert "cannot create projects" in limited.problems[1]


def test_oauth_connect_tokens_that_do_not_expire_and_reconnect(kantata, build, demo):
    url = oauth.authorize_url(
        kantata.url,
        oauth.KANTATA_AUTHORIZE_PATH,
        client_id=kantata.client_id,
        redirect_uri="https://o/cb",
        state="s",
    )
    back = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    token_http = HttpClient(kantata.url, timeout=(2, 5))
    token = oauth.exchange_code(
        token_http,
        oauth.KANTATA_TOKEN_PATH,
        client_id=kantata.client_id,
        client_secret=kantata.client_secret,
        code=code,
        redirect_uri="https://o/cb",
        vendor="Kantata",
    )
    assert token.expires_at is None and token.refresh_token is None, "as documented"
    auth = oauth.RefreshingTokenAuth(
        token_http,
        oauth.KANTATA_TOKEN_PATH,
        client_id=kantata.client_id,
        client_secret=kantata.client_secret,
        vendor="Kantata",
        access_token=token.access_token,
    )
    client = build(auth=auth)
    assert client.me().is_admin
    kantata.revoke_tokens()
    with pytest.raises(AuthError, match="Click Connect"):
        client.me()
    token_http.close()


def test_refresh_tokens_are_used_when_kantata_gives_them(kantata, build, demo):
    kantata.issue_refresh_tokens, kantata.token_ttl = True, 3600
    refresh = kantata.issue_refresh_token()
    token_http = HttpClient(kantata.url, timeout=(2, 5))
    saved = []
    auth = oauth.RefreshingTokenAuth(
        token_http,
        oauth.KANTATA_TOKEN_PATH,
        client_id=kantata.client_id,
        client_secret=kantata.client_secret,
        vendor="Kantata",
        refresh_token=refresh,
        on_token=saved.append,
    )
    client = build(auth=auth)
    assert client.me().email == "alexandra.partner@example.com"
    kantata.switches.expire_token_once()
    assert client.me().is_admin, "401 once: refreshed and sent again"
    assert len(saved) == 2 and kantata.requests_to("POST /oauth/token") == 2
    token_http.close()


# Time entries ----------------------------------------------------------------------------------------


def test_keyset_pages_carry_a_safe_cursor_and_resume(kantata, build, demo):
    client = build(page_size=20)
    pages = list(client.time_entries_since(None))
    got = entries(pages)
    assert len(got) == len({e.remote_id for e in got}) == 62
    assert all(p.cursor == START.replace(tzinfo=None) for p in pages), "each page is a checkpoint"
    requests_sent = [r.query for r in kantata.server.requests if r.path.endswith("/time_entries")]
    assert all(q["order"] == "updated_at:asc" for q in requests_sent)
    resumed = entries(client.time_entries_since(None, resume=pages[1].resume))
    assert {e.remote_id for e in resumed} == {e.remote_id for e in entries(pages[2:])}


def test_an_entry_edited_mid_pull_is_not_lost(kantata, build, demo):
    client = build(page_size=10)
    kantata.clock.advance(minutes=1)
    for index, entry_id in enumerate(demo["entries"]):  # distinct update times
        kantata.clock.advance(seconds=1)
        kantata.edit_entry(entry_id, notes=f"n{index}")
    target = demo["entries"][3]

    def edit_early_entry(endpoint, page):
        if endpoint.endswith("/time_entries") and page == 1 and target not in edited:
            edited.append(target)
            kantata.clock.advance(seconds=30)
            kantata.edit_entry(target, time_in_minutes=999)

    edited = []
    kantata.switches.after_page(edit_early_entry)
    got = entries(client.time_entries_since(START))
    latest = {}
    for entry in got:
        latest[entry.remote_id] = entry
    assert latest[str(target)].minutes == 999, "the later version is delivered in the same pull"
    assert len(latest) == 62, "no entry shifted out of sight"


def test_ties_in_one_second_beyond_a_page(kantata, build):
    ids = kantata.seed_bulk(45)  # all created in the same second
    got = entries(build(page_size=20).time_entries_since(None))
    assert sorted(int(e.remote_id) for e in got) == sorted(ids)


def test_normalised_entry_shape_and_approval_states(kantata, build, demo):
    client = build(page_size=100)
    entry = client.get_time_entry(demo["edited_after_approval"])
    assert isinstance(entry, PsaTimeEntry) and entry.source == "kantata"
    assert (entry.minutes, entry.hours, entry.rounded_hours) == (
        510,
        Decimal("8.5"),
        Decimal("8.5"),
    )
    assert entry.spent_on == date(2026, 11, 4), "date_performed as is, no timezone shift"
    assert entry.user_email == "benedict.senior@example.com" and entry.task_name == "Analysis"
    assert (entry.billable_rate, entry.cost_rate, entry.currency) == (
        Decimal("210"),
        Decimal("70"),
        "EUR",
    )
    assert entry.approved and entry.approval_status == "approved" and entry.locked
    everything = {e.remote_id: e for e in entries(client.time_entries_since(None))}
    rejected = everything[str(demo["unapproved_after_approval"][0])]
    assert not rejected.approved and rejected.approval_status == "unsubmitted"
    dana = next(e for e in everything.values() if e.notes == "Database upgrade")
    assert dana.minutes == 139 and dana.hours == Decimal("2.316667")
    approved = entries(client.time_entries_since(None, approved_only=True))
    assert approved and all(e.approved for e in approved)
    assert str(demo["unapproved_after_approval"][0]) not in {e.remote_id for e in approved}


def test_deletions_from_the_event_feed_and_from_a_window(kantata, build, demo):
    client = build(page_size=50)
    pages = list(client.events(START - timedelta(hours=1)))
    deleted = [e for e in entries(pages) if e.action == "deleted"]
    assert [(e.subject_type, e.subject_id) for e in deleted] == [
        ("TimeEntry", str(demo["deleted_after_approval"]))
    ]
    assert not pages[0].gap and pages[-1].cursor is not None
    assert next(iter(client.events(None))).gap, "no start: the feed cannot cover it"
    old = START - timedelta(days=10)
    assert next(iter(client.events(old))).gap, "older than 9 days: re-list a window instead"
    month_start, month_end = demo["month"]
    listed = {e.remote_id for e in entries(client.time_entries_in_window(month_start, month_end))}
    assert str(demo["deleted_after_approval"]) not in listed and len(listed) == 62
    assert client.confirm_deleted_time_entries(
        [demo["deleted_after_approval"], *demo["entries"][:3]]
    ) == {str(demo["deleted_after_approval"])}


def test_event_feed_duplicates_dropped_and_forbidden_for_non_admins(kantata, build, demo):
    kantata.store.duplicate_events = True
    kantata.clock.advance(minutes=5)
    kantata.delete_entry(demo["entries"][0])
    events = entries(build().events(START + timedelta(minutes=4), overlap=timedelta(0)))
    assert [(e.action, e.subject_id) for e in events] == [("deleted", str(demo["entries"][0]))]
    with pytest.raises(EventFeedForbidden, match="Account Administrators") as caught:
        list(build(member_token(kantata, demo)).events(START))
    assert isinstance(caught.value, AuthError) and caught.value.http_status == 403


# People, projects, expenses, mark-back ---------------------------------------------------------------


def test_users_and_cost_rates_per_currency(kantata, build, demo):
    client = build(page_size=100)
    chloe = client.find_user_by_email("chloe.analyst@example.com")
    assert chloe.name == "Chloe Analyst" and chloe.membership_id and not chloe.is_admin
    users = entries(client.list_users())
    assert {u.email for u in users} >= {"dana.freelancer@example.com"}
    kantata.clock.advance(days=3)
    kantata.set_cost_rate(demo["users"]["benedict"], "EUR", 7500)
    changed = client.cost_rates(updated_since=START + timedelta(days=1))
    assert [(r.user_id, r.amount, r.currency, r.start_date) for r in changed] == [
        (str(demo["users"]["benedict"]), Decimal("75"), "EUR", date(2026, 11, 5))
    ]
    assert len(client.cost_rates()) == 8, "one per person and currency"
    with pytest.raises(AuthError):
        build(member_token(kantata, demo)).cost_rates()


def test_provisioning_by_external_reference_is_idempotent(kantata, build, demo):
    client = build()
    project, created = client.ensure_project(
        "S00042",
        title="Rocket ERP",
        currency="EUR",
        budget=Decimal("12500.55"),
        start_date=date(2026, 12, 1),
    )
    assert created and project.code == "S00042" and project.budget == Decimal("12500.55")
    again, created = client.ensure_project("S00042", title="Rocket ERP")
    assert not created and again.remote_id == project.remote_id
    assert kantata.requests_to("POST /workspaces") == 1
    found = client.find_project_by_reference("PSA-INI-ERP")
    assert found.remote_id == str(demo["projects"]["PSA-INI-ERP"])
    task, created = client.ensure_task(project.remote_id, "SOL-7", title="Design")
    assert created and task.reference == "SOL-7" and task.project_id == project.remote_id
    assert client.ensure_task(project.remote_id, "SOL-7", title="Design")[1] is False
    person, created = client.ensure_participant(project.remote_id, demo["users"]["chloe"])
    assert created and person.user_id == str(demo["users"]["chloe"])
    assert client.ensure_participant(project.remote_id, demo["users"]["chloe"])[1] is False
    moved = client.update_project(project.remote_id, due_date=date(2027, 3, 31))
    assert moved.ends_on == date(2027, 3, 31)
    with pytest.raises(BusinessError, match="creator_role") as caught:
        client.create_project("Bad", reference="X", creator_role="guest")
    assert caught.value.http_status == 422


def test_milestones_stories_and_billing_milestones(kantata, build, demo):
    found = build().milestones(demo["projects"]["PSA-INI-ERP"])
    by_kind = {(m.kind, m.name): m for m in found}
    assert by_kind[("story", "Design approved")].reached
    assert not by_kind[("story", "Pilot site live")].reached
    billing = by_kind[("billing", "Design approved")]
    assert billing.reached and billing.amount == Decimal("7200") and billing.currency == "EUR"
    assert billing.due_date == date(2026, 11, 10)


def test_expenses_approval_receipts_and_deletions(kantata, build, demo):
    client = build(page_size=100)
    expenses = entries(client.expenses_since(None))
    assert len(expenses) == 6 and all(e.approved for e in expenses)
    mileage = next(e for e in expenses if e.category_name == "Mileage")
    assert mileage.amount == Decimal("25.2") and mileage.currency == "EUR"
    receipt = next(e for e in expenses if e.receipt_url)
    content, content_type = client.download_receipt(receipt)
    assert content.startswith(b"%PDF") and content_type == "application/pdf"
    assert not any(
        r.headers.get("Authorization")
        for r in kantata.server.requests
        if r.path.startswith("/receipts")
    ), "the API token is not sent to a CDN link"
    pending = kantata.log_expense(
        demo["users"]["chloe"],
        demo["projects"]["PSA-GLX-ASSESS"],
        date(2026, 11, 20),
        Decimal("12.30"),
        next(iter(kantata.store.expense_categories)),
    )
    fresh = client.get_expense(pending)
    assert not fresh.approved and fresh.approval_status == "unsubmitted"
    assert client.confirm_deleted_expenses([pending, 999999]) == {"999999"}


def test_marking_billed_entries_with_external_references(kantata, build, demo):
    client = build()
    entry_id = demo["entries"][0]
    before = client.get_time_entry(entry_id)
    first = client.mark_time_entry(
        entry_id,
        "INV/2026/0007",
        message="Billed in Odoo",
        link="https://odoo.example.com/odoo/invoices/7",
    )
    again = client.mark_time_entry(entry_id, "INV/2026/0007", message="Paid", group="paid")
    assert first["id"] == again["id"], "create_or_update: safe to repeat"
    after = client.get_time_entry(entry_id)
    assert after.external_reference == "INV/2026/0007" and after.fingerprint == before.fingerprint
    reference = client.reference_of("TimeEntry", entry_id)
    assert (reference["external_message"], reference["external_status"]) == ("Paid", "paid")
    assert reference["external_link"] == "https://odoo.example.com/odoo/invoices/7", "kept"


# Failures -------------------------------------------------------------------------------------------


def test_429_backs_off_past_a_window_without_hammering(kantata, build, demo):
    client = build()
    kantata.rate_limit_next(1, endpoint="GET /users/me")
    with pytest.raises(TransientError) as caught:
        client.me()
    assert caught.value.retry_after == 30.0 and caught.value.http_status == 429
    assert kantata.requests_to("GET /users/me") == 1, "no quick retry without Retry-After"


def test_5xx_timeouts_malformed_and_business_errors(kantata, build, demo):
    client = build(page_size=100, timeout=(2, 0.3))
    kantata.switches.fail_next(1, 503, endpoint=ENTRIES)
    kantata.switches.slow_next(1, 0.6, endpoint=ENTRIES)
    kantata.switches.truncate_next(1, endpoint=ENTRIES)
    kantata.switches.empty_page_next(1)
    assert len(entries(client.time_entries_since(None))) == 62
    assert kantata.requests_to(ENTRIES) >= 4
    kantata.server.malformed_next(3)
    with pytest.raises(TransientError, match="not valid JSON"):
        client.me()
    with pytest.raises(AuthError):
        build(token="wrong").me()
    with pytest.raises(BusinessError, match="Time in minutes must be greater than 0"):
        client.http.request(
            "PUT",
            f"/time_entries/{demo['entries'][0]}",
            json={"time_entry": {"time_in_minutes": -5}},
        )


def test_bulk_pull_with_random_failures_imports_each_entry_once(kantata, build):
    ids = kantata.seed_bulk(1500)
    kantata.switches.random_failures(0.2, seed=20261102, statuses=(500, 502, 503, 429))
    client = build(page_size=200, quick_retries=0)  # every failure goes back to the "queue"
    seen, resume, attempts, backoffs = [], None, 0, 0
    while attempts < 40:  # the queue: retry from the last checkpoint, waiting when told to
        attempts += 1
        try:
            for page in client.time_entries_since(None, resume=resume):
                seen.extend(e.remote_id for e in page.items)
                resume = page.resume
            break
        except TransientError as exc:
            backoffs += exc.retry_after is not None
    assert sorted(map(int, seen)) == sorted(ids), "every entry exactly once"
    assert kantata.requests_to(ENTRIES) > 8 and attempts > 1, "failures were retried"
