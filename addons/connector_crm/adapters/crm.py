"""What the Salesforce and HubSpot adapters share: the jobs of a CRM backend, the pull
mechanics (one page per job, durable progress on the stream's cursor), job specs, API usage.

Read a deal pull from the cron to the engagement: the stream's ``stream.pull`` job calls
``pull()`` here, which calls ``pull_deals()`` of the type's adapter (salesforce.py,
hubspot.py); that reads one page, normalizes the deals (``engine/deals.py``) and queues
them with ``queue_deals()``; each new won deal becomes a ``crm.engagement.create`` job run by
``connector.crm.engagement._create_engagement`` (see ``job_handlers()``).
"""

import hashlib
import json
import time
from datetime import timedelta

from odoo import _

from odoo.addons.connector_base.adapters import BackendAdapter
from odoo.addons.connector_base.const import CTX_NO_AUDIT

from ..const import (
    OP_AMENDMENT_REVIEW,
    OP_DEAL_SYNC,
    OP_ENGAGEMENT_CREATE,
    OP_PARTNER_SYNC,
    OP_PUSH,
    PULL_PRIORITY,
    STREAM_ACCOUNTS,
    STREAM_CONTACTS,
    STREAM_DEALS,
    USAGE_WRITE_INTERVAL,
)
from ..engine import deals as shapes

# (database, backend id) -> when this process last wrote the backend's API usage.
_USAGE_WRITTEN = {}


class CrmAdapter(BackendAdapter):
    """Base of the CRM adapters. A subclass provides the remote calls: ``client()``,
    ``describe_connection()``, ``pull_deals()``, ``pull_partners()``, ``fetch_deal()``,
    ``fetch_partner()``, ``push()``, the webhook scheme and the Connect flow; and, for the
    field-ownership screen, ``partner_field_names(obj)``."""

    # The CRM's own names of the deal fields Odoo may push: normalized key -> CRM field.
    STANDARD_DEAL_FIELDS = {}

    # Connection ------------------------------------------------------------------------------

    def test_connection(self):
        """Test connection forgets the cached tokens (a new secret is tried at once) and keeps
        what answered on the backend (Connected as)."""
        self.backend._crm_forget_tokens()
        message = self.describe_connection()
        self.backend.sudo().with_context(**{CTX_NO_AUDIT: True}).write(
            {"crm_connected_as": message[:1000]}
        )
        return message

    def describe_connection(self):
        raise NotImplementedError

    def token_cache_key(self, *parts):
        return (self.env.cr.dbname, self.backend.id, *parts)

    def store_rotated_refresh_token(self, token):
        """The CRM may return a new refresh token with each refresh: keep the latest."""
        backend = self.backend
        if token.refresh_token and token.refresh_token != backend._get_secret("refresh_token"):
            backend.sudo()._set_secret("refresh_token", token.refresh_token)

    def on_limits(self, used, limit):
        """Keep the API usage shown on the backend: every call reports it, the backend row is
        written at most once a minute per process (runners would otherwise contend on it)."""
        backend = self.backend
        key = (self.env.cr.dbname, backend.id)
        now = time.monotonic()
        if now - _USAGE_WRITTEN.get(key, -USAGE_WRITE_INTERVAL) < USAGE_WRITE_INTERVAL:
            return
        _USAGE_WRITTEN[key] = now
        text = f"{used:,} / {limit:,}"
        self.env.cr.execute(
            "UPDATE connector_backend SET crm_api_usage = %s WHERE id = %s", (text, backend.id)
        )
        backend.invalidate_recordset(["crm_api_usage"])
        if limit and used / limit >= 0.9 and backend.health == "ok":
            backend._set_health(
                "degraded",
                _(
                    "%(crm)s API usage is at %(used)s of %(limit)s requests today: syncing stops "
                    "when the limit is reached.",
                    crm=backend._crm_label(),
                    used=used,
                    limit=limit,
                ),
            )

    # Jobs ------------------------------------------------------------------------------------

    def job_handlers(self):
        return {
            OP_DEAL_SYNC: self.sync_deal,
            OP_ENGAGEMENT_CREATE: self.create_engagement,
            OP_AMENDMENT_REVIEW: self.review_amendment,
            OP_PARTNER_SYNC: self.sync_partner,
            OP_PUSH: self.push_changes,
        }

    def sync_deal(self, job):
        return self.env["connector.crm.engagement"]._sync_deal(self.backend, job)

    def create_engagement(self, job):
        return self.env["connector.crm.engagement"]._create_engagement(self.backend, job)

    def review_amendment(self, job):
        return self.env["connector.crm.engagement"]._review_refused_amendment(self.backend, job)

    def push_changes(self, job):
        return self.env["connector.crm.engagement"]._push(self.backend, job)

    def sync_partner(self, job):
        payload = job._payload()
        values = payload.get("values")
        if values is None:
            values = self.fetch_partner(payload["object"], payload["remote_id"])
        if values is None:
            return None  # deleted remotely: the Odoo partner stays
        return self.env["res.partner"]._crm_apply_remote(self.backend, payload["object"], values)

    # Pulls -----------------------------------------------------------------------------------

    def pull(self, stream, job):
        if stream.code == STREAM_DEALS:
            return self.pull_deals(stream, job)
        if stream.code == STREAM_ACCOUNTS:
            return self.pull_partners(stream, job, "account")
        if stream.code == STREAM_CONTACTS:
            return self.pull_partners(stream, job, "contact")
        return super().pull(stream, job)

    def pull_deals(self, stream, job):
        raise NotImplementedError

    def pull_partners(self, stream, job, obj):
        raise NotImplementedError

    def fetch_deal(self, deal_id):
        """The normalized deal (engine/deals.py), or None when the CRM no longer has it."""
        raise NotImplementedError

    def fetch_partner(self, obj, remote_id):
        raise NotImplementedError

    def stream_since(self, stream):
        """Where a pull starts: the cursor minus the overlap, or None for a first pull."""
        if not stream.cursor_date:
            return None
        return stream.cursor_date - timedelta(seconds=self.backend.crm_overlap_seconds or 0)

    def start_date(self):
        return self.backend._crm_start_date()

    def deal_field_names(self):
        return self.backend._crm_deal_field_names()

    def writeback_field_names(self):
        return list(self.backend._crm_writeback_fields().values())

    def cursor_state(self, stream):
        """The stream's cursor token: a JSON object (the deleted-records window, the position
        of a pull in progress)."""
        try:
            state = json.loads(stream.cursor_value or "{}")
        except ValueError:
            state = {}
        return state if isinstance(state, dict) else {}

    def pull_next_page(self, stream, job, state, count):
        """Keep the position of the pull in progress on the stream and queue the job of its
        next page (same stream: it runs after this one, before the deals queued meanwhile)."""
        stream._record_pull_result(new_cursor_value=json.dumps(state, default=str), count=count)
        position = hashlib.sha256(
            json.dumps(state["pull"], sort_keys=True, default=str).encode()
        ).hexdigest()[:24]
        return self.backend.sudo()._enqueue(
            "stream.pull",
            {"stream_id": stream.id, "code": stream.code, "next_page": True},
            idempotency_key=f"pull:{stream.id}:page:{position}",
            record_key=f"stream:{stream.id}",
            direction="inbound",
            source=job.source,
            priority=PULL_PRIORITY,
        )

    def pull_done(self, stream, state, cursor_date, count):
        """The pull read its last page: the cursor moves to the newest change it saw."""
        state.pop("pull", None)
        stream._record_pull_result(
            new_cursor_date=cursor_date,
            new_cursor_value=json.dumps(state, default=str) if state else "",
            count=count,
        )
        return stream

    def queue_deals(self, deals, source="pull"):
        """Queue what the pulled deals need: a deal sync (amendment check) for converted deals,
        the engagement job for new won ones. Returns the deals queued."""
        backend = self.backend
        bound = backend._crm_bound_ids("deal", [deal["id"] for deal in deals])
        wanted = [deal for deal in deals if backend._crm_wanted(deal, bound)]
        syncs = [deal for deal in wanted if deal["id"] in bound]
        self.env["connector.job"]._enqueue_many(backend, self.deal_specs(syncs, source))
        new = [deal for deal in wanted if deal["id"] not in bound]
        self.env["connector.crm.engagement"]._queue_engagements(backend, new, source)
        return wanted

    def deal_specs(self, deals, source="pull"):
        """Job specs for normalized deals: keyed by deal and version, ordered per deal."""
        return [
            {
                "operation": OP_DEAL_SYNC,
                "payload": {"deal_id": deal["id"], "deal": deal},
                "idempotency_key": f"deal:{deal['id']}:"
                f"{deal.get('modified') or shapes.fingerprint(deal)[:16]}",
                "record_key": f"deal:{deal['id']}",
                "direction": "inbound",
                "source": source,
            }
            for deal in deals
        ]

    def deleted_deal_specs(self, deal_ids, key_prefix, source):
        return [
            {
                "operation": OP_DEAL_SYNC,
                "payload": {"deal_id": deal_id, "deleted": True},
                "idempotency_key": f"{key_prefix}:{deal_id}",
                "record_key": f"deal:{deal_id}",
                "direction": "inbound",
                "source": source,
            }
            for deal_id in deal_ids
        ]

    def partner_specs(self, obj, records, source="pull"):
        return [
            {
                "operation": OP_PARTNER_SYNC,
                "payload": {"object": obj, "remote_id": values["id"], "values": values},
                "idempotency_key": f"{obj}:{values['id']}:{shapes.record_fingerprint(values)[:24]}",
                "record_key": f"{obj}:{values['id']}",
                "direction": "inbound",
                "source": source,
            }
            for values in records
        ]

    def event_specs(self, obj, remote_id, key, deleted=False):
        """The job of a webhook event about one CRM record (deal, account or contact)."""
        if obj == "deal":
            return {
                "operation": OP_DEAL_SYNC,
                "payload": {"deal_id": remote_id, "deleted": deleted},
                "idempotency_key": key,
                "record_key": f"deal:{remote_id}",
                "direction": "inbound",
                "source": "webhook",
            }
        return {
            "operation": OP_PARTNER_SYNC,
            "payload": {"object": obj, "remote_id": remote_id},
            "idempotency_key": key,
            "record_key": f"{obj}:{remote_id}",
            "direction": "inbound",
            "source": "webhook",
        }

    @staticmethod
    def newest_stamp(newest, stamps):
        """The latest of ``newest`` and the stamps (None ignored)."""
        for stamp in stamps:
            if stamp and (newest is None or stamp > newest):
                newest = stamp
        return newest

    # Push ------------------------------------------------------------------------------------

    def push(self, items):
        """``items``: [(kind, remote id, values)] with kind deal/account/contact; deal values are
        CRM field names already. Returns {index: error text} for the records refused."""
        raise NotImplementedError

    # Field names shown to people -------------------------------------------------------------

    def deal_remote_names(self):
        """Normalized deal field -> CRM field name, for deal fields Odoo may push."""
        po_number = self.deal_field_names()["po_number"]
        standard = dict(self.STANDARD_DEAL_FIELDS)
        return dict(standard, po_number=po_number) if po_number else standard

    def partner_field_names(self, obj):
        """Normalized partner field -> CRM field, for ``obj`` account or contact."""
        raise NotImplementedError

    def remote_field_label(self, obj, key):
        if obj == "deal":
            return self.deal_remote_names().get(key, key)
        table = self.partner_field_names(obj)
        if obj == "contact" and key == "name":
            return f"{table['first_name']} + {table['last_name']}"
        return table.get(key, key)
