"""Inbound deals: the CRM-agnostic core of the addon. A pulled or delivered deal is either
queued as an engagement (a new won deal) or compared with its contract (an amendment).

The model is extended by concern: creation (connector_crm_engagement_creation.py, with its
mappings in _mappings.py), amendments (_amendments.py) and the write-back (_push.py).
"""

import json
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import deals as shapes

_logger = logging.getLogger(__name__)

DEAL = "deal"


ENGAGEMENT_CREATE_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class ConnectorCrmEngagement(models.AbstractModel):
    _name = "connector.crm.engagement"
    _description = "CRM deals to engagements"

    # ------------------------------------------------------------------------------------------
    # Inbound deal changes
    # ------------------------------------------------------------------------------------------

    @api.model
    def _job_has_run_before(self, job):
        """A retried job (by hand or after a failure) re-reads the deal: its payload may be the
        very data that needed fixing in the CRM."""
        return bool(job.attempt_ids)

    @api.model
    def _deal_from_job(self, backend, job):
        payload = job._payload()
        deal_id = str(payload["deal_id"])
        if payload.get("deleted"):
            return {"id": deal_id, "deleted": True}
        deal = payload.get("deal")
        if deal is None or self._job_has_run_before(job):
            deal = backend._adapter().fetch_deal(deal_id) or {"id": deal_id, "deleted": True}
        return deal

    @api.model
    def _binding(self, backend, deal_id):
        return (
            self.env["connector.binding"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("remote_type", "=", DEAL),
                    ("remote_id", "=", str(deal_id)),
                ],
                limit=1,
            )
        )

    @api.model
    def _sync_deal(self, backend, job):
        deal = self._deal_from_job(backend, job)
        binding = self._binding(backend, deal["id"])
        if not binding:
            if not backend._crm_wanted(deal, set()):
                return None
            return self._queue_engagement(backend, deal, job)
        order = binding._record()
        if not order:
            return None  # the contract was deleted in Odoo: nothing to amend
        compared = shapes.fingerprint_payload(deal)
        if binding._is_echo(compared):
            _logger.debug("deal %s: no change since the last sync (echo or duplicate)", deal["id"])
            return order
        self._amend(backend, binding, order, deal)
        binding.write(
            {"payload_hash": shapes.fingerprint(deal), "last_sync_at": fields.Datetime.now()}
        )
        return order

    @api.model
    def _queue_engagement(self, backend, deal, job=None):
        return self._queue_engagements(backend, [deal], job.source if job else "system")[:1]

    @api.model
    def _queue_engagements(self, backend, deals, source="system"):
        """One ``crm.engagement.create`` job per new won deal, keyed by deal: queued once, and
        a pending or failed one takes the newest version of its deal (retried if cancelled).
        A deal whose engagement job ended without an engagement (lost or deleted when it ran,
        won again since) gets a new job for this version."""
        if not deals:
            return self.env["connector.job"]
        Job = self.env["connector.job"].sudo()
        jobs = Job._enqueue_many(backend, [self._engagement_spec(deal, source) for deal in deals])
        pairs = list(zip(deals, jobs, strict=True))
        ended = [deal for deal, job in pairs if job.state == "done"]
        bound = backend._crm_bound_ids(DEAL, [deal["id"] for deal in ended])
        renewed = [deal for deal in ended if deal["id"] not in bound]
        if renewed:
            specs = [self._engagement_spec(deal, source, versioned=True) for deal in renewed]
            pairs += list(zip(renewed, Job._enqueue_many(backend, specs), strict=True))
        newer = [
            (job.id, json.dumps({"deal_id": deal["id"], "deal": deal}, default=str))
            for deal, job in pairs
            if job.state in ("pending", "needs_attention", "dead", "cancelled")
        ]
        if newer:
            # A newer version of the deal: the engagement is built from it.
            self.env.cr.execute(
                SQL(
                    """UPDATE connector_job j SET payload = v.payload
                       FROM (VALUES %s) AS v(id, payload)
                       WHERE j.id = v.id AND j.payload IS DISTINCT FROM v.payload""",
                    SQL(", ").join(SQL("(%s, %s)", job_id, payload) for job_id, payload in newer),
                )
            )
        jobs = Job.union(*(job for _deal, job in pairs))
        jobs.invalidate_recordset(["payload"])
        cancelled = jobs.filtered(lambda job: job.state == "cancelled")
        if cancelled:
            cancelled.action_retry()
        return jobs

    @api.model
    def _engagement_spec(self, deal, source, versioned=False):
        key = f"engagement:{deal['id']}"
        if versioned:
            key += f":{deal.get('modified') or shapes.fingerprint(deal)[:16]}"
        return {
            "operation": "crm.engagement.create",
            "payload": {"deal_id": deal["id"], "deal": deal},
            "idempotency_key": key,
            "record_key": f"deal:{deal['id']}",
            "direction": "inbound",
            "source": source,
        }
