from urllib.parse import urlencode

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.connector_base.engine.ratelimit import bucket_for

from ..engine import deals as shapes
from ..engine import hubspot as hs
from .connector_backend import QUICK_RETRIES

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


class ConnectorBackendHubspot(models.Model):
    """HubSpot calls of a CRM backend (reached through ``_crm('<name>')``)."""

    _inherit = "connector.backend"

    crm_search_rate = fields.Float(
        string="Search rate (requests/s)",
        default=hs.SEARCH_RATE,
        help="HubSpot: the search endpoints have their own limit (about 4-5 requests per second "
        "per account, shared by every app of the portal), apart from the 10-second limit that "
        "the backend's rate limit follows. Pulls search at most this often from one Odoo "
        "process (0: no pacing).",
    )

    @api.constrains("crm_search_rate")
    def _check_crm_search_rate(self):
        for backend in self:
            if backend.crm_search_rate < 0:
                raise ValidationError(
                    _("The search rate is in requests per second: 0 (no pacing) or more.")
                )

    # Clients ---------------------------------------------------------------------------------

    def _hs_settings(self):
        backend = self.sudo()
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

    def _hs_api_url(self):
        return (self.api_base_url or "https://api.hubapi.com").rstrip("/")

    def _hs_client(self):
        self.ensure_one()
        settings = self._hs_settings()
        auth = hs.hubspot_auth(
            settings,
            self._http_client(base_url=self._hs_api_url(), quick_retries=QUICK_RETRIES),
            self._crm_token_cache_key(settings.flow, settings.client_id),
            on_token=self._crm_store_rotated_refresh_token,
        )
        http = self._http_client(
            base_url=self._hs_api_url(), auth=auth, quick_retries=QUICK_RETRIES
        )
        search_limiter = None
        if self.crm_search_rate:
            search_limiter = bucket_for(
                (self.env.cr.dbname, self.id, "search"), self.crm_search_rate, burst=1
            )
        return hs.HubSpotClient(
            http, settings.path_prefix, on_rate=self._hs_on_rate, search_limiter=search_limiter
        )

    def _hs_on_rate(self, remaining, daily):
        try:
            remaining, daily = int(remaining), int(daily or 0)
        except (TypeError, ValueError):
            return
        if daily:
            self._crm_on_limits(daily - remaining, daily)

    # Connection ------------------------------------------------------------------------------

    def _hs_test_connection(self):
        client = self._hs_client()
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

    def _hs_authorize_url(self, state, redirect_uri):
        base = (self.auth_base_url or "https://app.hubspot.com").rstrip("/")
        params = {
            "client_id": self.sudo().crm_client_id,
            "redirect_uri": redirect_uri,
            "scope": OAUTH_SCOPES,
            "state": state,
        }
        return f"{base}/oauth/authorize?{urlencode(params)}"

    def _hs_exchange_code(self, code, redirect_uri):
        settings = self._hs_settings()
        return hs.exchange_code(
            self._http_client(base_url=self._hs_api_url()), settings, code, redirect_uri
        )

    # Inbound ---------------------------------------------------------------------------------

    def _hs_normalize(self, client, records):
        """Complete deal records with their company, contacts and line items (batched)."""
        if not records:
            return []
        names = self._crm_deal_field_names()
        writeback = list(self._crm_writeback_fields().values())
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

    def _hs_pull_deals(self, stream, job):
        """One search page of the deals changed since the cursor (the first pull: won since the
        start date); the next page is a job of its own that resumes at the last timestamp read
        (keyset window: durable page by page, never near the 10,000-result cap)."""
        client = self._hs_client()
        state = self._crm_cursor_state(stream)
        progress = state.get("pull")
        if not progress:
            since = self._crm_stream_since(stream)
            progress = {
                "first": since is None,
                "started": fields.Datetime.to_string(fields.Datetime.now()),
                "cursor": {"start": hs.to_ms(since) if since else 0},
                "newest": fields.Datetime.to_string(stream.cursor_date)
                if stream.cursor_date
                else None,
                "count": 0,
            }
        properties = shapes.hs_deal_properties(
            self._crm_deal_field_names(), list(self._crm_writeback_fields().values())
        )
        filters = []
        if progress["first"]:
            start = fields.Datetime.to_datetime(self._crm_start_date())
            filters = [
                {"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"},
                {"propertyName": "closedate", "operator": "GTE", "value": str(hs.to_ms(start))},
            ]
        records, cursor = client.search_page(
            "deals", STAMP["deals"], progress["cursor"], properties, filters
        )
        newest = fields.Datetime.to_datetime(progress.get("newest"))
        for record in records:
            stamp = hs.parse_datetime((record.get("properties") or {}).get(STAMP["deals"]))
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        bound = self._crm_bound_ids("deal", [str(r["id"]) for r in records])
        # Only complete (associations, lines) the deals that will be queued.
        candidates = [
            r
            for r in records
            if str(r["id"]) in bound
            or (r.get("properties") or {}).get("hs_is_closed_won") == "true"
        ]
        queued = len(self._crm_queue_deals(self._hs_normalize(client, candidates)))
        progress.update(
            cursor=cursor,
            newest=fields.Datetime.to_string(newest) if newest else None,
            count=progress.get("count", 0) + queued,
        )
        if cursor is not None:
            state["pull"] = progress
            self._crm_pull_next_page(stream, job, state, queued)
            return stream
        started = fields.Datetime.to_datetime(progress["started"])
        return self._crm_pull_done(stream, state, newest or started, progress["count"])

    def _hs_fetch_deal(self, deal_id):
        client = self._hs_client()
        properties = shapes.hs_deal_properties(
            self._crm_deal_field_names(), list(self._crm_writeback_fields().values())
        )
        record = client.get("deals", deal_id, properties)
        if record is None or record.get("archived"):
            return None
        return self._hs_normalize(client, [record])[0]

    def _hs_partner_values(self, obj, record):
        return (
            shapes.hs_company_values(record)
            if obj == "account"
            else shapes.hs_contact_values(record)
        )

    def _hs_pull_partners(self, stream, job, obj):
        started = fields.Datetime.now()
        since = self._crm_stream_since(stream)
        if since is None:
            stream._record_pull_result(new_cursor_date=started, count=0)
            return stream
        object_type = HS_OBJECTS[obj]
        table = shapes.HS_COMPANY_FIELDS if obj == "account" else shapes.HS_CONTACT_FIELDS
        client = self._hs_client()
        records = list(
            client.modified_since(
                object_type,
                STAMP[object_type],
                hs.to_ms(since),
                [*table.values(), STAMP[object_type]],
            )
        )
        newest = stream.cursor_date or None
        for record in records:
            stamp = hs.parse_datetime((record.get("properties") or {}).get(STAMP[object_type]))
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        bound = self._crm_bound_ids(obj, [str(r["id"]) for r in records])
        values = [self._hs_partner_values(obj, r) for r in records if str(r["id"]) in bound]
        self.env["connector.job"]._enqueue_many(self, self._crm_partner_specs(obj, values))
        stream._record_pull_result(new_cursor_date=newest, count=len(values))
        return stream

    def _hs_fetch_partner(self, obj, remote_id):
        table = shapes.HS_COMPANY_FIELDS if obj == "account" else shapes.HS_CONTACT_FIELDS
        record = self._hs_client().get(HS_OBJECTS[obj], remote_id, list(table.values()))
        if record is None or record.get("archived"):
            return None
        return self._hs_partner_values(obj, record)

    # Outbound --------------------------------------------------------------------------------

    def _hs_remote_values(self, obj, values):
        table = shapes.HS_COMPANY_FIELDS if obj == "account" else shapes.HS_CONTACT_FIELDS
        result = {}
        for key, value in values.items():
            if obj == "contact" and key == "name":
                first, _sep, last = (value or "").rpartition(" ")
                result[table["first_name"]] = first
                result[table["last_name"]] = last or value or ""
            elif key in table:
                result[table[key]] = "" if value is None else str(value)
        return result

    def _hs_push(self, items):
        """Batch updates per object type; returns {index: error text} for refused records."""
        client = self._hs_client()
        failures = {}
        groups = {}
        for index, (kind, remote_id, values) in enumerate(items):
            object_type = "deals" if kind == "deal" else HS_OBJECTS[kind]
            properties = (
                {k: "" if v is None else str(v) for k, v in values.items()}
                if kind == "deal"
                else self._hs_remote_values(kind, values)
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

    def _hs_webhook_verify(self, method, url, headers, body, now):
        secret = self._get_secret("client_secret") or self._get_secret("webhook_secret")
        # HubSpot documents 5 minutes; the backend's tolerance may say otherwise.
        max_age = (self.webhook_tolerance or hs.SIGNATURE_MAX_AGE_MS // 1000) * 1000
        hs.verify_signature_v3(secret, method, url, body, headers, int(now * 1000), max_age)

    def _hs_webhook_events(self, payload, headers):
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
                specs.append(
                    {
                        "operation": "crm.deal.sync",
                        "payload": {"deal_id": remote_id, "deleted": action == "deletion"},
                        "idempotency_key": key,
                        "record_key": f"deal:{remote_id}",
                        "direction": "inbound",
                        "source": "webhook",
                    }
                )
            elif object_type in ("company", "contact") and action != "deletion":
                obj = "account" if object_type == "company" else "contact"
                specs.append(
                    {
                        "operation": "crm.partner.sync",
                        "payload": {"object": obj, "remote_id": remote_id},
                        "idempotency_key": key,
                        "record_key": f"{obj}:{remote_id}",
                        "direction": "inbound",
                        "source": "webhook",
                    }
                )
            # Other subscriptions (line items, deletions of companies...) need nothing here.
        return specs
