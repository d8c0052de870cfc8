"""Harvest API v2 client: provisioning, people and cost rates, time and expenses, mark-back.

Contract: ../shared/reference/external-apis.md section 3 and help.getharvest.com/api-v2. Every
request carries ``Harvest-Account-Id`` and a ``User-Agent`` naming the app and a contact (Harvest
answers 400 without it). Lists are followed through ``links.next`` (never built by hand) and
yielded page by page with a resume token, so a caller checkpoints and streams. Harvest has no
deleted feed: deletions are found by re-listing a date window and confirming each missing id.
The ``http`` object is connector_base's ``HttpClient`` on ``https://api.harvestapp.com`` (see
``http_options``): it maps 429 (Retry-After), 5xx, 401 (re-auth once), 403 and 4xx to the
connector error classes; this client adds malformed bodies (transient) and Harvest's rules.
"""

from datetime import timedelta
from decimal import Decimal

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError, TransientError

from .harvest_mapping import normalize_expense, normalize_user
from .harvest_provisioning import HarvestProvisioning, _compact, _filters, _jsonable
from .records import (
    HARVEST,
    ConnectionInfo,
    Page,
    PsaCostRate,
    PsaTimeEntry,
    PsaUser,
    api_datetime,
    minutes_from_hours,
    parse_date,
    parse_datetime,
    to_decimal,
)
from .transport import (
    MAX_EMPTY_PAGES,
    check_next_url,
    decode_state,
    encode_state,
    request_json,
)

VENDOR = "Harvest"
API_URL = "https://api.harvestapp.com"
MAX_PAGE = 2000
DEFAULT_OVERLAP = timedelta(minutes=10)
# TokenBucket(rate, burst) keeping any 15 s window at 100 requests at most: burst + 15 * rate.
RATE_LIMIT = (6.0, 10)
TIMEOUT = (5.0, 60.0)


def http_options(user_agent) -> dict:
    """Keyword arguments for connector_base's HttpClient to Harvest (timeout, User-Agent)."""
    return {"timeout": TIMEOUT, "user_agent": user_agent}


def list_accounts(id_http, user_agent) -> list[dict]:
    """The Harvest (and Forecast) accounts a token can use, from Harvest ID.

    For the Connect flow, before an account is chosen: ``id_http`` is an HttpClient on
    ``https://id.getharvest.com`` with the token's auth. Returns ``[{id, name, product}]``.
    """
    _response, body = request_json(
        id_http, "GET", "/api/v2/accounts", vendor=VENDOR, headers={"User-Agent": user_agent}
    )
    return list((body or {}).get("accounts") or [])


class HarvestClient(HarvestProvisioning):
    """One Harvest account, through ``http`` (api.harvestapp.com) and ``id_http`` (Harvest ID)."""

    source = HARVEST

    def __init__(self, http, *, account_id, user_agent, id_http=None, page_size=MAX_PAGE):
        if not str(account_id or "").strip().isdigit():
            raise AuthError(
                f"The Harvest account id {account_id!r} is not a number: copy it from the "
                "Developers page of Harvest ID (or from Test connection's account list)."
            )
        if not user_agent or "(" not in user_agent:
            raise AuthError(
                "Harvest requires a User-Agent naming the application and a contact, e.g. "
                "'Odoo PSA connector (it@example.com)': set the contact e-mail on the backend."
            )
        if not 1 <= int(page_size) <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}, got {page_size}")
        self.http = http
        self.id_http = id_http
        self.account_id = str(account_id).strip()
        self.user_agent = user_agent
        self.page_size = int(page_size)
        self._currencies: dict[str, str | None] = {}  # client id -> currency

    # Transport ---------------------------------------------------------------------------------

    def _headers(self) -> dict:
        return {"Harvest-Account-Id": self.account_id, "User-Agent": self.user_agent}

    def _json(self, method, path, *, params=None, json=None, expected=None, idempotent=None):
        if idempotent is None and method == "PATCH":
            idempotent = True  # our PATCHes set values: sending one twice is harmless
        _response, body = request_json(
            self.http,
            method,
            path,
            vendor=VENDOR,
            params=params,
            json=_jsonable(json),
            headers=self._headers(),
            expected=expected,
            idempotent=idempotent,
        )
        return body

    def _get_or_none(self, path):
        response, body = request_json(
            self.http, "GET", path, vendor=VENDOR, headers=self._headers(), expected={200, 404}
        )
        return None if response.status_code == 404 else body

    def _pages(self, path, key, params, resume, normalize, *, keep=None, since=None):
        """Yield Page objects following ``links.next``; the last page carries the cursor."""
        if resume:
            state = decode_state(resume, VENDOR)
        else:
            state = {"url": None, "max": api_datetime(since) if since else None, "n": 0}
        url = state["url"] or path
        query = None if state["url"] else {**(params or {}), "per_page": self.page_size}
        number, high = state["n"], parse_datetime(state["max"])
        empty = 0
        base_url = getattr(self.http, "base_url", None)
        while True:
            body = self._json("GET", url, params=query)
            rows = body.get(key) if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise TransientError(
                    f"Harvest answered GET {path} without the {key!r} list: the request will be "
                    "retried."
                )
            items = [normalize(row) for row in rows]
            for item in items:
                stamp = getattr(item, "updated_at", None)
                if stamp and (high is None or stamp > high):
                    high = stamp
            if keep:
                items = [item for item in items if keep(item)]
            next_url = (body.get("links") or {}).get("next")
            if next_url and base_url:
                check_next_url(next_url, base_url, VENDOR)
            empty = empty + 1 if next_url and not rows else 0
            if empty > MAX_EMPTY_PAGES:
                raise TransientError(
                    f"Harvest returned {empty} empty pages in a row for {path} while pointing at "
                    "a next page: the listing will be restarted later."
                )
            number += 1
            resume_token = (
                encode_state(
                    {"url": next_url, "max": api_datetime(high) if high else None, "n": number}
                )
                if next_url
                else None
            )
            yield Page(
                items,
                number,
                not next_url,
                resume_token,
                cursor=high if not next_url else None,
                total=body.get("total_entries"),
            )
            if not next_url:
                return
            url, query = next_url, None

    def _all(self, path, key, normalize, params=None) -> list:
        return [
            item for page in self._pages(path, key, params, None, normalize) for item in page.items
        ]

    # Account and connection ------------------------------------------------------------------------

    def me(self) -> PsaUser:
        return normalize_user(self._json("GET", "/v2/users/me"))

    def company(self) -> dict | None:
        """The company settings, or None when the user is not an administrator."""
        try:
            return self._json("GET", "/v2/company")
        except AuthError as exc:
            if exc.http_status == 403:
                return None
            raise

    def accounts(self) -> list[dict]:
        """Accounts the token can use (Harvest ID, needs ``id_http``): [{id, name, product}]."""
        return list_accounts(self.id_http, self.user_agent) if self.id_http is not None else []

    def test_connection(self) -> ConnectionInfo:
        try:
            user = self.me()
        except AuthError as exc:
            accounts = self.accounts() if exc.http_status == 403 else []
            if not accounts:
                raise
            offered = ", ".join(f"{a.get('id')} ({a.get('name')})" for a in accounts)
            raise AuthError(
                f"Harvest refused account {self.account_id} for this token; it can use: "
                f"{offered}. Set one of them on the backend.",
                http_status=403,
            ) from exc
        company = self.company()
        problems = []
        account_name = company.get("name") if company else None
        accounts = self.accounts()
        if accounts:
            match = [a for a in accounts if str(a.get("id")) == self.account_id]
            if not match:
                offered = ", ".join(f"{a.get('id')} ({a.get('name')})" for a in accounts)
                problems.append(
                    f"The token cannot use Harvest account {self.account_id}; it can use: "
                    f"{offered}. Set one of them on the backend."
                )
            else:
                account_name = account_name or match[0].get("name")
        if not user.is_admin:
            problems.append(
                f"{user.name} is not a Harvest Administrator: the sync would only see their own "
                "time and could not read cost rates or create projects. Connect with an "
                "administrator's token."
            )
        permissions = {
            "read_all_time": user.is_admin,
            "read_cost_rates": user.is_admin,
            "provision_projects": user.is_admin,
            "mark_entries": user.is_admin,
            "approval_workflow": bool(company and company.get("approval_feature")),
        }
        return ConnectionInfo(
            HARVEST, self.account_id, account_name, user, permissions, tuple(problems)
        )

    # People and cost rates --------------------------------------------------------------------------

    def list_users(self, *, updated_since=None, is_active=None, resume=None):
        params = _filters(updated_since=updated_since, is_active=is_active)
        return self._pages("/v2/users", "users", params, resume, normalize_user)

    def get_user(self, user_id) -> PsaUser | None:
        body = self._get_or_none(f"/v2/users/{user_id}")
        return body and normalize_user(body)

    def find_user_by_email(self, email) -> PsaUser | None:
        wanted = (email or "").strip().lower()
        return next(
            (
                u
                for page in self.list_users()
                for u in page.items
                if (u.email or "").lower() == wanted
            ),
            None,
        )

    def cost_rate_history(self, user_id) -> list[PsaCostRate]:
        """Effective-dated cost rates of a user, oldest first (needs an administrator)."""
        return self._rates(user_id, "cost_rates")

    def billable_rate_history(self, user_id) -> list[PsaCostRate]:
        return self._rates(user_id, "billable_rates")

    def _rates(self, user_id, key):
        def normalize(raw):
            return PsaCostRate(
                HARVEST,
                str(user_id),
                to_decimal(raw["amount"]),
                None,
                parse_date(raw.get("start_date")),
                parse_date(raw.get("end_date")),
                str(raw["id"]),
                parse_datetime(raw.get("updated_at")),
            )

        return self._all(f"/v2/users/{user_id}/{key}", key, normalize)

    # Time entries -------------------------------------------------------------------------------------

    def time_entries_since(
        self,
        since=None,
        *,
        overlap=DEFAULT_OVERLAP,
        approved_only=False,
        project_id=None,
        user_id=None,
        resume=None,
    ):
        """Entries updated since ``since`` minus ``overlap``, page by page.

        Keep ``approved_only`` False to also see entries that lost their approval. The last
        page's ``cursor`` (the newest ``updated_at`` seen) is the next ``since``.
        """
        params = _filters(project_id=project_id, user_id=user_id)
        if since is not None:
            params["updated_since"] = api_datetime(since - overlap)
        if approved_only:
            params["approval_status"] = "approved"  # [U]: ignored by accounts without it
        keep = (lambda entry: entry.approved) if approved_only else None
        return self._pages(
            "/v2/time_entries",
            "time_entries",
            params,
            resume,
            self.normalize_time_entry,
            keep=keep,
            since=since,
        )

    def time_entries_in_window(self, date_from, date_to, *, project_id=None, resume=None):
        """Every entry with ``spent_date`` in [date_from, date_to]: the deletion re-list."""
        params = _filters(project_id=project_id)
        params.update({"from": date_from.isoformat(), "to": date_to.isoformat()})
        return self._pages(
            "/v2/time_entries", "time_entries", params, resume, self.normalize_time_entry
        )

    def get_time_entry(self, entry_id) -> PsaTimeEntry | None:
        body = self._get_or_none(f"/v2/time_entries/{entry_id}")
        return body and self.normalize_time_entry(body)

    def confirm_deleted_time_entries(self, entry_ids) -> set[str]:
        """Of ``entry_ids`` missing from a window re-list, those Harvest no longer has (404).

        An entry edited during the re-list may move between pages and be missed: only a 404
        proves a deletion. Call with bounded batches (one request per id).
        """
        return {str(i) for i in entry_ids if self._get_or_none(f"/v2/time_entries/{i}") is None}

    def mark_time_entry(self, entry_id, reference, *, link=None, group=None, message=None):
        """Write ``external_reference`` on the entry (e.g. the Odoo line or invoice that billed
        it): ``reference`` is its id, ``link`` its permalink, ``group`` its group id (e.g. the
        invoice number). ``message`` is accepted for symmetry with Kantata; Harvest has no field
        for it. Returns the updated entry.

        Harvest administrators can do so on approved and invoiced entries; it moves the entry's
        ``updated_at`` (compare ``fingerprint`` to tell this echo from a real change).
        """
        reference_body = _compact(
            {
                "id": str(reference),
                "group_id": None if group is None else str(group),
                "account_id": self.account_id,
                "permalink": link,
            }
        )
        body = self._json(
            "PATCH", f"/v2/time_entries/{entry_id}", json={"external_reference": reference_body}
        )
        return self.normalize_time_entry(body)

    def clear_time_entry_mark(self, entry_id) -> None:
        self._json("DELETE", f"/v2/time_entries/{entry_id}/external_reference")

    def time_entries_by_reference(self, reference) -> list[PsaTimeEntry]:
        params = {"external_reference_id": str(reference)}
        return [
            e
            for page in self._pages(
                "/v2/time_entries", "time_entries", params, None, self.normalize_time_entry
            )
            for e in page.items
        ]

    def normalize_time_entry(self, raw) -> PsaTimeEntry:
        # approval_status is current but not on every account ([U]); is_closed is the
        # documented (deprecated) "approved via Timesheet Approval".
        status = raw.get("approval_status")
        approved = status == "approved" if status is not None else bool(raw.get("is_closed"))
        hours = to_decimal(raw.get("hours")) or Decimal(0)
        rounded = to_decimal(raw.get("rounded_hours"))
        client = raw.get("client") or {}
        invoice = raw.get("invoice") or {}
        task = raw.get("task") or {}
        return PsaTimeEntry(
            source=HARVEST,
            remote_id=str(raw["id"]),
            user_id=str(raw["user"]["id"]),
            project_id=str(raw["project"]["id"]),
            task_id=str(task["id"]) if task.get("id") else None,
            spent_on=parse_date(raw["spent_date"]),
            hours=hours,
            rounded_hours=hours if rounded is None else rounded,
            minutes=minutes_from_hours(hours),
            billable=bool(raw.get("billable")),
            notes=raw.get("notes") or "",
            approved=approved,
            approval_status=status or ("approved" if approved else "unsubmitted"),
            locked=bool(raw.get("is_locked")),
            locked_reason=raw.get("locked_reason"),
            invoiced=bool(raw.get("is_billed")),
            invoice_ref=str(invoice.get("number") or invoice.get("id") or "") or None,
            billable_rate=to_decimal(raw.get("billable_rate")),
            cost_rate=to_decimal(raw.get("cost_rate")),
            currency=self._currency(client.get("id")),
            external_reference=(raw.get("external_reference") or {}).get("id"),
            user_name=raw["user"].get("name"),
            project_name=raw["project"].get("name"),
            task_name=task.get("name"),
            client_id=str(client["id"]) if client.get("id") else None,
            client_name=client.get("name"),
            created_at=parse_datetime(raw.get("created_at")),
            updated_at=parse_datetime(raw.get("updated_at")),
            raw=raw,
        )

    def _currency(self, client_id) -> str | None:
        """The client's currency (time entries do not carry it): one GET per client, cached."""
        if client_id is None:
            return None
        key = str(client_id)
        if key not in self._currencies:
            try:
                body = self._get_or_none(f"/v2/clients/{key}")
            except AuthError as exc:  # a member may not read clients: rates stay currency-less
                if exc.http_status != 403:
                    raise
                body = None
            self._currencies[key] = (body or {}).get("currency")
        return self._currencies[key]

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
        params = _filters(project_id=project_id)
        if since is not None:
            params["updated_since"] = api_datetime(since - overlap)
        if approved_only:
            params["approval_status"] = "approved"
        keep = (lambda expense: expense.approved) if approved_only else None
        return self._pages(
            "/v2/expenses", "expenses", params, resume, normalize_expense, keep=keep, since=since
        )

    def expenses_in_window(self, date_from, date_to, *, project_id=None, resume=None):
        params = _filters(project_id=project_id)
        params.update({"from": date_from.isoformat(), "to": date_to.isoformat()})
        return self._pages("/v2/expenses", "expenses", params, resume, normalize_expense)

    def get_expense(self, expense_id):
        body = self._get_or_none(f"/v2/expenses/{expense_id}")
        return body and normalize_expense(body)

    def confirm_deleted_expenses(self, expense_ids) -> set[str]:
        return {str(i) for i in expense_ids if self._get_or_none(f"/v2/expenses/{i}") is None}

    def expense_categories(self) -> list[dict]:
        return self._all(
            "/v2/expense_categories",
            "expense_categories",
            lambda raw: {
                "id": str(raw["id"]),
                "name": raw["name"],
                "unit_name": raw.get("unit_name"),
                "unit_price": to_decimal(raw.get("unit_price")),
                "active": raw.get("is_active", True),
            },
        )

    def download_receipt(self, expense) -> tuple[bytes, str | None]:
        """The receipt file of an expense -> (content, content type)."""
        url = expense.receipt_url
        host = url.split("/")[2] if url and "://" in url else ""
        base = getattr(self.http, "base_url", API_URL)
        if not (host.endswith(".harvestapp.com") or base.split("/")[2] == host):
            raise BusinessError(f"The receipt URL {url!r} is not on Harvest: not downloaded.")
        response = self.http.request("GET", url, headers=self._headers(), expected={200})
        return response.content, response.headers.get("Content-Type")
