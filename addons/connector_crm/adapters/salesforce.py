"""The Salesforce adapter: OAuth flows (JWT bearer, client credentials, Connect), SOQL pulls
page by page, the deleted-records log, sObject Collections updates, Flow HTTP callouts.

The protocol is in ``engine/salesforce.py`` (plain Python); the deal shapes in
``engine/deals.py``.
"""

import hmac
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from odoo import _, fields

from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.connector_base.engine.signatures import SignatureError

from ..const import QUICK_RETRIES
from ..engine import deals as shapes
from ..engine import salesforce as sf
from .crm import CrmAdapter

FLOW_SECRET_HEADER = "X-Connector-Flow-Secret"
# The deleted-records log keeps 15 days; its window must span at least a minute.
DELETED_LOG_DAYS = 15
DELETED_MIN_WINDOW = timedelta(minutes=1)
SF_OBJECTS = {"account": "Account", "contact": "Contact"}

_logger = logging.getLogger(__name__)


class SalesforceAdapter(CrmAdapter):
    STANDARD_DEAL_FIELDS = {"name": "Name", "close_date": "CloseDate", "description": "Description"}

    # Clients ---------------------------------------------------------------------------------

    def settings(self):
        backend = self.backend.sudo()
        flow = backend.crm_auth_flow or sf.FLOW_JWT
        return sf.SalesforceSettings(
            flow=flow,
            login_url=(backend.auth_base_url or sf.PRODUCTION_LOGIN).rstrip("/"),
            client_id=backend.crm_client_id,
            client_secret=backend._get_secret("client_secret"),
            username=backend.crm_username,
            private_key=backend._get_secret("private_key") if flow == sf.FLOW_JWT else None,
            refresh_token=backend._get_secret("refresh_token")
            if flow == sf.FLOW_WEB_SERVER
            else None,
            api_version=backend.crm_api_version or "62.0",
        )

    def classify_error(self, response):
        """A used-up daily request limit (403 REQUEST_LIMIT_EXCEEDED) is transient, not auth."""
        return sf.classify_error(response)

    def token_http(self, settings=None):
        settings = settings or self.settings()
        return self.http_client(base_url=settings.login_url, quick_retries=QUICK_RETRIES)

    def client(self):
        settings = self.settings()
        auth = sf.SalesforceAuth(
            settings,
            self.token_http(settings),
            self.token_cache_key(settings.flow, settings.client_id, settings.login_url),
            on_token=self.on_token,
        )
        http = self.http_client(base_url=settings.login_url, auth=auth, quick_retries=QUICK_RETRIES)
        return sf.SalesforceClient(http, auth, settings.api_version, on_limits=self.on_limits)

    def on_token(self, token):
        backend = self.backend
        if token.instance_url and token.instance_url != backend.crm_instance_url:
            self.env.cr.execute(
                "UPDATE connector_backend SET crm_instance_url = %s WHERE id = %s",
                (token.instance_url, backend.id),
            )
            backend.invalidate_recordset(["crm_instance_url"])

    def after_failure(self, job_row, state, message):
        if sf.LIMIT_CODE in (message or ""):
            self.backend._set_health(
                "degraded",
                _(
                    "Salesforce's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED): "
                    "jobs are retried in an hour. Raise the org's limit or lower the sync volume."
                ),
            )

    # Connection ------------------------------------------------------------------------------

    def describe_connection(self):
        client = self.client()
        identity = client.identity()
        limits = client.limits()
        daily = limits.get("DailyApiRequests") or {}
        usage = ""
        if daily.get("Max"):
            used = daily["Max"] - daily.get("Remaining", 0)
            usage = _(", API requests today: %(used)s of %(max)s", used=used, max=daily["Max"])
        text = _(
            "Salesforce org %(org)s at %(instance)s, connected as %(user)s%(usage)s",
            org=identity.get("organization_id") or "?",
            instance=client.instance_url,
            user=identity.get("username") or identity.get("display_name") or "?",
            usage=usage,
        )
        missing = self.missing_fields(client)
        if missing:
            text += _(
                ". Fields of the Deals tab the org does not have (or the integration user cannot "
                "see): %(fields)s: create them in Salesforce, or clear their names on the Deals "
                "tab (optional fields)",
                fields=", ".join(missing),
            )
        return text

    def missing_fields(self, client):
        """The mapped deal and write-back fields that the org's describe does not list."""
        names = self.deal_field_names()
        wanted = {
            "Opportunity": [
                name for key, name in names.items() if name and key != "line_billing_model"
            ]
            + self.writeback_field_names(),
            "OpportunityLineItem": [names["line_billing_model"]]
            if names.get("line_billing_model")
            else [],
        }
        missing = []
        for sobject, fields_ in wanted.items():
            if not fields_:
                continue
            described = client.json("GET", f"sobjects/{sobject}/describe") or {}
            known = {field["name"].lower() for field in described.get("fields") or []}
            missing += [f"{sobject}.{name}" for name in fields_ if name.lower() not in known]
        return missing

    def authorize_url(self, state, redirect_uri):
        settings = self.settings()
        params = {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": "api refresh_token",
        }
        return f"{settings.login_url}/services/oauth2/authorize?{urlencode(params)}"

    def exchange_code(self, code, redirect_uri):
        settings = self.settings()
        return sf.exchange_code(self.token_http(settings), settings, code, redirect_uri)

    # Inbound ---------------------------------------------------------------------------------

    def deal_select(self):
        return ", ".join(
            shapes.sf_opportunity_fields(
                self.deal_field_names(),
                self.writeback_field_names(),
                multicurrency=self.backend.crm_sf_multicurrency,
            )
        )

    def normalize(self, record):
        return shapes.sf_normalize_opportunity(
            record, self.deal_field_names(), self.writeback_field_names()
        )

    def pull_deals(self, stream, job):
        """One page of the deals changed since the cursor (the first pull: won since the start
        date); the next page is a job of its own (durable progress, see pull_next_page).

        Between jobs the pull keeps Salesforce's ``nextRecordsUrl``; when Salesforce no longer
        knows it (query locators expire after some minutes), the query runs again from the
        second of the last change read (Salesforce compares SystemModstamp to the second): what
        is read twice is queued once (job keys)."""
        client = self.client()
        state = self.cursor_state(stream)
        progress = state.get("pull")
        if not progress:
            # Microseconds kept: the deleted-records window ends exactly here.
            since = self.stream_since(stream)
            progress = {
                "started": fields.Datetime.to_string(datetime.now(UTC).replace(tzinfo=None)),
                "since": sf.soql_datetime(since) if since else None,
                "newest": fields.Datetime.to_string(stream.cursor_date)
                if stream.cursor_date
                else None,
                "count": 0,
            }
        records, locator = self.pull_page(client, progress)
        deals = [self.normalize(record) for record in records]
        newest = self.newest_stamp(
            fields.Datetime.to_datetime(progress.get("newest")),
            (sf.parse_datetime(record.get("SystemModstamp")) for record in records),
        )
        queued = len(self.queue_deals(deals))
        progress.update(
            newest=fields.Datetime.to_string(newest) if newest else None,
            count=progress.get("count", 0) + queued,
            locator=locator,
            resume=sf.soql_datetime(newest) if newest else progress.get("resume"),
        )
        if locator:
            state["pull"] = progress
            self.pull_next_page(stream, job, state, queued)
            return stream
        started = fields.Datetime.to_datetime(progress["started"])
        state["deleted_until"] = self.queue_deleted(client, started, state)
        return self.pull_done(
            stream, state, newest or started.replace(microsecond=0), progress["count"]
        )

    def pull_page(self, client, progress):
        """The next page of the pull: from its nextRecordsUrl, or by querying (again)."""
        if progress.get("locator"):
            try:
                return client.query_page(locator=progress["locator"])
            except BusinessError as exc:
                if "INVALID_QUERY_LOCATOR" not in str(exc):
                    raise
                _logger.info("Salesforce query locator expired: the pull queries again")
        won_since_start = (
            f"IsWon = true AND CloseDate >= {fields.Date.to_string(self.start_date())}"
        )
        if progress.get("since") is None and not progress.get("resume"):
            where = won_since_start
        else:
            where = f"SystemModstamp >= {progress.get('resume') or progress['since']}"
            if progress.get("since") is None:
                where += f" AND {won_since_start}"
        soql = (
            f"SELECT {self.deal_select()} FROM Opportunity WHERE {where} "
            "ORDER BY SystemModstamp, Id"
        )
        return client.query_page(soql)

    def queue_deleted(self, client, now, state):
        """Queue the deletion of converted deals from the deleted-records log; returns the end of
        the window read (the next start)."""
        backend = self.backend
        start = fields.Datetime.to_datetime(state.get("deleted_until")) or now
        oldest = now - timedelta(days=DELETED_LOG_DAYS) + timedelta(minutes=5)
        if start < oldest:
            start = oldest
        if now - start < DELETED_MIN_WINDOW:
            return fields.Datetime.to_string(start)
        answer = client.deleted("Opportunity", start, now)
        earliest = sf.parse_datetime(answer.get("earliestDateAvailable"))
        if earliest and earliest > start:
            backend.message_post(
                body=_(
                    "Salesforce no longer has deletions before %(earliest)s (the log was purged): "
                    "deals deleted between %(start)s and then were not seen. Check converted "
                    "deals or resync the Deals stream from %(start)s.",
                    earliest=earliest,
                    start=start,
                )
            )
        ids = [item["id"] for item in answer.get("deletedRecords") or []]
        bound = backend._crm_bound_ids("deal", ids)
        specs = self.deleted_deal_specs(
            [deal_id for deal_id in ids if deal_id in bound], "deal-deleted", "pull"
        )
        self.env["connector.job"]._enqueue_many(backend, specs)
        covered = sf.parse_datetime(answer.get("latestDateCovered")) or now
        return fields.Datetime.to_string(min(covered, now))

    def fetch_deal(self, deal_id):
        client = self.client()
        soql = f"SELECT {self.deal_select()} FROM Opportunity WHERE Id = {sf.soql_string(deal_id)}"
        records = list(client.query(soql))
        return self.normalize(records[0]) if records else None

    def partner_field_names(self, obj):
        return shapes.SF_ACCOUNT_FIELDS if obj == "account" else shapes.SF_CONTACT_FIELDS

    def partner_select(self, obj):
        extra = ["AccountId"] if obj == "contact" else []
        return ", ".join(["Id", "SystemModstamp", *extra, *self.partner_field_names(obj).values()])

    def partner_values(self, obj, record):
        return (
            shapes.sf_account_values(record)
            if obj == "account"
            else shapes.sf_contact_values(record)
        )

    def pull_partners(self, stream, job, obj):
        """Changes of accounts/contacts Odoo already knows (others arrive with their deals)."""
        started = fields.Datetime.now()
        since = self.stream_since(stream)
        if since is None:  # first pull: start from now, customers come with their deals
            stream._record_pull_result(new_cursor_date=started, count=0)
            return stream
        client = self.client()
        soql = (
            f"SELECT {self.partner_select(obj)} FROM {SF_OBJECTS[obj]} "
            f"WHERE SystemModstamp >= {sf.soql_datetime(since)} ORDER BY SystemModstamp, Id"
        )
        records, stamps = [], []
        for record in client.query(soql):
            records.append(self.partner_values(obj, record))
            stamps.append(sf.parse_datetime(record.get("SystemModstamp")))
        newest = self.newest_stamp(stream.cursor_date or None, stamps)
        bound = self.backend._crm_bound_ids(obj, [values["id"] for values in records])
        specs = self.partner_specs(obj, [v for v in records if v["id"] in bound])
        self.env["connector.job"]._enqueue_many(self.backend, specs)
        stream._record_pull_result(new_cursor_date=newest, count=len(specs))
        return stream

    def fetch_partner(self, obj, remote_id):
        client = self.client()
        soql = (
            f"SELECT {self.partner_select(obj)} FROM {SF_OBJECTS[obj]} "
            f"WHERE Id = {sf.soql_string(remote_id)}"
        )
        records = list(client.query(soql))
        return self.partner_values(obj, records[0]) if records else None

    # Outbound --------------------------------------------------------------------------------

    def remote_values(self, obj, values):
        """Normalized partner values -> Salesforce fields."""
        table = self.partner_field_names(obj)
        result = {}
        for key, value in values.items():
            if obj == "contact" and key == "name":
                first, _sep, last = (value or "").rpartition(" ")
                result[table["first_name"]] = first or None
                result[table["last_name"]] = last or value
            elif key in table:
                result[table[key]] = value
        return result

    def push(self, items):
        records = []
        for kind, remote_id, values in items:
            sobject = "Opportunity" if kind == "deal" else SF_OBJECTS[kind]
            remote = values if kind == "deal" else self.remote_values(kind, values)
            records.append({"attributes": {"type": sobject}, "id": remote_id, **remote})
        results = self.client().update_records(records)
        failures = {}
        for index, result in enumerate(results):
            if not result.get("success"):
                errors = result.get("errors") or []
                failures[index] = "; ".join(
                    f"{e.get('statusCode')}: {e.get('message')}"
                    + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
                    for e in errors
                ) or _("refused without a reason")
        return failures

    # Webhooks (Flow HTTP callouts) -----------------------------------------------------------

    def webhook_verify(self, method, url, headers, body, now):
        secret = self.backend._get_secret("webhook_secret")
        if not secret:
            raise SignatureError(
                "No Flow callout shared secret is set on the backend: set one, and send it in "
                f"the {FLOW_SECRET_HEADER} header from the Flow.",
                reason="missing",
            )
        lowered = {str(key).lower(): value for key, value in headers.items()}
        given = lowered.get(FLOW_SECRET_HEADER.lower())
        if not given:
            raise SignatureError(
                f"The callout has no {FLOW_SECRET_HEADER} header: add it to the Flow's HTTP "
                "callout (see CONFIGURE.md).",
                reason="missing",
            )
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise SignatureError(
                f"The {FLOW_SECRET_HEADER} header does not match the backend's shared secret.",
                reason="mismatch",
            )

    def webhook_events(self, payload, headers):
        """Flow callout body: one event or a list, ``{"sobject": "Opportunity", "id": "006...",
        "event": "updated" | "deleted", "modstamp": "..."}``."""
        events = payload if isinstance(payload, list) else [payload]
        specs = []
        for event in events:
            if not isinstance(event, dict) or not event.get("id") or not event.get("sobject"):
                raise ValueError("each event needs 'sobject' and 'id'")
            sobject, remote_id = event["sobject"], str(event["id"])
            # Without a stamp two deliveries cannot be told apart from two changes: each gets
            # its own job (the deal sync and the engagement key keep that idempotent).
            version = event.get("modstamp") or event.get("event_id") or uuid.uuid4().hex
            deleted = event.get("event") == "deleted"
            key = f"sf-flow:{remote_id}:{version}"
            if sobject == "Opportunity":
                specs.append(self.event_specs("deal", remote_id, key, deleted=deleted))
            elif sobject in ("Account", "Contact") and not deleted:
                specs.append(self.event_specs(sobject.lower(), remote_id, key))
            else:
                raise ValueError(f"unsupported sobject {sobject!r} or event {event.get('event')!r}")
        return specs
