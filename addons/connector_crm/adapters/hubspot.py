"""The HubSpot adapter: private app token or Connect (OAuth), deal searches page by page at
the search rate, batch reads of associations and line items, batch updates, webhooks v3.

The protocol is in ``engine/hubspot.py`` (plain Python); the deal shapes in ``engine/deals.py``.
"""

from urllib.parse import urlencode

from odoo import _, fields

from odoo.addons.connector_base.engine.ratelimit import bucket_for

from ..const import QUICK_RETRIES
from ..engine import deals as shapes
from ..engine import hubspot as hs
from .crm import CrmAdapter

HS_OBJECTS = {"account": "companies", "contact": "contacts"}
STAMP = {
    "deals": "hs_lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
}
OAUTH_SCOPES = (
    "crm.objects.deals.read crm.objects.deals.write crm.objects.companies.read "
    "crm.objects.companies.write crm.objects.contacts.read crm.objects.contacts.write "
    "crm.objects.line_items.read oauth"
)
DEFAULT_API_URL = "https://api.hubapi.com"
DEFAULT_APP_URL = "https://app.hubspot.com"
# The message of a 429 once the portal's daily limit is used up.
DAILY_POLICY = "policy DAILY"


class HubspotAdapter(CrmAdapter):
    STANDARD_DEAL_FIELDS = {
        "name": "dealname",
        "close_date": "closedate",
        "description": "description",
    }

    # Clients ---------------------------------------------------------------------------------

    def settings(self):
        backend = self.backend.sudo()
        flow = backend.crm_auth_flow or hs.FLOW_PRIVATE_APP
        return hs.HubSpotSettings(
            flow=flow,
            client_id=backend.crm_client_id,
            client_secret=backend._get_secret("client_secret"),
            refresh_token=backend._get_secret("refresh_token") if flow == hs.FLOW_OAUTH else None,
            private_app_token=backend._get_secret("api_token")
            if flow == hs.FLOW_PRIVATE_APP
            else None,
            path_prefix=backend.crm_path_prefix or "/crm/v3",
        )

    def api_url(self):
        return (self.backend.api_base_url or DEFAULT_API_URL).rstrip("/")

    def client(self):
        backend = self.backend
        settings = self.settings()
        auth = hs.hubspot_auth(
            settings,
            self.http_client(base_url=self.api_url(), quick_retries=QUICK_RETRIES),
            self.token_cache_key(settings.flow, settings.client_id),
            on_token=self.store_rotated_refresh_token,
        )
        http = self.http_client(base_url=self.api_url(), auth=auth, quick_retries=QUICK_RETRIES)
        search_limiter = None
        if backend.crm_search_rate:
            search_limiter = bucket_for(
                (self.env.cr.dbname, backend.id, "search"), backend.crm_search_rate, burst=1
            )
        return hs.HubSpotClient(
            http, settings.path_prefix, on_rate=self.on_rate, search_limiter=search_limiter
        )

    def on_rate(self, remaining, daily):
        try:
            remaining, daily = int(remaining), int(daily or 0)
        except (TypeError, ValueError):
            return
        if daily:
            self.on_limits(daily - remaining, daily)

    def after_failure(self, job_row, state, message):
        if DAILY_POLICY in (message or ""):
            self.backend._set_health(
                "degraded",
                _(
                    "HubSpot's daily API limit of the portal is used up: jobs are retried in an "
                    "hour, and the limit resets at midnight in the portal's time zone. Raise the "
                    "portal's limit (API add-on) or lower the sync volume."
                ),
            )

    # Connection ------------------------------------------------------------------------------

    def describe_connection(self):
        client = self.client()
        details = client.account_details()
        usage = client.daily_usage()
        text = _(
            "HubSpot portal %(portal)s (%(currency)s, %(tz)s)",
            portal=details.get("portalId"),
            currency=details.get("companyCurrency") or "?",
            tz=details.get("timeZone") or "?",
        )
        if usage:
            text += _(
                ", API calls today: %(used)s of %(limit)s",
                used=usage.get("currentUsage"),
                limit=usage.get("usageLimit"),
            )
        return text

    def authorize_url(self, state, redirect_uri):
        base = (self.backend.auth_base_url or DEFAULT_APP_URL).rstrip("/")
        params = {
            "client_id": self.backend.sudo().crm_client_id,
            "redirect_uri": redirect_uri,
            "scope": OAUTH_SCOPES,
            "state": state,
        }
        return f"{base}/oauth/authorize?{urlencode(params)}"

    def exchange_code(self, code, redirect_uri):
        settings = self.settings()
        return hs.exchange_code(
            self.http_client(base_url=self.api_url()), settings, code, redirect_uri
        )

    # Inbound ---------------------------------------------------------------------------------

    def deal_properties(self):
        return shapes.hs_deal_properties(self.deal_field_names(), self.writeback_field_names())

    def normalize(self, client, records):
        """Complete deal records with their company, contacts and line items (batched)."""
        if not records:
            return []
        names = self.deal_field_names()
        writeback = self.writeback_field_names()
        ids = [str(record["id"]) for record in records]
        companies_of = client.associations("deals", "companies", ids)
        contacts_of = client.associations("deals", "contacts", ids)
        lines_of = client.associations("deals", "line_items", ids)
        companies = {
            str(r["id"]): r
            for r in client.batch_read(
                "companies",
                {i for v in companies_of.values() for i in v[:1]},
                list(shapes.HS_COMPANY_FIELDS.values()),
            )
        }
        contacts = {
            str(r["id"]): r
            for r in client.batch_read(
                "contacts",
                {i for v in contacts_of.values() for i in v},
                list(shapes.HS_CONTACT_FIELDS.values()),
            )
        }
        lines = {
            str(r["id"]): r
            for r in client.batch_read(
                "line_items",
                {i for v in lines_of.values() for i in v},
                shapes.hs_line_properties(names),
            )
        }
        deals = []
        for record in records:
            deal_id = str(record["id"])
            company_ids = companies_of.get(deal_id) or []
            deals.append(
                shapes.hs_normalize_deal(
                    record,
                    names,
                    company=companies.get(company_ids[0]) if company_ids else None,
                    contacts=[contacts[i] for i in contacts_of.get(deal_id, []) if i in contacts],
                    line_items=[lines[i] for i in lines_of.get(deal_id, []) if i in lines],
                    writeback_fields=writeback,
                )
            )
        return deals

    def pull_deals(self, stream, job):
        """One search page of the deals changed since the cursor (the first pull: won since the
        start date); the next page is a job of its own that resumes at the last timestamp read
        (keyset window: durable page by page, never near the 10,000-result cap)."""
        client = self.client()
        state = self.cursor_state(stream)
        progress = state.get("pull")
        if not progress:
            since = self.stream_since(stream)
            progress = {
                "first": since is None,
                "started": fields.Datetime.to_string(fields.Datetime.now()),
                "cursor": {"start": hs.to_ms(since) if since else 0},
                "newest": fields.Datetime.to_string(stream.cursor_date)
                if stream.cursor_date
                else None,
                "count": 0,
            }
        filters = []
        if progress["first"]:
            start = fields.Datetime.to_datetime(self.start_date())
            filters = [
                {"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"},
                {"propertyName": "closedate", "operator": "GTE", "value": str(hs.to_ms(start))},
            ]
        records, cursor = client.search_page(
            "deals", STAMP["deals"], progress["cursor"], self.deal_properties(), filters
        )
        newest = self.newest_stamp(
            fields.Datetime.to_datetime(progress.get("newest")),
            (
                hs.parse_datetime((record.get("properties") or {}).get(STAMP["deals"]))
                for record in records
            ),
        )
        bound = self.backend._crm_bound_ids("deal", [str(r["id"]) for r in records])
        # Only complete (associations, lines) the deals that will be queued.
        candidates = [
            r
            for r in records
            if str(r["id"]) in bound
            or (r.get("properties") or {}).get("hs_is_closed_won") == "true"
        ]
        queued = len(self.queue_deals(self.normalize(client, candidates)))
        progress.update(
            cursor=cursor,
            newest=fields.Datetime.to_string(newest) if newest else None,
            count=progress.get("count", 0) + queued,
        )
        if cursor is not None:
            state["pull"] = progress
            self.pull_next_page(stream, job, state, queued)
            return stream
        started = fields.Datetime.to_datetime(progress["started"])
        return self.pull_done(stream, state, newest or started, progress["count"])

    def fetch_deal(self, deal_id):
        client = self.client()
        record = client.get("deals", deal_id, self.deal_properties())
        if record is None or record.get("archived"):
            return None
        return self.normalize(client, [record])[0]

    def partner_field_names(self, obj):
        return shapes.HS_COMPANY_FIELDS if obj == "account" else shapes.HS_CONTACT_FIELDS

    def partner_values(self, obj, record):
        return (
            shapes.hs_company_values(record)
            if obj == "account"
            else shapes.hs_contact_values(record)
        )

    def pull_partners(self, stream, job, obj):
        """Changes of companies/contacts Odoo already knows (others arrive with their deals)."""
        started = fields.Datetime.now()
        since = self.stream_since(stream)
        if since is None:
            stream._record_pull_result(new_cursor_date=started, count=0)
            return stream
        object_type = HS_OBJECTS[obj]
        table = self.partner_field_names(obj)
        records = list(
            self.client().modified_since(
                object_type,
                STAMP[object_type],
                hs.to_ms(since),
                [*table.values(), STAMP[object_type]],
            )
        )
        newest = self.newest_stamp(
            stream.cursor_date or None,
            (
                hs.parse_datetime((record.get("properties") or {}).get(STAMP[object_type]))
                for record in records
            ),
        )
        bound = self.backend._crm_bound_ids(obj, [str(r["id"]) for r in records])
        values = [self.partner_values(obj, r) for r in records if str(r["id"]) in bound]
        self.env["connector.job"]._enqueue_many(self.backend, self.partner_specs(obj, values))
        stream._record_pull_result(new_cursor_date=newest, count=len(values))
        return stream

    def fetch_partner(self, obj, remote_id):
        table = self.partner_field_names(obj)
        record = self.client().get(HS_OBJECTS[obj], remote_id, list(table.values()))
        if record is None or record.get("archived"):
            return None
        return self.partner_values(obj, record)

    # Outbound --------------------------------------------------------------------------------

    def remote_values(self, obj, values):
        table = self.partner_field_names(obj)
        result = {}
        for key, value in values.items():
            if obj == "contact" and key == "name":
                first, _sep, last = (value or "").rpartition(" ")
                result[table["first_name"]] = first
                result[table["last_name"]] = last or value or ""
            elif key in table:
                result[table[key]] = "" if value is None else str(value)
        return result

    def push(self, items):
        """Batch updates per object type; returns {index: error text} for refused records."""
        client = self.client()
        failures = {}
        groups = {}
        for index, (kind, remote_id, values) in enumerate(items):
            object_type = "deals" if kind == "deal" else HS_OBJECTS[kind]
            properties = (
                {k: "" if v is None else str(v) for k, v in values.items()}
                if kind == "deal"
                else self.remote_values(kind, values)
            )
            groups.setdefault(object_type, []).append(
                (index, {"id": str(remote_id), "properties": properties})
            )
        for object_type, entries in groups.items():
            _results, errors = client.batch_update(object_type, [entry for _i, entry in entries])
            index_of = {entry["id"]: index for index, entry in entries}
            for error in errors:
                ids = (error.get("context") or {}).get("ids") or []
                message = error.get("message") or _("refused")
                for remote_id in ids or list(index_of):
                    if remote_id in index_of:
                        failures[index_of[remote_id]] = message
        return failures

    # Webhooks (signature v3) -----------------------------------------------------------------

    def webhook_verify(self, method, url, headers, body, now):
        backend = self.backend
        secret = backend._get_secret("client_secret") or backend._get_secret("webhook_secret")
        # HubSpot documents 5 minutes; the backend's tolerance may say otherwise.
        max_age = (backend.webhook_tolerance or hs.SIGNATURE_MAX_AGE_MS // 1000) * 1000
        hs.verify_signature_v3(secret, method, url, body, headers, int(now * 1000), max_age)

    def webhook_events(self, payload, headers):
        events = payload if isinstance(payload, list) else [payload]
        specs = []
        for event in events:
            if (
                not isinstance(event, dict)
                or "subscriptionType" not in event
                or "objectId" not in event
            ):
                raise ValueError("each HubSpot event needs subscriptionType and objectId")
            object_type, _dot, action = str(event["subscriptionType"]).partition(".")
            remote_id = str(event["objectId"])
            key = f"hs-event:{event.get('eventId') or event.get('occurredAt')}"
            if object_type == "deal":
                specs.append(self.event_specs("deal", remote_id, key, deleted=action == "deletion"))
            elif object_type in ("company", "contact") and action != "deletion":
                obj = "account" if object_type == "company" else "contact"
                specs.append(self.event_specs(obj, remote_id, key))
            # Other subscriptions (line items, deletions of companies...) need nothing here.
        return specs
