"""Write-back: deal status and Odoo-owned fields pushed to the CRM, only what changed."""

import logging

from odoo import _, api, models

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import deals as shapes
from ..engine import ownership
from .connector_crm_engagement import DEAL

_logger = logging.getLogger(__name__)


class ConnectorCrmEngagementPush(models.AbstractModel):
    _inherit = "connector.crm.engagement"

    # ------------------------------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------------------------------

    @api.model
    def _push_records(self, bindings):
        """{binding id: its Odoo record}, browsed together per model so that computing their
        status reads invoices, projects and milestones for all of them at once."""
        records = {}
        by_model = {}
        for binding in bindings:
            if binding.res_model and binding.res_id:
                by_model.setdefault(binding.res_model, []).append(binding)
        for model, group in by_model.items():
            existing = self.env[model].browse([b.res_id for b in group]).exists()
            for binding in group:
                if binding.res_id in existing._ids:
                    records[binding.id] = existing.browse(binding.res_id).with_prefetch(
                        existing._prefetch_ids
                    )
        return records

    @api.model
    def _push(self, backend, job):
        """Push every flagged binding of the backend: deal status and Odoo-owned fields."""
        payload = job._payload()
        domain = [("backend_id", "=", backend.id), ("crm_push_pending", "=", True)]
        if payload.get("binding_ids"):
            domain = [("id", "in", payload["binding_ids"])]
        bindings = self.env["connector.binding"].sudo().search(domain, order="id")
        adapter = backend._adapter()
        remote_names = adapter.deal_remote_names()
        writeback = backend._crm_writeback_fields()
        records = self._push_records(bindings)
        items = []
        for binding in bindings:
            record = records.get(binding.id)
            if not record:
                binding.crm_push_pending = False
                continue
            kind = binding.remote_type
            if kind == DEAL:
                values = record._crm_writeback_values(writeback)
                deal_push, _shared = ownership.outbound(
                    backend._crm_rules(DEAL), record._crm_deal_values(), binding._crm_synced()
                )
                values.update(
                    {
                        remote_names[key]: value
                        for key, value in deal_push.items()
                        if key in remote_names
                    }
                )
            else:
                values, _shared = ownership.outbound(
                    backend._crm_rules(kind), record._crm_odoo_values(kind), binding._crm_synced()
                )
                open_conflicts = set(
                    self.env["connector.crm.conflict"]
                    .sudo()
                    .search([("binding_id", "=", binding.id), ("state", "=", "open")])
                    .mapped("field_key")
                )
                values = {k: v for k, v in values.items() if k not in open_conflicts}
            digest = shapes.record_fingerprint(values)
            if not values or digest == binding.crm_pushed_hash:
                binding.crm_push_pending = False
                continue
            items.append((binding, kind, values, digest))
        if not items:
            return None
        failures = adapter.push(
            [(kind, binding.remote_id, values) for binding, kind, values, _d in items]
        )
        failed = []
        for index, (binding, kind, values, digest) in enumerate(items):
            if index in failures:
                failed.append(
                    f"{kind} {binding.remote_id} ({binding.record_name}): {failures[index]}"
                )
                continue
            updates = {"crm_push_pending": False, "crm_pushed_hash": digest}
            binding.write(updates)
            if kind != DEAL or set(values) - set(writeback.values()):
                synced = binding._crm_synced()
                if kind == DEAL:
                    reverse = {v: k for k, v in remote_names.items()}
                    synced.update({reverse[k]: v for k, v in values.items() if k in reverse})
                else:
                    synced.update(values)
                binding._crm_set_synced(synced)
        if failed:
            raise BusinessError(
                _(
                    "%(crm)s refused %(count)s of %(total)s updates (the others were written):\n- "
                    "%(errors)s\nFix the CRM fields (create them, or let the integration user "
                    "edit them; a %(crm)s administrator can) or clear their names among the "
                    "write-back fields of the backend's Deals tab (%(managers)s), then retry this "
                    "job (Connector Users can).",
                    crm=backend._crm_label(),
                    count=len(failed),
                    total=len(items),
                    errors="\n- ".join(failed),
                    managers=self._fixers(backend)["mappings"],
                )
            )
        return None
