import hmac
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from odoo import _, fields, models

from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.connector_base.engine.signatures import SignatureError

from ..engine import deals as shapes
from ..engine import salesforce as sf
from .connector_backend import QUICK_RETRIES

FLOW_SECRET_HEADER = "X-Connector-Flow-Secret"
# The deleted-records log keeps 15 days; its window must span at least a minute.
DELETED_LOG_DAYS = 15
DELETED_MIN_WINDOW = timedelta(minutes=1)
SF_OBJECTS = {"account": "Account", "contact": "Contact"}

_logger = logging.getLogger(__name__)


class ConnectorBackendSalesforce(models.Model):
    """Salesforce calls of a CRM backend (reached through ``_crm('<name>')``)."""

    _inherit = "connector.backend"

    # Clients ---------------------------------------------------------------------------------

    def _sf_settings(self):
        backend = self.sudo()
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

    def _sf_token_http(self, settings=None):
        settings = settings or self._sf_settings()
        return self._http_client(base_url=settings.login_url, quick_retries=QUICK_RETRIES)

    def _sf_client(self):
        self.ensure_one()
        settings = self._sf_settings()
        auth = sf.SalesforceAuth(
            settings,
            self._sf_token_http(settings),
            self._crm_token_cache_key(settings.flow, settings.client_id, settings.login_url),
            on_token=self._sf_on_token,
        )
        http = self._http_client(
            base_url=settings.login_url, auth=auth, quick_retries=QUICK_RETRIES
        )
        return sf.SalesforceClient(http, auth, settings.api_version, on_limits=self._crm_on_limits)

    def _sf_on_token(self, token):
        if token.instance_url and token.instance_url != self.crm_instance_url:
            self.env.cr.execute(
                "UPDATE connector_backend SET crm_instance_url = %s WHERE id = %s",
                (token.instance_url, self.id),
            )
            self.invalidate_recordset(["crm_instance_url"])

    # Connection ------------------------------------------------------------------------------

    def _sf_test_connection(self):
        client = self._sf_client()
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
        missing = self._sf_missing_fields(client)
        if missing:
            text += _(
                ". Fields of the Deals tab the org does not have (or the integration user cannot "
                "see): %(fields)s: create them in Salesforce, or clear their names on the Deals "
                "tab (optional fields)",
                fields=", ".join(missing),
            )
        return text

    def _sf_missing_fields(self, client):
        """The mapped deal and write-back fields that the org's describe does not list."""
        names = self._crm_deal_field_names()
        wanted = {
            "Opportunity": [
                name for key, name in names.items() if name and key != "line_billing_model"
            ]
            + list(self._crm_writeback_fields().values()),
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

    def _sf_authorize_url(self, state, redirect_uri):
        settings = self._sf_settings()
        params = {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": "api refresh_token",
        }
        return f"{settings.login_url}/services/oauth2/authorize?{urlencode(params)}"

    def _sf_exchange_code(self, code, redirect_uri):
        settings = self._sf_settings()
        return sf.exchange_code(self._sf_token_http(settings), settings, code, redirect_uri)

    # Inbound ---------------------------------------------------------------------------------

    def _sf_deal_select(self):
        return ", ".join(
            shapes.sf_opportunity_fields(
                self._crm_deal_field_names(),
                list(self._crm_writeback_fields().values()),
                multicurrency=self.crm_sf_multicurrency,
            )
        )

    def _sf_normalize(self, record):
        return shapes.sf_normalize_opportunity(
            record, self._crm_deal_field_names(), list(self._crm_writeback_fields().values())
        )

    def _sf_pull_deals(self, stream, job):
        """One page of the deals changed since the cursor (the first pull: won since the start
        date); the next page is a job of its own (durable progress, see _crm_pull_next_page).

        Between jobs the pull keeps Salesforce's ``nextRecordsUrl``; when Salesforce no longer
        knows it (query locators expire after some minutes), the query runs again from the
        second of the last change read (Salesforce compares SystemModstamp to the second): what
        is read twice is queued once (job keys)."""
        client = self._sf_client()
        state = self._crm_cursor_state(stream)
        progress = state.get("pull")
        if not progress:
            # Microseconds kept: the deleted-records window ends exactly here.
            since = self._crm_stream_since(stream)
            progress = {
                "started": fields.Datetime.to_string(datetime.now(UTC).replace(tzinfo=None)),
                "since": sf.soql_datetime(since) if since else None,
                "newest": fields.Datetime.to_string(stream.cursor_date)
                if stream.cursor_date
                else None,
                "count": 0,
            }
        records, locator = self._sf_pull_page(client, progress)
        deals = [self._sf_normalize(record) for record in records]
        newest = fields.Datetime.to_datetime(progress.get("newest"))
        for record in records:
            stamp = sf.parse_datetime(record.get("SystemModstamp"))
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        queued = len(self._crm_queue_deals(deals))
        progress.update(
            newest=fields.Datetime.to_string(newest) if newest else None,
            count=progress.get("count", 0) + queued,
            locator=locator,
            resume=sf.soql_datetime(newest) if newest else progress.get("resume"),
        )
        if locator:
            state["pull"] = progress
            self._crm_pull_next_page(stream, job, state, queued)
            return stream
        started = fields.Datetime.to_datetime(progress["started"])
        state["deleted_until"] = self._sf_queue_deleted(client, stream, started, state)
        return self._crm_pull_done(
            stream, state, newest or started.replace(microsecond=0), progress["count"]
        )

    def _sf_pull_page(self, client, progress):
        """The next page of the pull: from its nextRecordsUrl, or by querying (again)."""
        if progress.get("locator"):
            try:
                return client.query_page(locator=progress["locator"])
            except BusinessError as exc:
                if "INVALID_QUERY_LOCATOR" not in str(exc):
                    raise
                _logger.info("Salesforce query locator expired: the pull queries again")
        if progress.get("since") is None and not progress.get("resume"):
            where = f"IsWon = true AND CloseDate >= {fields.Date.to_string(self._crm_start_date())}"
        else:
            where = f"SystemModstamp >= {progress.get('resume') or progress['since']}"
            if progress.get("since") is None:
                where += (
                    " AND IsWon = true AND CloseDate >= "
                    f"{fields.Date.to_string(self._crm_start_date())}"
                )
        soql = (
            f"SELECT {self._sf_deal_select()} FROM Opportunity WHERE {where} "
            "ORDER BY SystemModstamp, Id"
        )
        return client.query_page(soql)

    def _sf_queue_deleted(self, client, stream, now, state):
        """Queue the deletion of converted deals from the deleted-records log; returns the end of
        the window read (the next start)."""
        start = fields.Datetime.to_datetime(state.get("deleted_until")) or now
        oldest = now - timedelta(days=DELETED_LOG_DAYS) + timedelta(minutes=5)
        if start < oldest:
            start = oldest
        if now - start < DELETED_MIN_WINDOW:
            return fields.Datetime.to_string(start)
        answer = client.deleted("Opportunity", start, now)
        earliest = sf.parse_datetime(answer.get("earliestDateAvailable"))
        if earliest and earliest > start:
            self.message_post(
                body=_(
                    "Salesforce no longer has deletions before %(earliest)s (the log was purged): "
                    "deals deleted between %(start)s and then were not seen. Check converted "
                    "deals or resync the Deals stream from %(start)s.",
                    earliest=earliest,
                    start=start,
                )
            )
        ids = [item["id"] for item in answer.get("deletedRecords") or []]
        bound = self._crm_bound_ids("deal", ids)
        specs = [
            {
                "operation": "crm.deal.sync",
                "payload": {"deal_id": deal_id, "deleted": True},
                "idempotency_key": f"deal-deleted:{deal_id}",
                "record_key": f"deal:{deal_id}",
                "direction": "inbound",
                "source": "pull",
            }
            for deal_id in ids
            if deal_id in bound
        ]
        self.env["connector.job"]._enqueue_many(self, specs)
        covered = sf.parse_datetime(answer.get("latestDateCovered")) or now
        return fields.Datetime.to_string(min(covered, now))

    def _sf_fetch_deal(self, deal_id):
        client = self._sf_client()
        soql = (
            f"SELECT {self._sf_deal_select()} FROM Opportunity WHERE Id = {sf.soql_string(deal_id)}"
        )
        records = list(client.query(soql))
        return self._sf_normalize(records[0]) if records else None

    def _sf_partner_select(self, obj):
        table = shapes.SF_ACCOUNT_FIELDS if obj == "account" else shapes.SF_CONTACT_FIELDS
        extra = ["AccountId"] if obj == "contact" else []
        return ", ".join(["Id", "SystemModstamp", *extra, *table.values()])

    def _sf_partner_values(self, obj, record):
        return (
            shapes.sf_account_values(record)
            if obj == "account"
            else shapes.sf_contact_values(record)
        )

    def _sf_pull_partners(self, stream, job, obj):
        """Changes of accounts/contacts Odoo already knows (others arrive with their deals)."""
        started = fields.Datetime.now()
        since = self._crm_stream_since(stream)
        if since is None:  # first pull: start from now, customers come with their deals
            stream._record_pull_result(new_cursor_date=started, count=0)
            return stream
        client = self._sf_client()
        sobject = SF_OBJECTS[obj]
        soql = (
            f"SELECT {self._sf_partner_select(obj)} FROM {sobject} "
            f"WHERE SystemModstamp >= {sf.soql_datetime(since)} ORDER BY SystemModstamp, Id"
        )
        records, newest = [], stream.cursor_date or None
        for record in client.query(soql):
            records.append(self._sf_partner_values(obj, record))
            stamp = sf.parse_datetime(record.get("SystemModstamp"))
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        bound = self._crm_bound_ids(obj, [values["id"] for values in records])
        specs = self._crm_partner_specs(obj, [v for v in records if v["id"] in bound])
        self.env["connector.job"]._enqueue_many(self, specs)
        stream._record_pull_result(new_cursor_date=newest, count=len(specs))
        return stream

    def _sf_fetch_partner(self, obj, remote_id):
        client = self._sf_client()
        soql = (
            f"SELECT {self._sf_partner_select(obj)} FROM {SF_OBJECTS[obj]} "
            f"WHERE Id = {sf.soql_string(remote_id)}"
        )
        records = list(client.query(soql))
        return self._sf_partner_values(obj, records[0]) if records else None

    # Outbound --------------------------------------------------------------------------------

    def _sf_remote_values(self, obj, values):
        """Normalized partner values -> Salesforce fields."""
        table = shapes.SF_ACCOUNT_FIELDS if obj == "account" else shapes.SF_CONTACT_FIELDS
        result = {}
        for key, value in values.items():
            if obj == "contact" and key == "name":
                first, _sep, last = (value or "").rpartition(" ")
                result[table["first_name"]] = first or None
                result[table["last_name"]] = last or value
            elif key in table:
                result[table[key]] = value
        return result

    def _sf_push(self, items):
        """``items``: [(kind, remote id, values)] with kind deal/account/contact; deal values are
        CRM field names already. Returns {index: error text} for the records refused."""
        records = []
        for kind, remote_id, values in items:
            sobject = "Opportunity" if kind == "deal" else SF_OBJECTS[kind]
            remote = values if kind == "deal" else self._sf_remote_values(kind, values)
            records.append({"attributes": {"type": sobject}, "id": remote_id, **remote})
        results = self._sf_client().update_records(records)
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

    def _sf_webhook_verify(self, method, url, headers, body, now):
        secret = self._get_secret("webhook_secret")
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

    def _sf_webhook_events(self, payload, headers):
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
            if sobject == "Opportunity":
                specs.append(
                    {
                        "operation": "crm.deal.sync",
                        "payload": {"deal_id": remote_id, "deleted": deleted},
                        "idempotency_key": f"sf-flow:{remote_id}:{version}",
                        "record_key": f"deal:{remote_id}",
                        "direction": "inbound",
                        "source": "webhook",
                    }
                )
            elif sobject in ("Account", "Contact") and not deleted:
                obj = sobject.lower()
                specs.append(
                    {
                        "operation": "crm.partner.sync",
                        "payload": {"object": obj, "remote_id": remote_id},
                        "idempotency_key": f"sf-flow:{remote_id}:{version}",
                        "record_key": f"{obj}:{remote_id}",
                        "direction": "inbound",
                        "source": "webhook",
                    }
                )
            else:
                raise ValueError(f"unsupported sobject {sobject!r} or event {event.get('event')!r}")
        return specs
