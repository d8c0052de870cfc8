"""The Kantata fake must behave like the documented Kantata OX API v1.

Sources: developer.kantata.com (response format, pagination, Time Entries, Timesheet
Submissions, Cost Rates, External References, Subscribed Events, security: tokens do not
expire) and ../shared/reference/external-apis.md section 4.
"""

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.kantata import FakeKantata

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


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
def account(kantata):
    ws = kantata.add_workspace("Website", currency="EUR", reference="SO042")
    open_ws = kantata.add_workspace("Support", currency="USD", require_time_approvals=False)
    story = kantata.add_story(ws, "Design")
    kim = kantata.add_user(
        "Kim Allen",
        "kim@example.com",
        cost_rates={"EUR": 5000, "USD": 5500},
        bill_rate_in_cents=12000,
    )
    lee = kantata.add_user("Lee Brown", "lee@example.com", cost_rates={"EUR": 4000})
    for user in (kim, lee):
        kantata.add_participant(ws, user)
    entries = [
        kantata.log_time(
            kim, ws, date(2026, 10, 1), 126, story_id=story, notes="one", approved=True
        ),
        kantata.log_time(kim, ws, date(2026, 10, 2), 60, story_id=story, notes="two"),
        kantata.log_time(lee, ws, date(2026, 10, 1), 210, notes="three"),
        kantata.log_time(lee, open_ws, date(2026, 10, 3), 30, notes="four"),
    ]
    return {
        "ws": ws,
        "open_ws": open_ws,
        "story": story,
        "kim": kim,
        "lee": lee,
        "entries": entries,
    }


def get(kantata, path, token=None, **params):
    return requests.get(
        f"{kantata.api_url}{path}", headers=kantata.headers(token), params=params, timeout=5
    )


def send(kantata, method, path, body=None, token=None):
    return requests.request(
        method, f"{kantata.api_url}{path}", headers=kantata.headers(token), json=body, timeout=5
    )


def ordered(response, key="time_entries"):
    """Ids in ``results`` order (the documented way to read an answer)."""
    return [int(r["id"]) for r in response.json()["results"] if r["key"] == key]


# Envelope, auth, errors ------------------------------------------------------------------------------


def test_envelope_side_loading_and_include_only_ids(kantata, account):
    answer = get(kantata, "/time_entries.json", per_page=2)
    body = answer.json()
    assert set(body) == {"count", "meta", "results", "time_entries"}
    assert body["count"] == 4 and body["meta"] == {
        "count": 4,
        "page_count": 2,
        "page_number": 1,
        "page_size": 2,
    }
    first = body["time_entries"][body["results"][0]["id"]]
    assert isinstance(first["id"], str), "ids are strings"
    assert "user_id" not in first and "workspace_id" not in first, (
        "relation ids only come with include= (documented)"
    )
    included = get(kantata, "/time_entries", include="user,workspace,story").json()
    entry = included["time_entries"][str(account["entries"][0])]
    assert entry["user_id"] == str(account["kim"]) and entry["story_id"] == str(account["story"])
    assert included["users"][str(account["kim"])]["email_address"] == "kim@example.com"
    assert included["workspaces"][str(account["ws"])]["currency"] == "EUR"
    assert entry["time_in_minutes"] == 126 and entry["rate_in_cents"] == 12000
    assert entry["cost_rate_in_cents"] == 5000 and entry["currency"] == "EUR"


def test_errors_and_tokens(kantata, account):
    denied = get(kantata, "/time_entries", token="nope")
    assert denied.status_code == 401
    assert denied.json() == {"errors": [{"type": "oauth", "message": "Invalid OAuth 2 Request"}]}
    missing = get(kantata, "/time_entries/999999")
    assert missing.status_code == 404 and missing.json()["errors"][0]["message"] == "Not Found"
    kantata.clock.advance(days=400)
    assert get(kantata, "/users/me").status_code == 200, "access tokens do not expire"
    kantata.revoke_tokens()
    assert get(kantata, "/users/me").status_code == 401


def test_oauth_code_flow_denial_and_optional_refresh(kantata):
    redirect = "https://odoo.example.com/kantata/callback"

    def authorize():
        answer = requests.get(
            f"{kantata.url}/oauth/authorize",
            allow_redirects=False,
            timeout=5,
            params={
                "client_id": kantata.client_id,
                "response_type": "code",
                "redirect_uri": redirect,
                "state": "s",
            },
        )
        return parse_qs(urlsplit(answer.headers["Location"]).query)

    def token(**form):
        form = {"client_id": kantata.client_id, "client_secret": kantata.client_secret, **form}
        return requests.post(f"{kantata.url}/oauth/token", data=form, timeout=5)

    code = authorize()["code"][0]
    granted = token(grant_type="authorization_code", code=code, redirect_uri=redirect).json()
    assert set(granted) == {"access_token", "token_type"}, "no expiry, no refresh token"
    assert get(kantata, "/users/me", token=granted["access_token"]).status_code == 200
    kantata.deny_authorization = True
    assert authorize()["error"] == ["access_denied"]
    kantata.deny_authorization = False
    kantata.issue_refresh_tokens, kantata.token_ttl = True, 3600
    code = authorize()["code"][0]
    granted = token(grant_type="authorization_code", code=code, redirect_uri=redirect).json()
    assert granted["expires_in"] == 3600 and granted["refresh_token"]
    kantata.clock.advance(seconds=3600)
    assert get(kantata, "/users/me", token=granted["access_token"]).status_code == 401
    renewed = token(grant_type="refresh_token", refresh_token=granted["refresh_token"]).json()
    assert get(kantata, "/users/me", token=renewed["access_token"]).status_code == 200


def test_paging_limits_and_offsets(kantata, account):
    assert get(kantata, "/time_entries", per_page=500).json()["meta"]["page_size"] == 200, (
        "per_page above 200 is clamped"
    )
    kantata.reject_per_page_over_max = True
    assert get(kantata, "/time_entries", per_page=500).status_code == 400
    second = get(kantata, "/time_entries", per_page=3, page=2).json()
    assert second["meta"]["page_number"] == 2 and len(second["results"]) == 1
    sliced = get(kantata, "/time_entries", limit=2, offset=1)
    assert len(sliced.json()["results"]) == 2, "limit/offset override page/per_page"
    assert get(kantata, "/time_entries", page="x").status_code == 400


# Time entries -----------------------------------------------------------------------------------


def test_time_entry_filters(kantata, account):
    entries = account["entries"]
    assert sorted(ordered(get(kantata, "/time_entries", approved="false"))) == [
        entries[0],
        entries[3],
    ], "approved: approved timesheets or projects without approvals, whatever the value"
    between = get(kantata, "/time_entries", date_performed_between="2026-10-01:2026-10-02")
    assert sorted(ordered(between)) == entries[:3]
    assert ordered(get(kantata, "/time_entries", workspace_id=account["open_ws"])) == [entries[3]]
    assert (
        sorted(ordered(get(kantata, "/time_entries", only=f"{entries[1]},{entries[2]}")))
        == entries[1:3]
    )
    kantata.clock.advance(minutes=5)
    kantata.edit_entry(entries[2], notes="changed")
    after = get(kantata, "/time_entries", updated_after=(START + timedelta(minutes=1)).isoformat())
    assert ordered(after) == [entries[2]], "updated_after is strict and honours offsets"
    asc = ordered(get(kantata, "/time_entries", order="updated_at:asc"))
    assert asc[-1] == entries[2]
    assert get(kantata, "/time_entries", order="colour:asc").status_code == 400
    default = ordered(get(kantata, "/time_entries"))
    assert default[0] == entries[3], "default order: date_performed:desc"


def test_edit_and_delete_rules_with_events(kantata, account):
    member = kantata.add_token("lee-token", account["lee"])
    approved = account["entries"][0]
    refused = send(
        kantata, "PUT", f"/time_entries/{approved}", {"time_entry": {"notes": "x"}}, member
    )
    assert refused.status_code == 403
    edited = send(
        kantata, "PUT", f"/time_entries/{approved}", {"time_entry": {"time_in_minutes": 150}}
    )
    assert edited.status_code == 200
    assert edited.json()["time_entries"][str(approved)]["approved"] is True
    invalid = send(
        kantata, "PUT", f"/time_entries/{approved}", {"time_entry": {"time_in_minutes": 0}}
    )
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "time_in_minutes"
    kantata.invoice([account["entries"][1]])
    locked = send(kantata, "DELETE", f"/time_entries/{account['entries'][1]}")
    assert locked.status_code == 422 and "invoiced" in locked.json()["errors"][0]["message"]
    gone = send(kantata, "DELETE", f"/time_entries/{account['entries'][2]}")
    assert gone.status_code == 204 and not gone.content
    events = get(
        kantata,
        "/subscribed_events",
        event_types="time_entry:deleted,time_entry:updated",
        include="subject",
    ).json()
    kinds = {(e["event_type"], e["subject_id"]) for e in events["subscribed_events"].values()}
    assert ("time_entry:deleted", account["entries"][2]) in kinds
    assert ("time_entry:updated", approved) in kinds
    deleted = next(
        e for e in events["subscribed_events"].values() if e["event_type"] == "time_entry:deleted"
    )
    assert deleted["subject_ref"] is None, "the subject of a deleted entry is not available"


def test_create_time_entry_and_validation(kantata, account):
    created = send(
        kantata,
        "POST",
        "/time_entries",
        {
            "time_entry": {
                "workspace_id": account["ws"],
                "date_performed": "2026-10-09",
                "time_in_minutes": 45,
                "story_id": account["story"],
                "user_id": account["lee"],
            }
        },
    )
    assert created.status_code == 200
    blank = send(kantata, "POST", "/time_entries", {"time_entry": {"workspace_id": account["ws"]}})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "date_performed"


def test_timesheet_submission_approval_and_rejection_over_http(kantata, account):
    entry = account["entries"][1]
    submitted = send(
        kantata,
        "POST",
        "/timesheet_submissions",
        {"timesheet_submission": {"time_entry_ids": [entry]}},
    ).json()
    submission = submitted["results"][0]["id"]
    assert submitted["timesheet_submissions"][submission]["status"] == "pending"
    member = kantata.add_token("lee-token", account["lee"])
    body = {"resolution": {"submission_ids": [int(submission)], "description": "ok"}}
    assert send(kantata, "POST", "/timesheet_approvals", body, member).status_code == 403
    approved = send(kantata, "POST", "/timesheet_approvals", body).json()
    assert next(iter(approved["resolutions"].values()))["resolution_type"] == "approval"
    assert kantata.time_entry(entry)["approved"] is True
    send(kantata, "POST", "/timesheet_rejections", body)
    assert kantata.time_entry(entry)["approved"] is False, "a rejected timesheet is not approved"


# Events, cost rates, references, provisioning ---------------------------------------------------


def test_event_feed_is_for_administrators_and_keeps_nine_days(kantata, account):
    member = kantata.add_token("lee-token", account["lee"])
    forbidden = get(kantata, "/subscribed_events", token=member)
    assert forbidden.status_code == 403 and forbidden.json()["errors"][0]["type"] == "authorization"
    old = get(kantata, "/subscribed_events", event_types="time_entry:created").json()["count"]
    assert old == 4
    kantata.clock.advance(days=9, seconds=1)
    kantata.edit_entry(account["entries"][1], notes="later")
    recent = get(kantata, "/subscribed_events").json()
    assert [e["event_type"] for e in recent["subscribed_events"].values()] == ["time_entry:updated"]
    kantata.store.duplicate_events = True
    kantata.edit_entry(account["entries"][1], notes="again")
    assert get(kantata, "/subscribed_events").json()["count"] == 3, "duplicates, as documented"
    kantata.store.event_lag = timedelta(minutes=5)
    kantata.delete_entry(account["entries"][3])
    lagging = get(
        kantata,
        "/subscribed_events",
        event_types="time_entry:deleted",
        optional_fields="current_payload",
    ).json()
    event = next(iter(lagging["subscribed_events"].values()))
    assert event["created_at"] > event["subject_changed_at"], "events are created with a lag"


def test_cost_rates_per_currency_are_overridden_not_versioned(kantata, account):
    member = kantata.add_token("lee-token", account["lee"])
    assert get(kantata, "/cost_rates", token=member).status_code == 403
    rates = get(kantata, "/cost_rates", include="account_membership").json()
    assert len(rates["cost_rates"]) == 3 and rates["account_memberships"]
    membership = kantata.store.membership_of(account["kim"])["id"]
    kantata.clock.advance(days=1)
    send(
        kantata,
        "POST",
        "/cost_rates",
        {
            "cost_rate": {
                "account_membership_id": membership,
                "currency": "EUR",
                "amount_in_subunits": 5200,
            }
        },
    )
    after = get(
        kantata, "/cost_rates", updated_after=(START + timedelta(hours=1)).isoformat()
    ).json()
    changed = list(after["cost_rates"].values())
    assert [(r["currency"], r["amount_in_subunits"]) for r in changed] == [("EUR", 5200)]
    assert len(get(kantata, "/cost_rates").json()["cost_rates"]) == 3, "overridden in place"
    old_entry = kantata.time_entry(account["entries"][0])
    assert old_entry["cost_rate_in_cents"] == 5000, "existing time entries are not affected"


def test_external_references_create_or_update_and_filters(kantata, account):
    assert get(kantata, "/external_references").status_code == 400, "subject_type is required"
    body = {
        "external_reference": {
            "subject_type": "TimeEntry",
            "subject_id": account["entries"][0],
            "service_name": "odoo",
            "service_model": "account.move.line",
            "service_model_ref": "42",
            "external_message": "Billed",
        }
    }
    first = send(kantata, "POST", "/external_references/create_or_update", body).json()
    body["external_reference"]["external_message"] = "Billed and paid"
    second = send(kantata, "POST", "/external_references/create_or_update", body).json()
    assert first["results"] == second["results"], "one reference per object and service name"
    listed = get(
        kantata, "/external_references", subject_type="TimeEntry", service_name="odoo"
    ).json()
    assert [r["external_message"] for r in listed["external_references"].values()] == [
        "Billed and paid"
    ]
    marked = get(
        kantata,
        "/time_entries",
        external_reference_service_name="odoo",
        external_reference_service_model_refs="42",
    )
    assert ordered(marked) == [account["entries"][0]]
    projects = get(
        kantata,
        "/workspaces",
        external_reference_service_name="odoo",
        external_reference_service_model_refs="SO042",
        include="external_references",
    )
    assert ordered(projects, "workspaces") == [account["ws"]]


def test_workspace_story_participation_writes(kantata, account):
    refused = send(kantata, "POST", "/workspaces", {"workspace": {"title": "No role"}})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "creator_role"
    created = send(
        kantata,
        "POST",
        "/workspaces",
        {
            "workspace": {
                "title": "Audit",
                "creator_role": "maven",
                "currency": "EUR",
                "price_in_cents": 1200000,
                "external_reference": {
                    "service_name": "odoo",
                    "service_model": "sale.order",
                    "service_model_ref": "SO77",
                },
            }
        },
    ).json()
    ws = created["results"][0]["id"]
    assert created["workspaces"][ws]["price_in_cents"] == 1200000
    updated = send(kantata, "PUT", f"/workspaces/{ws}", {"workspace": {"due_date": "2027-01-31"}})
    assert updated.json()["workspaces"][ws]["due_date"] == "2027-01-31"
    story = send(
        kantata,
        "POST",
        "/stories",
        {"story": {"workspace_id": int(ws), "title": "Go live", "story_type": "milestone"}},
    )
    assert story.status_code == 200
    wrong = send(
        kantata,
        "POST",
        "/stories",
        {"story": {"workspace_id": int(ws), "title": "x", "story_type": "epic"}},
    )
    assert wrong.status_code == 422
    body = {"participation": {"workspace_id": int(ws), "user_id": account["lee"]}}
    assert send(kantata, "POST", "/participations", body).status_code == 200
    assert send(kantata, "POST", "/participations", body).status_code == 422


def test_rate_limit_and_switches(kantata, account):
    kantata.rate_limit_next(1)
    limited = get(kantata, "/time_entries")
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert limited.json()["errors"][0]["type"] == "rate_limit"
    kantata.rate_limit = (3, 10)
    assert [get(kantata, "/users/me").status_code for _ in range(4)] == [200, 200, 200, 429]
    kantata.clock.advance(seconds=10)
    assert get(kantata, "/users/me").status_code == 200
    kantata.rate_limit = None
    kantata.switches.empty_page_next(1)
    empty = get(kantata, "/time_entries", per_page=2).json()
    assert empty["results"] == [] and empty["meta"]["page_count"] == 2
    kantata.switches.truncate_next(1, endpoint="GET /time_entries")
    with pytest.raises(ValueError):
        get(kantata, "/time_entries").json()
    kantata.switches.expire_token_once()
    assert [get(kantata, "/users/me").status_code for _ in range(2)] == [401, 200]
    assert kantata.requests_to("GET /time_entries") == 3


def test_seed_demo_month_with_corrections(kantata):
    seeded = kantata.seed_demo(today=date(2026, 12, 5))
    assert kantata.time_entry(seeded["deleted_after_approval"]) is None
    edited = kantata.time_entry(seeded["edited_after_approval"])
    assert edited["time_in_minutes"] == 510 and edited["approved"] is True
    assert all(
        kantata.time_entry(i)["approved"] is False for i in seeded["unapproved_after_approval"]
    )
    assert len(seeded["unapproved_after_approval"]) >= 1
    me = get(kantata, "/users/me").json()
    assert next(iter(me["users"].values()))["email_address"] == "alexandra.partner@example.com"
    reached = kantata.store.stories[seeded["milestones"]["Design approved"]]
    assert reached["state"] == "completed" and reached["story_type"] == "milestone"
    feed = get(kantata, "/subscribed_events", event_types="time_entry:deleted").json()
    assert [e["subject_id"] for e in feed["subscribed_events"].values()] == [
        seeded["deleted_after_approval"]
    ]
    assert json.dumps(feed)  # plain JSON all the way
