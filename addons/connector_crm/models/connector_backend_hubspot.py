from urllib.parse import urlencode

from odoo import _, fields, models

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
        return hs.HubSpotClient(http, settings.path_prefix, on_rate=self._hs_on_rate)

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
        client = self._hs_client()
        started = fields.Datetime.now()
        since = self._crm_stream_since(stream)
        properties = shapes.hs_deal_properties(
            self._crm_deal_field_names(), list(self._crm_writeback_fields().values())
        )
        filters = []
        if since is None:
            start = fields.Datetime.to_datetime(self._crm_start_date())
            since_ms = 0
            filters = [
                {"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"},
                {"propertyName": "closedate", "operator": "GTE", "value": str(hs.to_ms(start))},
            ]
        else:
            since_ms = hs.to_ms(since)
        records = list(
            client.modified_since("deals", STAMP["deals"], since_ms, properties, filters)
        )
        newest = stream.cursor_date or None
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
        queued = self._crm_queue_deals(self._hs_normalize(client, candidates))
        stream._record_pull_result(new_cursor_date=newest or started, count=len(queued))
        return stream

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
