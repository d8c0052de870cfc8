"""Kantata OX API v1 client: provisioning, people and cost rates, time, expenses, milestones,
the Subscribed Events feed, and external references to mark what Odoo billed.

Contract: ../shared/reference/external-apis.md section 4, psa-and-intercompany.md section 4 and
developer.kantata.com. Answers are envelopes (``results`` in order, side-loaded objects by id);
ids are strings. Lists page with ``page``/``per_page`` (max 200). Incremental pulls page by
*keyset* (``order=updated_at:asc`` and a moving ``updated_after``) rather than page numbers, so
an entry edited during the pull cannot shift the others out of sight, and every page carries a
safe cursor. 429 comes without Retry-After: the client backs off ``rate_limit_backoff`` seconds
(through the queue) instead of retrying at once. Writes have no idempotency keys: look up by
the connector's external reference before creating.
"""

from datetime import UTC, datetime, timedelta

import requests

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError

from .kantata_mapping import (
    Envelope,
    normalize_expense,
    normalize_time_entry,
    normalize_user,
)
from .kantata_projects import KantataProjects
from .records import (
    KANTATA,
    ConnectionInfo,
    Page,
    PsaCostRate,
    PsaEvent,
    api_datetime,
    from_subunits,
    parse_datetime,
)
from .transport import MAX_EMPTY_PAGES, decode_state, encode_state, request_json

VENDOR = "Kantata"
API_URL = "https://api.mavenlink.com/api/v1"
MAX_PAGE = 200
TIMEOUT = (5.0, 190.0)  # Kantata ends requests after 3 minutes itself
RATE_LIMIT_BACKOFF = 30.0
DEFAULT_OVERLAP = timedelta(minutes=10)
EVENT_RETENTION = timedelta(days=9)
EVENT_MARGIN = timedelta(hours=12)  # events appear with some lag: do not trust the last hours
SERVICE_NAME = "odoo"
TIME_EVENTS = ("time_entry:created", "time_entry:updated", "time_entry:deleted")
TIME_INCLUDES = "user,workspace,story,active_submission,external_references"
EXPENSE_INCLUDES = "user,workspace,expense_category,receipt,active_submission,external_references"
PROVISIONING_PERMISSIONS = ("administrator", "project_lead", "project_creator")


def http_options() -> dict:
    """Keyword arguments for connector_base's HttpClient to Kantata."""
    return {"timeout": TIMEOUT}


class EventFeedForbidden(AuthError):
    """The token's user is not an Account Administrator: fall back to window re-lists."""


class KantataClient(KantataProjects):
    source = KANTATA

    def __init__(
        self,
        http,
        *,
        service_name=SERVICE_NAME,
        page_size=MAX_PAGE,
        rate_limit_backoff=RATE_LIMIT_BACKOFF,
        clock=None,
    ):
        if not 1 <= int(page_size) <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}, got {page_size}")
        self.http = http
        self.service_name = service_name
        self.page_size = int(page_size)
        self.rate_limit_backoff = rate_limit_backoff
        self.clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))

    # Transport --------------------------------------------------------------------------------

    def _call(
        self, method, path, *, params=None, json=None, expected=(200, 201, 204), idempotent=None
    ):
        response, body = request_json(
            self.http,
            method,
            path,
            vendor=VENDOR,
            params=params,
            json=json,
            expected={*expected, 429},
            idempotent=idempotent,
        )
        if response.status_code == 429:
            # No Retry-After from Kantata: back off past a window through the queue rather
            # than hammering it with quick retries.
            raise TransientError(
                f"Kantata is rate limiting requests (HTTP 429 on {method} {path}, no Retry-After):"
                f" the job will be retried in {self.rate_limit_backoff:g}s; lower the backend's "
                "request rate if this is frequent.",
                retry_after=self.rate_limit_backoff,
                http_status=429,
            )
        return response, Envelope(body, self.service_name)

    def _one(self, path, key, normalize, params=None):
        response, env = self._call("GET", path, params=params, expected=(200, 404))
        if response.status_code == 404:
            return None
        rows = env.rows(key)
        return normalize(rows[0], env) if rows else None

    def _write(self, method, path, key, singular, values, normalize, include="external_references"):
        _response, env = self._call(
            method, path, json={singular: values}, params={"include": include}
        )
        rows = env.rows(key)
        if not rows:
            raise TransientError(f"Kantata answered {method} {path} without the {key} object.")
        return normalize(rows[0], env)

    def _pages(self, path, key, params, normalize, resume=None):
        """Page-number listing (for lists that do not move while read)."""
        page = decode_state(resume, VENDOR)["page"] if resume else 1
        empty = 0
        while True:
            _response, env = self._call(
                "GET", path, params={**params, "page": page, "per_page": self.page_size}
            )
            rows = env.rows(key)
            last = int(env.meta.get("page_number") or page) >= int(env.meta.get("page_count") or 0)
            empty = empty + 1 if not rows and not last else 0
            if empty > MAX_EMPTY_PAGES:
                raise TransientError(f"Kantata kept answering empty pages for {path}.")
            yield Page(
                [normalize(row, env) for row in rows],
                page,
                last,
                None if last else encode_state({"page": page + 1}),
                total=env.body.get("count"),
            )
            if last:
                return
            page += 1

    def _all(self, path, key, params, normalize) -> list:
        return [item for page in self._pages(path, key, params, normalize) for item in page.items]

    def _keyset(
        self, path, key, params, normalize, *, since, overlap, resume, stamp="updated_at", gap=False
    ):
        """Yield pages ordered by ``stamp`` with a moving ``<stamp>_after`` (see module doc)."""
        if resume:
            state = decode_state(resume, VENDOR)
        else:
            start = since - overlap if since else None
            state = {
                "after": api_datetime(start) if start else None,
                "page": 1,
                "skip": [],
                "n": 0,
                "cursor": api_datetime(since) if since else None,
            }
        empty = 0
        while True:
            query = {
                **params,
                "order": f"{stamp}:asc",
                "page": state["page"],
                "per_page": self.page_size,
            }
            if state["after"]:
                query[f"{stamp.split('_')[0]}_after"] = state["after"]
            _response, env = self._call("GET", path, params=query)
            rows = env.rows(key)
            skip = set(state["skip"])
            fresh = [r for r in rows if f"{r['id']}@{r.get(stamp)}" not in skip]
            stamps = [parse_datetime(r[stamp]) for r in rows if r.get(stamp)]
            cursor = parse_datetime(state["cursor"])
            if stamps and (cursor is None or max(stamps) > cursor):
                cursor = max(stamps)
            more = int(env.meta.get("page_number") or 1) < int(env.meta.get("page_count") or 0)
            empty = empty + 1 if more and not rows else 0
            if empty > MAX_EMPTY_PAGES:
                raise TransientError(f"Kantata kept answering empty pages for {path}.")
            number = state["n"] + 1
            next_state = None
            if more:
                next_state = {"n": number, "cursor": api_datetime(cursor) if cursor else None}
                boundary = max(stamps) - timedelta(seconds=1) if stamps else None
                after = parse_datetime(state["after"])
                if boundary is not None and (after is None or boundary > after):
                    # Restart after the newest second seen; skip what this second already gave.
                    next_state.update(
                        after=api_datetime(boundary),
                        page=1,
                        skip=[
                            f"{r['id']}@{r.get(stamp)}"
                            for r in rows
                            if r.get(stamp) and parse_datetime(r[stamp]) > boundary
                        ],
                    )
                else:  # a whole page within one second (or empty): next page, same window
                    next_state.update(
                        after=state["after"], page=state["page"] + 1, skip=state["skip"]
                    )
            yield Page(
                [normalize(row, env) for row in fresh],
                number,
                not more,
                encode_state(next_state) if next_state else None,
                cursor=cursor,
                total=env.body.get("count"),
                gap=gap,
            )
            if not more:
                return
            state = next_state

    # Account and connection ---------------------------------------------------------------------

    def me(self):
        return self._one("/users/me", "users", normalize_user, {"include": "account_membership"})

    def test_connection(self) -> ConnectionInfo:
        user = self.me()
        if user is None:
            raise AuthError("Kantata did not return the authenticated user: reconnect the backend.")
        _response, env = self._call("GET", "/workspaces", params={"per_page": 1})
        first = env.rows("workspaces")
        account_id = str(first[0]["account_id"]) if first and first[0].get("account_id") else None
        permission = user.roles[0] if user.roles else None
        provision = user.is_admin or permission in PROVISIONING_PERMISSIONS
        problems = []
        if not user.is_admin:
            problems.append(
                f"{user.name} is not a Kantata Account Administrator: the Subscribed Events feed "
                "and cost rates are not readable (deletions will be found by re-listing a window "
                "instead) and only their own time is visible. Connect as an Account Administrator."
            )
        if not provision:
            problems.append(
                f"{user.name}'s account permission ({permission}) cannot create projects: give "
                "them Project Creator or higher, or provision projects by hand."
            )
        permissions = {
            "read_all_time": user.is_admin,
            "read_cost_rates": user.is_admin,
            "event_feed": user.is_admin,
            "provision_projects": provision,
            "mark_entries": True,
        }
        return ConnectionInfo(KANTATA, account_id, None, user, permissions, tuple(problems))

    # People and cost rates ----------------------------------------------------------------------

    def list_users(self, *, updated_since=None, resume=None):
        params = {"on_my_account": "true", "include": "account_membership"}
        if updated_since:
            params["updated_after"] = api_datetime(updated_since)
        return self._pages("/users", "users", params, normalize_user, resume)

    def find_user_by_email(self, email):
        params = {
            "on_my_account": "true",
            "include": "account_membership",
            "by_email_address": (email or "").strip(),
        }
        return next(iter(self._all("/users", "users", params, normalize_user)), None)

    def cost_rates(self, *, updated_since=None) -> list[PsaCostRate]:
        """Cost rates per person and currency (Account Administrators only).

        Kantata applies a changed rate to future work only: each rate is effective from the day
        it was last updated, open-ended (the Odoo side closes the previous period).
        """
        members = self._all(
            "/account_memberships", "account_memberships", {"include": "user"}, lambda row, env: row
        )
        user_of = {str(m["id"]): str(m["user_id"]) for m in members if m.get("user_id")}
        params = {"include": "account_membership"}
        if updated_since:
            params["updated_after"] = api_datetime(updated_since)

        def normalize(row, env):
            updated = parse_datetime(row.get("updated_at"))
            return PsaCostRate(
                KANTATA,
                user_of.get(str(row["account_membership_id"]), ""),
                from_subunits(row["amount_in_subunits"]),
                row.get("currency"),
                updated.date() if updated else None,
                None,
                str(row["id"]),
                updated,
            )

        return [
            rate
            for rate in self._all("/cost_rates", "cost_rates", params, normalize)
            if rate.user_id
        ]

    # Time entries and the event feed --------------------------------------------------------------

    def time_entries_since(
        self,
        since=None,
        *,
        overlap=DEFAULT_OVERLAP,
        approved_only=False,
        project_id=None,
        resume=None,
    ):
        """Entries updated after ``since`` minus ``overlap``; each page's cursor is safe to keep.

        Keep ``approved_only`` False to also see entries that lost their approval.
        """
        params = {"include": TIME_INCLUDES, "from_archived_workspaces": "true"}
        if approved_only:
            params["approved"] = "true"  # always processed as true by Kantata
        if project_id:
            params["workspace_id"] = str(project_id)
        return self._keyset(
            "/time_entries",
            "time_entries",
            params,
            normalize_time_entry,
            since=since,
            overlap=overlap,
            resume=resume,
        )

    def time_entries_in_window(self, date_from, date_to, *, project_id=None, resume=None):
        params = {
            "include": TIME_INCLUDES,
            "from_archived_workspaces": "true",
            "order": "date_performed:asc",
            "date_performed_between": f"{date_from.isoformat()}:{date_to.isoformat()}",
        }
        if project_id:
            params["workspace_id"] = str(project_id)
        return self._pages("/time_entries", "time_entries", params, normalize_time_entry, resume)

    def get_time_entry(self, entry_id):
        return self._one(
            f"/time_entries/{entry_id}",
            "time_entries",
            normalize_time_entry,
            {"include": TIME_INCLUDES},
        )

    def confirm_deleted_time_entries(self, entry_ids) -> set[str]:
        """Of ``entry_ids``, those Kantata no longer has (200 ids per request)."""
        return self._missing("/time_entries", "time_entries", entry_ids)

    def _missing(self, path, key, ids) -> set[str]:
        ids = [str(i) for i in ids]
        missing = set()
        for start in range(0, len(ids), MAX_PAGE):
            chunk = ids[start : start + MAX_PAGE]
            _response, env = self._call(
                "GET",
                path,
                params={
                    "only": ",".join(chunk),
                    "from_archived_workspaces": "true",
                    "per_page": MAX_PAGE,
                },
            )
            present = {str(row["id"]) for row in env.rows(key)}
            missing.update(i for i in chunk if i not in present)
        return missing

    def events(self, since=None, *, event_types=TIME_EVENTS, overlap=DEFAULT_OVERLAP, resume=None):
        """Subscribed Events (up to 9 days kept) created after ``since`` minus ``overlap``.

        Pages carry ``gap=True`` when ``since`` is older than the feed keeps (or None): changes
        may be missing, re-list a window instead. Duplicates within a run are dropped. Raises
        ``EventFeedForbidden`` when the user is not an Account Administrator.
        """
        since = parse_datetime(since)  # naive UTC, like the clock
        horizon = self.clock() - EVENT_RETENTION + EVENT_MARGIN
        gap = since is None or since < horizon
        seen = set()

        def normalize(row, env):
            key = (row.get("event_type"), row.get("subject_id"), row.get("subject_changed_at"))
            if key in seen:
                return None
            seen.add(key)
            event_type = row.get("event_type") or ""
            return PsaEvent(
                str(row["id"]),
                event_type.rpartition(":")[2],
                row.get("subject_type") or "",
                str(row.get("subject_id")),
                parse_datetime(row.get("subject_changed_at")),
                parse_datetime(row.get("created_at")),
            )

        try:
            for page in self._keyset(
                "/subscribed_events",
                "subscribed_events",
                {"event_types": ",".join(event_types)},
                normalize,
                since=since,
                overlap=overlap,
                resume=resume,
                stamp="created_at",
                gap=gap,
            ):
                yield Page(
                    [e for e in page.items if e],
                    page.number,
                    page.last,
                    page.resume,
                    page.cursor,
                    page.total,
                    page.gap,
                )
        except AuthError as exc:
            if exc.http_status == 403:
                raise EventFeedForbidden(
                    "Kantata refused the Subscribed Events feed (HTTP 403): only Account "
                    "Administrators can read it. Deleted entries are found by re-listing a "
                    "window instead; connect as an Account Administrator to use the feed.",
                    http_status=403,
                ) from exc
            raise

    # Expenses --------------------------------------------------------------------------------------

    def expenses_since(
        self,
        since=None,
        *,
        overlap=DEFAULT_OVERLAP,
        approved_only=False,
        project_id=None,
        resume=None,
    ):
        params = {"include": EXPENSE_INCLUDES, "from_archived_workspaces": "true"}
        if approved_only:
            params["approved"] = "true"
        if project_id:
            params["workspace_id"] = str(project_id)
        return self._keyset(
            "/expenses",
            "expenses",
            params,
            normalize_expense,
            since=since,
            overlap=overlap,
            resume=resume,
        )

    def expenses_in_window(self, date_from, date_to, *, project_id=None, resume=None):
        params = {
            "include": EXPENSE_INCLUDES,
            "from_archived_workspaces": "true",
            "order": "date:asc",
            "date_expensed_between": f"{date_from.isoformat()}:{date_to.isoformat()}",
        }
        if project_id:
            params["workspace_id"] = str(project_id)
        return self._pages("/expenses", "expenses", params, normalize_expense, resume)

    def get_expense(self, expense_id):
        return self._one(
            f"/expenses/{expense_id}", "expenses", normalize_expense, {"include": EXPENSE_INCLUDES}
        )

    def confirm_deleted_expenses(self, expense_ids) -> set[str]:
        return self._missing("/expenses", "expenses", expense_ids)

    def expense_categories(self) -> list[dict]:
        return self._all(
            "/expense_categories",
            "expense_categories",
            {},
            lambda row, env: {
                "id": str(row["id"]),
                "name": row.get("name"),
                "active": not row.get("deleted_at"),
            },
        )

    def download_receipt(self, expense) -> tuple[bytes, str | None]:
        """The receipt file (a CDN link: fetched without the API token)."""
        timeout = getattr(self.http, "timeout", TIMEOUT)
        try:
            response = requests.get(expense.receipt_url, timeout=timeout)
        except requests.RequestException as exc:
            raise TransientError(
                f"Could not download the Kantata receipt ({exc.__class__.__name__})."
            ) from exc
        if response.status_code >= 500:
            raise TransientError(
                f"The Kantata receipt download failed (HTTP {response.status_code}).",
                http_status=response.status_code,
            )
        if response.status_code != 200:
            raise BusinessError(
                f"The Kantata receipt of expense {expense.remote_id} could not be downloaded "
                f"(HTTP {response.status_code}): check the expense in Kantata.",
                http_status=response.status_code,
            )
        return response.content, response.headers.get("Content-Type")
