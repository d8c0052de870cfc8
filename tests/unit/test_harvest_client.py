"""connector_psa's Harvest client against the fake Harvest, over real HTTP on loopback.

The client is built as the Odoo backend will build it: connector_base's HttpClient (timeouts,
quick retries, error mapping) with a personal access token or a refreshing OAuth auth.
"""

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError
from odoo.addons.connector_base.engine.http_client import BearerTokenAuth, HttpClient
from odoo.addons.connector_psa.engine import oauth
from odoo.addons.connector_psa.engine.harvest import HarvestClient, http_options, list_accounts
from odoo.addons.connector_psa.engine.records import PsaTimeEntry

from tests.fakes.harvest import FakeHarvest

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UA = "Odoo PSA tests (tests@example.com)"
ENTRIES = "GET /v2/time_entries"


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def harvest():
    with FakeHarvest() as fake:
        fake.clock = Clock()
        yield fake


@pytest.fixture
def build(harvest):
    """Builds HarvestClients on the fake (HttpClients closed after the test)."""
    opened = []

    def make(
        token=None,
        *,
        auth=None,
        page_size=3,
        quick_retries=2,
        timeout=(2, 5),
        account_id=None,
        id_http=True,
    ):
        auth = auth or BearerTokenAuth(token or harvest.personal_access_token)
        options = {**http_options(UA), "timeout": timeout}
        http = HttpClient(
            harvest.url, auth=auth, quick_retries=quick_retries, quick_retry_wait=0.01, **options
        )
        ids = HttpClient(harvest.id_url, auth=auth, timeout=timeout) if id_http else None
        opened.extend(h for h in (http, ids) if h)
        return HarvestClient(
            http,
            account_id=account_id or harvest.account_id,
            user_agent=UA,
            id_http=ids,
            page_size=page_size,
        )

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def demo(harvest):
    return harvest.seed_demo(today=date(2026, 12, 5))


def entries(pages):
    return [entry for page in pages for entry in page.items]


# Connecting ---------------------------------------------------------------------------------------


def test_requests_carry_the_three_harvest_headers(harvest, build, demo):
    build().me()
    sent = harvest.server.requests[-1].headers
    assert sent["Harvest-Account-Id"] == str(harvest.account_id)
    assert sent["User-Agent"] == UA
    assert sent["Authorization"] == f"Bearer {harvest.personal_access_token}"


def test_configuration_mistakes_are_explained(harvest):
    http = HttpClient(harvest.url, timeout=(1, 1))
    with pytest.raises(AuthError, match="contact"):
        HarvestClient(http, account_id=harvest.account_id, user_agent="odoo")
    with pytest.raises(AuthError, match="not a number"):
        HarvestClient(http, account_id="acme", user_agent=UA)


def test_connection_reports_account_user_and_missing_permissions(harvest, build, demo):
    info = build().test_connection()
    assert info.ok and info.account_id == str(harvest.account_id)
    assert info.account_name == harvest.account_name
    assert info.user.email == "alexandra.partner@example.com" and info.user.is_admin
    assert all(info.permissions.values()), info.permissions
    member = harvest.add_token("ben", demo["users"]["benedict"])
    limited = build(member).test_connection()
    assert not limited.ok and "not a Harvest Administrator" in limited.problems[0]
    assert limited.permissions["read_cost_rates"] is False
    with pytest.raises(AuthError, match=rf"it can use: {harvest.account_id} \(Demo Consultancy\)"):
        build(account_id=999).test_connection()


def test_oauth_connect_refresh_on_expiry_and_reconnect_message(harvest, build, demo):
    url = oauth.authorize_url(
        harvest.id_url,
        oauth.HARVEST_AUTHORIZE_PATH,
        client_id=harvest.client_id,
        redirect_uri="https://o/cb",
        state="s",
    )
    back = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    token_http = HttpClient(harvest.id_url, timeout=(2, 5))
    token = oauth.exchange_code(
        token_http,
        oauth.HARVEST_TOKEN_PATH,
        client_id=harvest.client_id,
        client_secret=harvest.client_secret,
        code=code,
        redirect_uri="https://o/cb",
        vendor="Harvest",
    )
    assert token.refresh_token and token.expires_at
    with HttpClient(
        harvest.id_url, auth=BearerTokenAuth(token.access_token), timeout=(2, 5)
    ) as ids:
        assert [a["product"] for a in list_accounts(ids, UA)] == ["harvest", "forecast"]
    saved = []
    auth = oauth.RefreshingTokenAuth(
        token_http,
        oauth.HARVEST_TOKEN_PATH,
        client_id=harvest.client_id,
        client_secret=harvest.client_secret,
        vendor="Harvest",
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        expires_at=token.expires_at,
        on_token=saved.append,
    )
    client = build(auth=auth)
    assert client.me().email == "alexandra.partner@example.com"
    harvest.expire_tokens()  # Harvest says expired before our clock does: 401, refresh, resend
    assert client.me().is_admin
    assert len(saved) == 1 and saved[0].refresh_token != token.refresh_token, "rotated, persisted"
    auth.clock = lambda: saved[0].expires_at  # our clock says it is about to expire: renew first
    before = harvest.requests_to("POST /api/v2/oauth2/token")
    client.me()
    assert harvest.requests_to("POST /api/v2/oauth2/token") == before + 1 and len(saved) == 2
    harvest.expire_tokens()
    harvest._refresh_tokens.clear()  # the user revoked the app
    with pytest.raises(AuthError, match="click Connect"):
        client.me()
    token_http.close()


def test_a_rejected_personal_token_is_an_auth_error_at_once(harvest, build, demo):
    harvest.switches.expire_token_once()
    with pytest.raises(AuthError, match="revoked or expired"):
        build().me()
    assert harvest.requests_to("GET /v2/users/me") == 1, "a PAT cannot be renewed: no resend"


# Time entries ---------------------------------------------------------------------------------------


def test_pages_stream_with_resume_tokens_and_a_final_cursor(harvest, build, demo):
    client = build(page_size=25)
    pages = list(client.time_entries_since(None))
    assert [len(p.items) for p in pages] == [25, 25, 12] and [p.last for p in pages] == [0, 0, 1]
    assert [p.cursor for p in pages[:-1]] == [None, None], "Harvest lists are not by update time"
    assert pages[-1].cursor == START.replace(tzinfo=None)
    resumed = list(client.time_entries_since(None, resume=pages[0].resume))
    assert [e.remote_id for e in entries(resumed)] == [e.remote_id for e in entries(pages[1:])]
    assert resumed[-1].cursor == pages[-1].cursor, "the run's high water mark survives a resume"
    assert len({e.remote_id for e in entries(pages)}) == 62


def test_incremental_pull_applies_the_overlap(harvest, build, demo):
    client = build(page_size=100)
    assert list(client.time_entries_since(None))[-1].cursor == START.replace(tzinfo=None)
    harvest.clock.advance(hours=2)
    harvest.edit_entry(demo["entries"][0], notes="reworded")
    since = START + timedelta(hours=2, minutes=5)  # a cursor a little past the edit
    changed = entries(client.time_entries_since(since, overlap=timedelta(minutes=10)))
    assert [e.remote_id for e in changed] == [str(demo["entries"][0])], "caught by the overlap"
    query = next(r for r in reversed(harvest.server.requests) if r.path == "/v2/time_entries").query
    assert query["updated_since"] == "2026-11-02T10:55:00Z", "since minus the overlap, in UTC"
    assert entries(client.time_entries_since(since, overlap=timedelta(0))) == []
    last = list(client.time_entries_since(since))[-1]
    assert last.cursor == since.replace(tzinfo=None), "nothing newer: the cursor stays"


def test_approved_only_with_and_without_the_approval_status_field(harvest, build, demo):
    client = build(page_size=100)
    approved = entries(client.time_entries_since(None, approved_only=True))
    assert approved and all(e.approved and e.approval_status == "approved" for e in approved)
    last = next(r for r in reversed(harvest.server.requests) if r.path == "/v2/time_entries")
    assert last.query["approval_status"] == "approved"
    harvest.store.approval_status_field = False  # only is_closed, the documented signal
    fallback = entries(client.time_entries_since(None, approved_only=True))
    assert {e.remote_id for e in fallback} == {e.remote_id for e in approved}
    everything = entries(client.time_entries_since(None))
    unapproved = next(
        e for e in everything if e.remote_id == str(demo["unapproved_after_approval"][0])
    )
    assert not unapproved.approved and unapproved.approval_status == "unsubmitted"


def test_normalised_entry_shape(harvest, build, demo):
    client = build()
    harvest.invoice(entry_ids=[demo["edited_after_approval"]], number="2041")
    entry = client.get_time_entry(demo["edited_after_approval"])
    assert isinstance(entry, PsaTimeEntry) and entry.source == "harvest"
    assert (entry.hours, entry.rounded_hours, entry.minutes) == (
        Decimal("8.5"),
        Decimal("8.5"),
        510,
    )
    assert entry.spent_on == date(2026, 11, 4) and entry.user_name == "Benedict Senior"
    assert entry.billable_rate == Decimal("210") and entry.cost_rate == Decimal("66")
    assert entry.currency == "EUR", "the client's currency (one cached GET per client)"
    assert entry.invoiced and entry.invoice_ref == "2041" and entry.locked
    dana = next(
        e
        for e in entries(client.time_entries_since(None))
        if e.user_name == "Dana Freelancer" and e.notes == "Database upgrade"
    )
    assert (dana.hours, dana.rounded_hours, dana.minutes) == (Decimal("2.33"), Decimal("2.5"), 140)
    assert client.get_time_entry(demo["deleted_after_approval"]) is None
    assert harvest.requests_to("GET /v2/clients/{id}") <= 3


def test_deletions_found_by_window_relist_and_confirmed(harvest, build, demo):
    client = build(page_size=20)
    month_start, month_end = demo["month"]
    moved = demo["entries"][5]

    def move_out(endpoint, page):  # someone moves an entry out of the window mid-listing
        if endpoint == ENTRIES and page == 1:
            harvest.edit_entry(moved, spent_date=month_start - timedelta(days=40))

    harvest.switches.after_page(move_out)
    listed = {e.remote_id for e in entries(client.time_entries_in_window(month_start, month_end))}
    known = {str(i) for i in demo["entries"]} | {str(demo["deleted_after_approval"])}
    missing = known - listed
    assert str(demo["deleted_after_approval"]) in missing and str(moved) in missing
    assert client.confirm_deleted_time_entries(sorted(missing)) == {
        str(demo["deleted_after_approval"])
    }, "only a 404 proves a deletion"


def test_edits_after_approval_and_the_mark_back_echo(harvest, build, demo):
    client = build()
    before = client.get_time_entry(demo["entries"][0])
    harvest.clock.advance(minutes=5)
    marked = client.mark_time_entry(
        demo["entries"][0],
        "odoo-aal-91",
        link="https://odoo.example.com/odoo/action-x/91",
        group="INV/2026/0007",
    )
    assert marked.raw["external_reference"]["group_id"] == "INV/2026/0007"
    assert marked.external_reference == "odoo-aal-91" and marked.updated_at > before.updated_at
    assert marked.fingerprint == before.fingerprint, "our own mark-back is not a change of work"
    assert [e.remote_id for e in client.time_entries_by_reference("odoo-aal-91")] == [
        before.remote_id
    ]
    harvest.edit_entry(demo["entries"][0], hours=Decimal("9"))
    edited = client.get_time_entry(demo["entries"][0])
    assert edited.fingerprint != before.fingerprint and edited.approved
    client.clear_time_entry_mark(demo["entries"][0])
    assert client.get_time_entry(demo["entries"][0]).external_reference is None
    member = build(harvest.add_token("ben", demo["users"]["benedict"]))
    with pytest.raises(AuthError, match="HTTP 403"):  # his own entry, but approved: locked
        member.mark_time_entry(demo["edited_after_approval"], "x")


# Provisioning, people, expenses -----------------------------------------------------------------------


def test_provisioning_looks_up_before_creating(harvest, build, demo):
    client = build(page_size=100)
    acme, created = client.ensure_client("Acme Rockets", currency="EUR")
    assert created and acme.currency == "EUR"
    assert client.ensure_client("acme rockets ")[1] is False, "found by name"
    assert client.get_client(acme.remote_id).name == "Acme Rockets"
    values = {
        "client_id": acme.remote_id,
        "name": "Rocket ERP",
        "bill_by": "Project",
        "budget_by": "project_cost",
        "budget": Decimal("12500.50"),
        "starts_on": date(2026, 12, 1),
        "is_fixed_fee": True,
        "fee": Decimal("12500.50"),
    }
    project, created = client.ensure_project("S00042", **values)
    assert created and project.code == "S00042" and project.budget == Decimal("12500.5")
    assert project.starts_on == date(2026, 12, 1) and project.fixed_fee
    again, created = client.ensure_project("S00042", **values)
    assert not created and again.remote_id == project.remote_id
    assert harvest.requests_to("POST /v2/projects") == 1
    task, _ = client.ensure_task("Rocket design", default_hourly_rate=Decimal("150"))
    assert client.get_task(task.remote_id).hourly_rate == Decimal("150")
    assignment, created = client.ensure_task_assignment(
        project.remote_id, task.remote_id, hourly_rate=Decimal("150")
    )
    assert created and assignment.task_id == task.remote_id
    amended, created = client.ensure_task_assignment(
        project.remote_id, task.remote_id, hourly_rate=Decimal("175")
    )
    assert not created and amended.hourly_rate == Decimal("175"), "an amendment updates the rate"
    person, created = client.ensure_user_assignment(project.remote_id, demo["users"]["chloe"])
    assert created and person.user_id == str(demo["users"]["chloe"])
    assert client.ensure_user_assignment(project.remote_id, demo["users"]["chloe"])[1] is False
    updated = client.update_project(project.remote_id, budget=Decimal("14000"))
    assert updated.budget == Decimal("14000")


def test_a_create_whose_answer_was_lost_is_found_on_retry(harvest, build, demo):
    client = build(timeout=(2, 0.3))
    harvest.switches.slow_next(1, 0.8, endpoint="POST /v2/clients")
    with pytest.raises(TransientError, match="timed out"):
        client.ensure_client("Slow Corp")
    harvest.switches.stopping.wait(0.8)  # the fake finishes creating it after the timeout
    _client_record, created = client.ensure_client("Slow Corp")
    assert not created, "no second client: the retry looked it up first"
    assert sum(c["name"] == "Slow Corp" for c in harvest.store.clients.values()) == 1


def test_duplicate_codes_and_validation_errors_are_business_errors(harvest, build, demo):
    client = build(page_size=100)
    globex = demo["clients"]["globex"]
    harvest.add_project(globex, "Copy", code="PSA-GLX-ASSESS")
    with pytest.raises(BusinessError, match="2 projects with the code 'PSA-GLX-ASSESS'"):
        client.find_project_by_code("PSA-GLX-ASSESS")
    with pytest.raises(BusinessError, match="Budget by must be one of") as caught:
        client.create_project(globex, "Bad", code="X", budget_by="hours")
    assert caught.value.http_status == 422


def test_people_and_cost_rate_history(harvest, build, demo):
    client = build(page_size=100)
    chloe = client.find_user_by_email("Chloe.Analyst@example.com")
    assert chloe.name == "Chloe Analyst" and not chloe.is_admin and chloe.cost_rate == Decimal("40")
    history = client.cost_rate_history(demo["users"]["benedict"])
    assert [(r.amount, r.start_date, r.end_date) for r in history] == [
        (Decimal("66"), date(2025, 9, 27), date(2026, 11, 14)),
        (Decimal("70"), date(2026, 11, 15), None),
    ]
    assert client.billable_rate_history(demo["users"]["benedict"])[0].amount == Decimal("210")
    member = build(harvest.add_token("ben", demo["users"]["benedict"]))
    with pytest.raises(AuthError) as caught:
        member.cost_rate_history(demo["users"]["chloe"])
    assert caught.value.http_status == 403


def test_expenses_receipts_and_deleted_expenses(harvest, build, demo):
    client = build(page_size=100)
    expenses = entries(client.expenses_since(None, approved_only=True))
    assert len(expenses) == 6 and all(e.approved for e in expenses)
    mileage = next(e for e in expenses if e.category_name == "Mileage")
    assert (mileage.amount, mileage.units, mileage.unit_price) == (
        Decimal("25.2"),
        Decimal("84"),
        Decimal("0.3"),
    )
    assert mileage.project_code == "PSA-INI-ERP" and mileage.currency == "EUR"
    with_receipt = next(e for e in expenses if e.receipt_url)
    content, content_type = client.download_receipt(with_receipt)
    assert content.startswith(b"%PDF") and content_type == "application/pdf"
    harvest.delete_expense(int(with_receipt.remote_id))
    assert client.confirm_deleted_expenses([with_receipt.remote_id, mileage.remote_id]) == {
        with_receipt.remote_id
    }
    categories = {c["name"]: c for c in client.expense_categories()}
    assert categories["Mileage"]["unit_price"] == Decimal("0.3")


# Failures ------------------------------------------------------------------------------------------


def test_429_short_retry_after_retried_in_place_long_one_goes_to_the_queue(harvest, build, demo):
    client = build()
    harvest.rate_limit_next(1, retry_after=0, endpoint="GET /v2/users/me")
    assert client.me().is_admin
    assert harvest.requests_to("GET /v2/users/me") == 2
    harvest.rate_limit_next(1, retry_after=40, endpoint="GET /v2/users/me")
    with pytest.raises(TransientError) as caught:
        client.me()
    assert caught.value.retry_after == 40.0 and caught.value.http_status == 429
    assert harvest.requests_to("GET /v2/users/me") == 3, "no wait inside the worker"


def test_5xx_timeouts_and_malformed_bodies_are_transient_and_retried(harvest, build, demo):
    client = build(page_size=100, timeout=(2, 0.3))
    harvest.switches.fail_next(1, 502, endpoint=ENTRIES)
    harvest.switches.slow_next(1, 0.6, endpoint=ENTRIES)
    harvest.switches.truncate_next(1, endpoint=ENTRIES)
    assert len(entries(client.time_entries_since(None))) == 62
    assert harvest.requests_to(ENTRIES) == 4, "a 502, a timeout and a cut body, each retried"
    harvest.server.malformed_next(3)
    with pytest.raises(TransientError, match="not valid JSON"):
        client.me()
    harvest.switches.fail_next(3, 503, endpoint="GET /v2/users/me")
    with pytest.raises(TransientError, match="HTTP 503"):
        client.me()


def test_paging_survives_empty_pages_rotating_cursors_and_refuses_foreign_links(
    harvest, build, demo
):
    client = build(page_size=20)
    harvest.switches.empty_page_next(2)
    harvest.switches.rotate_cursors = True
    got = entries(client.time_entries_since(None))
    assert len(got) == len({e.remote_id for e in got}) == 62
    harvest.server.route(
        "GET",
        "/v2/tasks",
        lambda request: (
            200,
            {},
            {"tasks": [], "links": {"next": "https://elsewhere.example.com/v2/tasks?cursor=x"}},
        ),
    )
    with pytest.raises(BusinessError, match="another host"):
        list(client.list_tasks())


def test_bulk_pull_with_random_failures_imports_each_entry_once(harvest, build):
    ids = harvest.seed_bulk(2000)
    harvest.enforce_rate_limit = False
    harvest.switches.random_failures(0.2, seed=20261102, statuses=(500, 502, 503))
    client = build(page_size=100, quick_retries=2)
    seen, resume, attempts, cursor = [], None, 0, None
    while attempts < 30:  # the queue: retry the job from its last checkpoint
        attempts += 1
        try:
            for page in client.time_entries_since(None, resume=resume):
                seen.extend(e.remote_id for e in page.items)
                resume, cursor = page.resume, page.cursor
            break
        except TransientError:
            continue
    assert sorted(map(int, seen)) == sorted(ids), "every entry exactly once"
    assert cursor is not None
    requests_made = harvest.requests_to(ENTRIES)
    assert requests_made > 20, f"failures were retried ({requests_made} requests for 20 pages)"


def test_engine_modules_do_not_import_odoo():
    addon = Path(__file__).resolve().parents[2] / "addons"
    code = textwrap.dedent(
        f"""
        import importlib, sys, types
        for name in ("odoo", "odoo.addons"):
            stub = types.ModuleType(name); stub.__path__ = []; sys.modules[name] = stub
        for addon in ("connector_base", "connector_psa"):
            for name in (addon, "odoo.addons." + addon):
                package = types.ModuleType(name)
                package.__path__ = [{str(addon)!r} + "/" + addon]
                sys.modules[name] = package
        for name in ("records", "transport", "oauth", "harvest", "harvest_mapping",
                     "harvest_provisioning", "kantata", "kantata_mapping", "kantata_projects"):
            importlib.import_module("odoo.addons.connector_psa.engine." + name)
        real = [n for n, m in sys.modules.items()
                if n.startswith("odoo") and getattr(m, "__file__", None)]
        print(",".join(sorted(n for n in real if "connector_" not in n)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"the engine imported Odoo: {result.stdout}"
