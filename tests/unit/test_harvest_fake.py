"""The Harvest fake must behave like the documented Harvest API v2, or client tests prove nothing.

Sources: help.getharvest.com/api-v2 (overview, pagination, time entries, expenses, projects,
assignments, users, cost rates) and ../shared/reference/external-apis.md section 3.
"""

import base64
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from urllib3.util import SKIP_HEADER

from tests.fakes.harvest import FakeHarvest
from tests.fakes.harvest.views import APPROVED_REASON, INVOICED_REASON

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


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
def account(harvest):
    """A small account: one project with a task, two members, four entries over two days."""
    client = harvest.add_client("ABC Corp", "EUR")
    project = harvest.add_project(client, "Website", code="ABC-1", bill_by="Tasks")
    task = harvest.add_task("Design")
    harvest.assign_task(project, task, hourly_rate=100)
    kim = harvest.add_user("Kim", "Allen", "kim@example.com", cost_rates=[(None, 50)])
    lee = harvest.add_user("Lee", "Brown", "lee@example.com", cost_rates=[(None, 40)])
    for user in (kim, lee):
        harvest.assign_user(project, user)
    entries = [
        harvest.log_time(kim, project, task, date(2026, 10, 1), 2.11, "one", approval="approved"),
        harvest.log_time(kim, project, task, date(2026, 10, 2), 1, "two"),
        harvest.log_time(lee, project, task, date(2026, 10, 1), 3.5, "three", approval="submitted"),
        harvest.log_time(lee, project, task, date(2026, 10, 3), 0.5, "four"),
    ]
    return {
        "client": client,
        "project": project,
        "task": task,
        "kim": kim,
        "lee": lee,
        "entries": entries,
    }


def get(harvest, path, token=None, **params):
    return requests.get(
        f"{harvest.url}{path}", headers=harvest.headers(token), params=params, timeout=5
    )


def send(harvest, method, path, body=None, token=None):
    return requests.request(
        method, f"{harvest.url}{path}", headers=harvest.headers(token), json=body, timeout=5
    )


def ids(response, key="time_entries"):
    return [item["id"] for item in response.json()[key]]


# Authentication and headers ---------------------------------------------------------------------


def test_user_agent_is_required(harvest):
    for agent in (SKIP_HEADER, ""):
        headers = {**harvest.headers(), "User-Agent": agent}
        answer = requests.get(f"{harvest.url}/v2/users/me", headers=headers, timeout=5)
        assert answer.status_code == 400, f"User-Agent {agent!r} must be refused"
        assert "User-Agent" in answer.json()["message"]
    assert get(harvest, "/v2/users/me").status_code == 200


def test_token_and_account_header_checks(harvest):
    bad = get(harvest, "/v2/users/me", token="nope")
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_token")
    headers = harvest.headers()
    del headers["Harvest-Account-Id"]
    missing = requests.get(f"{harvest.url}/v2/users/me", headers=headers, timeout=5)
    assert missing.status_code == 401
    other = requests.get(
        f"{harvest.url}/v2/users/me", timeout=5, headers=harvest.headers(account_id=999)
    )
    assert other.status_code == 403, "a token cannot use another account"
    query = requests.get(
        f"{harvest.url}/v2/users/me",
        timeout=5,
        headers={"User-Agent": "Tests (t@example.com)"},
        params={"access_token": harvest.personal_access_token, "account_id": harvest.account_id},
    )
    assert query.status_code == 200, "the documented query-string authentication works too"


def test_oauth_code_flow_refresh_expiry_and_accounts(harvest):
    redirect = "https://odoo.example.com/psa/callback"
    authorize = requests.get(
        f"{harvest.id_url}/oauth2/authorize",
        allow_redirects=False,
        timeout=5,
        params={
            "client_id": harvest.client_id,
            "response_type": "code",
            "redirect_uri": redirect,
            "state": "s1",
        },
    )
    assert authorize.status_code == 302
    query = parse_qs(urlsplit(authorize.headers["Location"]).query)
    assert query["state"] == ["s1"] and query["scope"] == [f"harvest:{harvest.account_id}"]

    def token(**form):
        form = {"client_id": harvest.client_id, "client_secret": harvest.client_secret, **form}
        return requests.post(f"{harvest.id_url}/api/v2/oauth2/token", data=form, timeout=5)

    granted = token(grant_type="authorization_code", code=query["code"][0])
    assert granted.status_code == 200, granted.text
    tokens = granted.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == harvest.access_token_ttl
    again = token(grant_type="authorization_code", code=query["code"][0])
    assert again.json()["error"] == "invalid_grant", "an authorization code is single use"
    assert token(grant_type="refresh_token", refresh_token="x").json()["error"] == "invalid_grant"
    assert get(harvest, "/v2/users/me", token=tokens["access_token"]).status_code == 200
    harvest.clock.advance(seconds=harvest.access_token_ttl)
    assert get(harvest, "/v2/users/me", token=tokens["access_token"]).status_code == 401
    renewed = token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert get(harvest, "/v2/users/me", token=renewed["access_token"]).status_code == 200
    accounts = requests.get(
        f"{harvest.id_url}/api/v2/accounts",
        timeout=5,
        headers={"Authorization": f"Bearer {renewed['access_token']}"},
    ).json()
    assert accounts["accounts"][0] == {
        "id": harvest.account_id,
        "name": harvest.account_name,
        "product": "harvest",
    }
    assert (
        token(
            client_secret="wrong",
            grant_type="refresh_token",
            refresh_token=renewed["refresh_token"],
        ).status_code
        == 401
    )


def test_members_are_denied_admin_endpoints(harvest, account):
    token = harvest.add_token("member-token", account["kim"])
    assert get(harvest, "/v2/company", token=token).status_code == 403
    assert get(harvest, f"/v2/users/{account['lee']}/cost_rates", token=token).status_code == 403
    own = get(harvest, "/v2/time_entries", token=token)
    assert {e["user"]["id"] for e in own.json()["time_entries"]} == {account["kim"]}, (
        "members only see their own time"
    )
    assert get(harvest, "/v2/company").json()["approval_feature"] is True


# Pagination ----------------------------------------------------------------------------------------


def test_cursor_pagination_follows_links_next(harvest, account):
    first = get(harvest, "/v2/time_entries", per_page=3).json()
    assert (first["page"], first["total_pages"], first["total_entries"]) == (1, 2, 4)
    assert first["next_page"] == 2 and first["previous_page"] is None
    links = first["links"]
    assert "cursor=" in links["next"] and links["next"].startswith(harvest.url)
    assert "page=1" in links["first"] and "page=2" in links["last"]
    cursor = parse_qs(urlsplit(links["next"]).query)["cursor"][0]
    assert json.loads(base64.urlsafe_b64decode(cursor + "==="))["after"], "an opaque keyset"
    second = requests.get(links["next"], headers=harvest.headers(), timeout=5).json()
    assert len(second["time_entries"]) == 1 and second["links"]["next"] is None
    assert second["page"] == 2, "cursor mode: the page number shows on the last page"
    spent = [e["spent_date"] for e in first["time_entries"] + second["time_entries"]]
    assert spent == sorted(spent, reverse=True), "time entries come newest spent date first"
    assert (
        len({*ids(get(harvest, "/v2/time_entries", per_page=3)), second["time_entries"][0]["id"]})
        == 4
    )


def test_per_page_range_and_deprecated_page_parameter(harvest, account):
    for value in ("0", "2001", "x"):
        answer = get(harvest, "/v2/time_entries", per_page=value)
        assert answer.status_code == 422, f"per_page={value} must be refused"
        assert "per_page" in answer.json()["message"]
    assert get(harvest, "/v2/time_entries", per_page=2000).status_code == 200
    page_two = get(harvest, "/v2/time_entries", per_page=3, page=2).json()
    assert (page_two["page"], page_two["previous_page"], len(page_two["time_entries"])) == (2, 1, 1)


def test_filters_updated_since_window_approval_billed_and_reference(harvest, account):
    harvest.clock.advance(hours=1)
    harvest.edit_entry(account["entries"][3], notes="changed")
    since = (START + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(get(harvest, "/v2/time_entries", updated_since=since)) == [account["entries"][3]]
    window = get(harvest, "/v2/time_entries", **{"from": "2026-10-01", "to": "2026-10-02"})
    assert sorted(ids(window)) == sorted(account["entries"][:3]), "from/to are inclusive"
    assert ids(get(harvest, "/v2/time_entries", approval_status="approved")) == [
        account["entries"][0]
    ]
    assert get(harvest, "/v2/time_entries", approval_status="nope").status_code == 422
    harvest.invoice(entry_ids=[account["entries"][1]])
    assert ids(get(harvest, "/v2/time_entries", is_billed="true")) == [account["entries"][1]]
    assert ids(get(harvest, "/v2/time_entries", user_id=account["lee"], is_billed="false")) == [
        account["entries"][3],
        account["entries"][2],
    ]
    send(
        harvest,
        "PATCH",
        f"/v2/time_entries/{account['entries'][2]}",
        {"external_reference": {"id": "odoo-line-7", "permalink": "https://odoo.example.com/x"}},
    )
    marked = get(harvest, "/v2/time_entries", external_reference_id="odoo-line-7").json()
    assert [e["id"] for e in marked["time_entries"]] == [account["entries"][2]]
    assert marked["time_entries"][0]["external_reference"]["service"] == "odoo.example.com"
    assert get(harvest, "/v2/time_entries", updated_since="yesterday").status_code == 422


def test_entry_shape_lock_reasons_rounding_and_rates(harvest, account):
    entry = harvest.time_entry(account["entries"][0])
    assert (entry["hours"], entry["rounded_hours"]) == (2.11, 2.25), "rounded up to 15 minutes"
    assert entry["is_locked"] and entry["locked_reason"] == APPROVED_REASON and entry["is_closed"]
    assert entry["approval_status"] == "approved"
    assert (entry["billable_rate"], entry["cost_rate"]) == (100, 50), "bill_by Tasks: task rate"
    assert entry["project"] == {"id": account["project"], "name": "Website"}, "no code on entries"
    harvest.invoice(entry_ids=[account["entries"][0]], number="1001")
    invoiced = harvest.time_entry(account["entries"][0])
    assert invoiced["locked_reason"] == INVOICED_REASON
    assert invoiced["invoice"]["number"] == "1001" and invoiced["is_billed"]
    harvest.store.approval_status_field = False
    assert "approval_status" not in harvest.time_entry(account["entries"][0])
    unfiltered = get(harvest, "/v2/time_entries", approval_status="approved")
    assert len(unfiltered.json()["time_entries"]) == 4, "without the field the filter is ignored"


def test_admins_edit_and_delete_locked_entries_members_cannot(harvest, account):
    member = harvest.add_token("kim-token", account["kim"])
    locked = account["entries"][0]
    assert (
        send(harvest, "PATCH", f"/v2/time_entries/{locked}", {"hours": 3}, member).status_code
        == 403
    )
    assert send(harvest, "DELETE", f"/v2/time_entries/{locked}", token=member).status_code == 403
    edited = send(harvest, "PATCH", f"/v2/time_entries/{locked}", {"hours": 3})
    assert edited.status_code == 200 and edited.json()["hours"] == 3
    assert edited.json()["approval_status"] == "approved", "an admin edit keeps the approval"
    assert send(harvest, "DELETE", f"/v2/time_entries/{locked}").status_code == 200
    assert get(harvest, f"/v2/time_entries/{locked}").status_code == 404
    assert locked not in ids(get(harvest, "/v2/time_entries")), "no trace: there is no deleted feed"


def test_time_entry_create_and_validation(harvest, account):
    body = {
        "project_id": account["project"],
        "task_id": account["task"],
        "spent_date": "2026-10-05",
        "hours": 1.5,
        "user_id": account["lee"],
    }
    created = send(harvest, "POST", "/v2/time_entries", body)
    assert created.status_code == 201 and created.json()["user"]["id"] == account["lee"]
    other_task = harvest.add_task("Unassigned")
    refused = send(harvest, "POST", "/v2/time_entries", {**body, "task_id": other_task})
    assert refused.status_code == 422 and "not assigned" in refused.json()["message"]
    blank = send(harvest, "POST", "/v2/time_entries", {"task_id": account["task"]})
    assert blank.json()["message"] == "Project can't be blank"


# Provisioning --------------------------------------------------------------------------------------


def test_clients_projects_tasks_create_update_and_duplicates(harvest, account):
    client = send(harvest, "POST", "/v2/clients", {"name": "Globex", "currency": "USD"})
    assert client.status_code == 201 and client.json()["currency"] == "USD"
    assert send(harvest, "POST", "/v2/clients", {"name": "Globex"}).json()["message"] == (
        "Name has already been taken"
    )
    project = {
        "client_id": client.json()["id"],
        "name": "Audit",
        "code": "GLX-9",
        "is_billable": True,
        "bill_by": "Project",
        "budget_by": "project_cost",
        "budget": 12000.5,
        "starts_on": "2026-10-01",
        "ends_on": "2026-12-31",
        "is_fixed_fee": True,
        "fee": 12000,
    }
    created = send(harvest, "POST", "/v2/projects", project)
    assert created.status_code == 201, created.text
    shape = created.json()
    assert (shape["code"], shape["budget"], shape["fee"], shape["is_fixed_fee"]) == (
        "GLX-9",
        12000.5,
        12000,
        True,
    )
    assert shape["client"] == {"id": client.json()["id"], "name": "Globex", "currency": "USD"}
    missing = send(harvest, "POST", "/v2/projects", {**project, "name": "B", "bill_by": None})
    assert missing.json()["message"] == "Bill by can't be blank"
    wrong = send(harvest, "POST", "/v2/projects", {**project, "name": "C", "budget_by": "hours"})
    assert wrong.status_code == 422 and "Budget by" in wrong.json()["message"]
    patched = send(harvest, "PATCH", f"/v2/projects/{shape['id']}", {"budget": 15000})
    assert patched.json()["budget"] == 15000 and patched.json()["code"] == "GLX-9"
    assert send(harvest, "POST", "/v2/tasks", {"name": "Design"}).status_code == 422
    assert (
        send(harvest, "POST", "/v2/tasks", {"name": "QA", "default_hourly_rate": 90}).json()[
            "default_hourly_rate"
        ]
        == 90
    )


def test_task_and_user_assignments(harvest, account):
    task = harvest.add_task("Review")
    path = f"/v2/projects/{account['project']}/task_assignments"
    created = send(harvest, "POST", path, {"task_id": task, "billable": False, "hourly_rate": 80})
    assert created.status_code == 201
    assert created.json()["project"]["code"] == "ABC-1" and created.json()["billable"] is False
    assert send(harvest, "POST", path, {"task_id": task}).json()["message"] == (
        "Task has already been taken"
    )
    updated = send(harvest, "PATCH", f"{path}/{created.json()['id']}", {"hourly_rate": 95})
    assert updated.json()["hourly_rate"] == 95
    listed = get(harvest, path).json()["task_assignments"]
    assert {a["task"]["id"] for a in listed} == {account["task"], task}
    users = get(
        harvest, f"/v2/projects/{account['project']}/user_assignments", user_id=account["lee"]
    ).json()["user_assignments"]
    assert [a["user"]["id"] for a in users] == [account["lee"]]
    again = send(
        harvest,
        "POST",
        f"/v2/projects/{account['project']}/user_assignments",
        {"user_id": account["lee"]},
    )
    assert again.json()["message"] == "User has already been taken"


def test_cost_rate_history_follows_harvest_replacement_rules(harvest, account):
    path = f"/v2/users/{account['kim']}/cost_rates"
    send(harvest, "POST", path, {"amount": 60, "start_date": "2026-01-01"})
    send(harvest, "POST", path, {"amount": 70, "start_date": "2026-07-01"})
    rates = get(harvest, path).json()["cost_rates"]
    assert [(r["amount"], r["start_date"], r["end_date"]) for r in rates] == [
        (50, None, "2025-12-31"),
        (60, "2026-01-01", "2026-06-30"),
        (70, "2026-07-01", None),
    ]
    send(harvest, "POST", path, {"amount": 65, "start_date": "2026-03-01"})
    rates = get(harvest, path).json()["cost_rates"]
    assert [r["amount"] for r in rates] == [50, 60, 65], "a start before later rates replaces them"
    assert get(harvest, f"/v2/users/{account['kim']}").json()["cost_rate"] == 65
    send(harvest, "POST", path, {"amount": 55})
    assert [r["amount"] for r in get(harvest, path).json()["cost_rates"]] == [55], (
        "no start date replaces the history"
    )
    entry = harvest.log_time(
        account["kim"], account["project"], account["task"], date(2026, 10, 9), 1
    )
    assert harvest.time_entry(entry)["cost_rate"] == 55


def test_expenses_filters_and_receipt(harvest, account):
    meals = harvest.add_expense_category("Meals")
    miles = harvest.add_expense_category("Mileage", "mile", 0.5)
    first = harvest.log_expense(
        account["kim"],
        account["project"],
        meals,
        date(2026, 10, 3),
        total_cost=33.35,
        notes="Lunch",
        receipt=True,
        approval="approved",
    )
    second = harvest.log_expense(
        account["lee"], account["project"], miles, date(2026, 10, 4), units=120
    )
    listed = get(harvest, "/v2/expenses").json()["expenses"]
    assert [e["id"] for e in listed] == [second, first], "newest spent date first"
    by_id = {e["id"]: e for e in listed}
    assert (
        by_id[second]["total_cost"] == 60
        and by_id[second]["expense_category"]["unit_name"] == "mile"
    )
    assert (
        by_id[first]["client"]["currency"] == "EUR" and by_id[first]["project"]["code"] == "ABC-1"
    )
    assert ids(get(harvest, "/v2/expenses", approval_status="approved"), "expenses") == [first]
    receipt = requests.get(by_id[first]["receipt"]["url"], headers=harvest.headers(), timeout=5)
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert requests.get(by_id[first]["receipt"]["url"], timeout=5).status_code in (400, 401)


# Rate limit and failure switches --------------------------------------------------------------------


def test_rate_limit_is_100_per_15_seconds_with_retry_after(harvest):
    statuses = [get(harvest, "/v2/users/me").status_code for _ in range(101)]
    assert statuses[:100] == [200] * 100 and statuses[100] == 429
    limited = get(harvest, "/v2/users/me")
    assert limited.headers["Retry-After"] == "15", "the window is measured with the fake clock"
    harvest.clock.advance(seconds=15)
    assert get(harvest, "/v2/users/me").status_code == 200
    harvest.rate_limit_next(1, retry_after=2)
    forced = get(harvest, "/v2/users/me")
    assert (forced.status_code, forced.headers["Retry-After"]) == (429, "2")


def test_endpoint_aimed_failures_truncation_expiry_and_counters(harvest, account):
    harvest.switches.fail_next(1, 502, endpoint="GET /v2/time_entries")
    assert get(harvest, "/v2/users/me").status_code == 200, "other endpoints are not hit"
    assert get(harvest, "/v2/time_entries").status_code == 502
    harvest.switches.truncate_next(1, endpoint="GET /v2/time_entries")
    cut = get(harvest, "/v2/time_entries")
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    harvest.switches.expire_token_once()
    assert get(harvest, "/v2/users/me").status_code == 401
    assert get(harvest, "/v2/users/me").status_code == 200, "401 once, then the token works"
    harvest.server.fail_next(1, 503)  # a failure of the server itself, before any route
    assert get(harvest, "/v2/time_entries").status_code == 503
    counts = harvest.endpoint_counts()
    assert counts["GET /v2/time_entries"] == 3 and counts["GET /v2/users/me"] == 3
    assert harvest.requests_to("GET /v2/time_entries/{id}") == 0


def test_slow_answers_time_out_the_client(harvest):
    harvest.switches.slow_next(1, 5, endpoint="GET /v2/users/me")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{harvest.url}/v2/users/me", headers=harvest.headers(), timeout=(2, 0.2))


def test_paging_edge_switches(harvest, account):
    harvest.switches.empty_page_next(1)
    empty = get(harvest, "/v2/time_entries", per_page=2).json()
    assert empty["time_entries"] == [] and empty["links"]["next"], "empty, yet more to come"
    served = ids(requests.get(empty["links"]["next"], headers=harvest.headers(), timeout=5))
    assert len(served) == 2, "the next link continues where the empty page stood"
    harvest.switches.rotate_cursors = True
    one = get(harvest, "/v2/time_entries", per_page=2).json()["links"]["next"]
    two = get(harvest, "/v2/time_entries", per_page=2).json()["links"]["next"]
    assert one != two, "the same page twice gives a different next link"
    rest = [ids(requests.get(url, headers=harvest.headers(), timeout=5)) for url in (one, two)]
    assert rest[0] == rest[1], "both links are valid"


def test_after_page_hook_moves_an_entry_between_pages(harvest, account):
    moved = account["entries"][3]  # newest spent date: first page

    def hook(endpoint, page):
        if endpoint == "GET /v2/time_entries" and page == 1:
            harvest.edit_entry(moved, spent_date=date(2026, 9, 1))

    harvest.switches.after_page(hook)
    seen, url, params = [], f"{harvest.url}/v2/time_entries", {"per_page": 2}
    while url:
        page = requests.get(url, headers=harvest.headers(), params=params, timeout=5).json()
        seen += [entry["id"] for entry in page["time_entries"]]
        url, params = page["links"]["next"], None
    assert seen.count(moved) == 2, "keyset paging: an entry moved behind the cursor shows twice"


def test_random_failures_are_reproducible(harvest):
    runs = []
    for _ in range(2):
        harvest.switches.random_failures(0.3, seed=7)
        runs.append([get(harvest, "/v2/users/me").status_code for _ in range(30)])
    assert runs[0] == runs[1] and len(set(runs[0])) > 1
    assert any(s == 429 for s in runs[0]) or any(s >= 500 for s in runs[0])


def test_seed_demo_month_with_corrections(harvest):
    seeded = harvest.seed_demo(today=date(2026, 12, 5))
    assert seeded["month"] == (date(2026, 11, 1), date(2026, 11, 30))
    assert set(seeded["projects"]) == {"PSA-GLX-ASSESS", "PSA-INI-ERP", "PSA-UMB-SUPPORT"}
    assert harvest.time_entry(seeded["deleted_after_approval"]) is None
    edited = harvest.time_entry(seeded["edited_after_approval"])
    assert edited["hours"] == 8.5 and edited["approval_status"] == "approved"
    unapproved = harvest.time_entry(seeded["unapproved_after_approval"][0])
    assert unapproved["approval_status"] == "submitted"
    me = get(harvest, "/v2/users/me").json()
    assert me["email"] == "alexandra.partner@example.com", "the demo token is the demo admin's"
    rates = get(harvest, f"/v2/users/{seeded['users']['benedict']}/cost_rates").json()["cost_rates"]
    assert [r["amount"] for r in rates] == [66, 70] and rates[1]["start_date"] == "2026-11-15"
