"""Amendments of converted deals: versions, direct changes under field ownership, approval,
refused changes, conflicts."""

import json
import logging

from odoo import Command, _, api, fields, models

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import amendments as amend
from ..engine import deals as shapes
from ..engine import ownership
from ..engine.readiness import check
from .connector_crm_engagement import DEAL

_logger = logging.getLogger(__name__)


class ConnectorCrmEngagementAmendments(models.AbstractModel):
    _inherit = "connector.crm.engagement"

    # ------------------------------------------------------------------------------------------
    # Amendments
    # ------------------------------------------------------------------------------------------

    @api.model
    def _invoiced_by_line(self, order):
        """CRM line id -> quantity invoiced, in the CRM line's unit: a periodic line sells its
        CRM quantity over several periods (1 x 2,000 a month for a year is 12 in Odoo), so what
        is invoiced is scaled back to the CRM's quantity before it is compared with it."""
        baseline = {
            line.get("id"): line.get("quantity") or 0.0
            for line in order._crm_baseline().get("lines") or []
        }
        invoiced = {}
        for line in order.order_line.filtered("crm_line_id"):
            done = line.qty_invoiced
            crm_quantity = baseline.get(line.crm_line_id)
            if crm_quantity and line.product_uom_qty and crm_quantity != line.product_uom_qty:
                done = done * crm_quantity / line.product_uom_qty
            invoiced[line.crm_line_id] = done
        return invoiced

    @api.model
    def _amend(self, backend, binding, order, deal):
        baseline = order._crm_baseline()
        if deal.get("deleted"):
            amendment = amend.Amendment(review=amend.lifecycle(baseline, deal))
        else:
            amendment = amend.compare(
                baseline, deal, self._invoiced_by_line(order), billed=order.ps_billed_amount
            )
        Version = self.env["connector.crm.deal.version"].sudo()
        if not amendment.changes and not amendment.review:
            return None
        sequence = (max(order.crm_version_ids.mapped("sequence") or [0])) + 1
        outcome = amendment.outcome
        if amendment.review and not amendment.changes:
            outcome, state = "review", "review"
        elif outcome == amend.REFUSED:
            state = "refused"
        elif outcome == amend.APPROVAL:
            state = "pending"
        else:
            state = "applied"
        version = Version.create(
            {
                "order_id": order.id,
                "backend_id": backend.id,
                "deal_id": deal["id"],
                "sequence": sequence,
                "outcome": outcome,
                "state": state,
                "summary": amendment.summary(),
                "changes": json.dumps(
                    [change.as_dict() for change in amendment.changes], default=str
                ),
                "snapshot": json.dumps(deal, default=str),
            }
        )
        if amendment.review:
            order._crm_flag_review(amendment.review, version)
            if deal.get("deleted"):
                return version
        direct = amendment.of(amend.DIRECT)
        if direct and state in ("applied", "pending"):
            self._apply_direct(backend, binding, order, deal, direct)
        if state == "pending":
            older = order.crm_version_ids.filtered(lambda v: v.state == "pending" and v != version)
            older.write({"state": "superseded"})
            order._crm_ask_approval(version)
        elif state == "refused":
            job = backend.sudo()._enqueue(
                "crm.amendment.review",
                {"deal_id": deal["id"], "version_id": version.id},
                idempotency_key=f"amendment-refused:{version.id}",
                state="needs_attention",
                direction="inbound",
                last_error=self._refused_message(backend, order, deal, amendment),
            )
            version.job_id = job
        return version

    @api.model
    def _refused_message(self, backend, order, deal, amendment):
        reasons = "\n- ".join(
            f"{change.label}: {change.old!r} → {change.new!r}"
            + (f" ({change.reason})" if change.reason else "")
            for change in amendment.of(amend.REFUSED)
        )
        managers = order._crm_billing_managers().filtered(
            lambda user: user.has_group("ps_billing_rules.group_billing_manager")
        )
        return _(
            "%(crm)s deal '%(deal)s' (%(id)s) changed in a way Odoo does not apply to contract "
            "%(order)s by itself:\n- %(reasons)s\nEither revert the change in %(crm)s (the "
            "deal's owner or a %(crm)s administrator can) and retry this item (Connector Users "
            "can), or handle it by hand (credit note, new contract) and click 'Mark handled' on "
            "the deal version (Billing Managers can%(names)s).",
            crm=backend._crm_label(),
            deal=deal.get("name"),
            id=deal["id"],
            order=order.name,
            reasons=reasons,
            names=": " + ", ".join(managers.mapped("name")[:3]) if managers else "",
        )

    @api.model
    def _review_refused_amendment(self, backend, job):
        """Retry of a refused amendment: read the deal again; if it no longer carries a refused
        change, process it as a normal amendment."""
        payload = job._payload()
        version = (
            self.env["connector.crm.deal.version"].sudo().browse(payload["version_id"]).exists()
        )
        if not version or version.state != "refused":
            return None
        deal = backend._adapter().fetch_deal(payload["deal_id"]) or {
            "id": payload["deal_id"],
            "deleted": True,
        }
        order = version.order_id
        if deal.get("deleted"):
            amendment = amend.Amendment(review=amend.lifecycle(order._crm_baseline(), deal))
        else:
            amendment = amend.compare(
                order._crm_baseline(), deal, self._invoiced_by_line(order), order.ps_billed_amount
            )
        if amendment.of(amend.REFUSED):
            raise BusinessError(self._refused_message(backend, order, deal, amendment))
        version.write({"state": "superseded", "reason": _("Resolved in the CRM.")})
        binding = self._binding(backend, deal["id"])
        self._amend(backend, binding, order, deal)
        binding.write({"payload_hash": shapes.fingerprint(deal)})
        return order

    @api.model
    def _apply_direct(self, backend, binding, order, deal, changes):
        """Dates, descriptions, PO number, contacts: applied where field ownership allows."""
        rules = backend._crm_rules(DEAL)
        baseline = order._crm_baseline()
        synced = binding._crm_synced()
        crm_values = {key: deal.get(key) for key in rules}
        odoo_values = order._crm_deal_values()
        decision = ownership.decide(rules, crm_values, odoo_values, synced, creating=False)
        touched = {change.field for change in changes}
        writes = {key: value for key, value in decision.to_odoo.items() if key in touched}
        if writes:
            order._crm_write_deal_values(writes)
        self._record_conflicts(backend, binding, "deal", order, decision.conflicts)
        binding._crm_set_synced(ownership.agreed_after(synced, decision))
        if decision.to_crm:
            # The CRM no longer holds what was last pushed: push again even if unchanged.
            binding.write({"crm_push_pending": True, "crm_pushed_hash": False})
            backend._crm_request_push()
        if "contacts" in touched:
            partner = order.partner_id.commercial_partner_id
            for contact in deal.get("contacts") or []:
                self.env["res.partner"]._crm_apply_remote(
                    backend, "contact", contact, create=True, parent=partner
                )
        for change in changes:
            baseline[change.field] = deal.get(change.field)
        order._crm_set_baseline(baseline)

    @api.model
    def _apply_amendment(self, version):
        """An approved version: value changes reach the contract (change-order lines tagged
        with the version). Posted invoices are never touched."""
        # The decision is the Billing Manager's (checked by the caller); the backend's mappings
        # are read as the system, so the decider needs no connector rights.
        order = version.order_id.sudo()
        backend = version.backend_id.sudo()
        deal = version._snapshot()
        amendment = amend.compare(
            order._crm_baseline(), deal, self._invoiced_by_line(order), order.ps_billed_amount
        )
        refused = amendment.of(amend.REFUSED)
        if refused:
            raise BusinessError(
                _(
                    "This amendment can no longer be applied automatically (something was "
                    "invoiced meanwhile): %s. Reject it and handle the change by hand (credit "
                    "note, new contract).",
                    "; ".join(f"{c.label} ({c.reason})" for c in refused),
                )
            )
        readiness = check(deal, self._mappings(backend))
        models_by_line = {
            line["id"]: (product_id, model) for line, product_id, model in readiness.lines
        }
        lines_by_crm = {line.crm_line_id: line for line in order.order_line if line.crm_line_id}
        new_lines = []
        for change in amendment.changes:
            if change.field == "cap_amount":
                order.ps_cap_amount = deal.get("cap_amount") or 0.0
            if change.line_id is None:
                continue
            line = lines_by_crm.get(change.line_id)
            deal_line = next(
                (dl for dl in deal.get("lines") or [] if dl["id"] == change.line_id), None
            )
            if change.field == "line" and deal_line and not line:
                mapped = models_by_line.get(change.line_id)
                if not mapped:
                    raise BusinessError(
                        _(
                            "Added line %(line)s cannot be mapped: %(problems)s Approve again "
                            "once it is fixed.",
                            line=deal_line.get("name"),
                            problems="; ".join(readiness.problems),
                        )
                    )
                close_date = fields.Date.context_today(self)
                new_lines.append(
                    self._line_values(
                        backend,
                        deal_line,
                        mapped[0],
                        mapped[1],
                        close_date,
                        version,
                        price=readiness.prices.get(change.line_id),
                        periodic=readiness.periodic.get(change.line_id),
                    )
                )
            elif change.field == "line" and line and not deal_line:
                line.write({"product_uom_qty": line.qty_invoiced, "crm_version_id": version.id})
            elif line and deal_line:
                price = readiness.prices.get(change.line_id) or (
                    deal_line["price_unit"],
                    deal_line.get("discount") or 0.0,
                )
                updates = {
                    "product_uom_qty": deal_line["quantity"],
                    "price_unit": price[0],
                    "discount": price[1],
                }
                periodic = readiness.periodic.get(change.line_id)
                if periodic:
                    # The contract line sells the whole term: the CRM's quantity per period x
                    # the periods, in as many fees (a longer term extends the retainer).
                    updates["product_uom_qty"] = periodic.quantity
                    if line.ps_billing_model == "retainer":
                        updates["ps_period_count"] = periodic.periods
                elif line.ps_billing_model == "retainer":
                    raise BusinessError(
                        _(
                            "Retainer line %(line)s cannot be amended: %(problems)s Approve "
                            "again once it is fixed.",
                            line=deal_line.get("name"),
                            problems="; ".join(readiness.problems),
                        )
                    )
                if change.field == "billing_model" and models_by_line.get(change.line_id):
                    updates["ps_billing_model"] = models_by_line[change.line_id][1]
                line.write(updates)
        if new_lines:
            order.write({"order_line": [Command.create(values) for values in new_lines]})
            order.order_line.filtered(
                lambda so_line: so_line.crm_version_id == version
            )._crm_link_milestones()
        order._crm_set_baseline(deal)
        binding = self._binding(backend, deal["id"])
        if binding:
            binding.crm_push_pending = True
            backend._crm_request_push()

    @api.model
    def _record_conflicts(self, backend, binding, obj, record, conflicts):
        Conflict = self.env["connector.crm.conflict"].sudo()
        labels = {}
        from .connector_crm_field_rule import SYNCED_FIELDS

        for key, (_field, label) in SYNCED_FIELDS.get(obj, {}).items():
            labels[key] = label
        for key, odoo_value, crm_value in conflicts:
            existing = Conflict.search(
                [("binding_id", "=", binding.id), ("field_key", "=", key), ("state", "=", "open")]
            )
            values = {"odoo_value": _text(odoo_value), "crm_value": _text(crm_value)}
            if existing:
                existing.write(values)
                continue
            Conflict.create(
                dict(
                    values,
                    backend_id=backend.id,
                    binding_id=binding.id,
                    object=obj,
                    res_model=record._name,
                    res_id=record.id,
                    record_name=record.display_name,
                    field_key=key,
                    field_label=labels.get(key, key),
                )
            )

    @api.model
    def _resolve_conflict(self, conflict, winner):
        binding = conflict.binding_id.sudo()
        record = self.env[conflict.res_model].browse(conflict.res_id).exists()
        if not record:
            return
        synced = binding._crm_synced()
        key = conflict.field_key
        if winner == "crm":
            value = conflict.crm_value
            if conflict.object == DEAL:
                record._crm_write_deal_values({key: value})
            else:
                record._crm_write_values(conflict.object, {key: value})
            synced[key] = value
        else:
            values = (
                record._crm_deal_values()
                if conflict.object == DEAL
                else record._crm_odoo_values(conflict.object)
            )
            # Forget the agreed value: the next push sends Odoo's value.
            synced.pop(key, None)
            binding.write({"crm_push_pending": True, "crm_pushed_hash": False})
            conflict.backend_id._crm_request_push()
            _logger.debug("conflict %s: Odoo value %r kept", conflict.id, values.get(key))
        binding._crm_set_synced(synced)


def _text(value):
    if value in (None, False):
        return ""
    return str(value)
