"""Deals to engagements: creation, amendments, write-back. The CRM-agnostic core of the addon.

Handlers run inside a queue job's savepoint: when a deal is not ready, the BusinessError rolls
back everything the job did, so a deal either becomes a whole engagement or nothing.
"""

import json
import logging

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import amendments as amend
from ..engine import deals as shapes
from ..engine import ownership
from ..engine.readiness import Mappings, check

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
            deal = backend._crm("fetch_deal", deal_id) or {"id": deal_id, "deleted": True}
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
        digest = shapes.fingerprint(deal)
        if binding.payload_hash == digest:
            _logger.debug("deal %s: no change since the last sync (echo or duplicate)", deal["id"])
            return order
        self._amend(backend, binding, order, deal)
        binding.write({"payload_hash": digest, "last_sync_at": fields.Datetime.now()})
        return order

    @api.model
    def _queue_engagement(self, backend, deal, job=None):
        engagement = backend.sudo()._enqueue(
            "crm.engagement.create",
            {"deal_id": deal["id"], "deal": deal},
            idempotency_key=f"engagement:{deal['id']}",
            record_key=f"deal:{deal['id']}",
            direction="inbound",
            source=job.source if job else "system",
        )
        if engagement.state in ("pending", "needs_attention", "dead", "cancelled"):
            # A newer version of the deal: the engagement is built from it.
            self.env.cr.execute(
                "UPDATE connector_job SET payload = %s WHERE id = %s",
                (json.dumps({"deal_id": deal["id"], "deal": deal}, default=str), engagement.id),
            )
            engagement.invalidate_recordset(["payload"])
            if engagement.state == "cancelled":
                engagement.action_retry()
        return engagement

    # ------------------------------------------------------------------------------------------
    # Creation
    # ------------------------------------------------------------------------------------------

    @api.model
    def _mappings(self, backend):
        labels = dict(backend._crm_deal_field_names())
        value_maps = backend.crm_value_map_ids

        def table(kind, column):
            return {line.remote_value: line[column] for line in value_maps if line.kind == kind}

        products_by_id = {
            line.remote_id: line for line in backend.crm_product_map_ids if line.remote_id
        }
        products_by_code = {
            line.remote_code: line for line in backend.crm_product_map_ids if line.remote_code
        }

        def product(line):
            mapped = products_by_id.get(line.get("product_ref")) or products_by_code.get(
                line.get("product_code")
            )
            if not mapped:
                return None
            return mapped.product_id.id, mapped.billing_model or None

        def currency_ok(code, company_id):
            company = self.env["res.company"].browse(company_id)
            return self._pricelist_problem(code, company)

        def creates_project(product_id):
            product = self.env["product.product"].browse(product_id)
            return product.service_tracking in ("project_only", "task_in_project")

        return Mappings(
            crm_name=backend._crm_label(),
            field_labels=labels,
            legal_entities={k: v.id for k, v in table("legal_entity", "target_company_id").items()},
            tax_treatments={
                k: v.id for k, v in table("tax_treatment", "fiscal_position_id").items()
            },
            billing_models=table("billing_model", "billing_model"),
            templates={
                k: v.id for k, v in table("project_template", "template_project_id").items()
            },
            products=product,
            currency_ok=currency_ok,
            default_billing_model=backend.crm_default_billing_model or None,
            default_template=backend.crm_default_template_id.id or None,
            creates_project=creates_project,
        )

    @api.model
    def _currency(self, code, company):
        if not code:
            return company.currency_id
        return (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )

    @api.model
    def _pricelist(self, code, company):
        currency = self._currency(code, company)
        return self.env["product.pricelist"].search(
            [("currency_id", "=", currency.id), ("company_id", "in", (company.id, False))],
            order="company_id, sequence, id",
            limit=1,
        )

    @api.model
    def _pricelist_problem(self, code, company):
        currency = self._currency(code, company)
        if not currency:
            return _("currency %s is unknown in Odoo: activate it (Accounting > Currencies).", code)
        if not currency.active:
            return _(
                "currency %s is not active in Odoo: activate it (Accounting > Currencies).", code
            )
        # In the company's currency Odoo needs no pricelist (the default when pricelists are
        # not enabled); another currency is only reachable through a pricelist.
        if currency != company.currency_id and not self._pricelist(code, company):
            return _(
                "no pricelist in %(currency)s for %(company)s: enable pricelists (Sales > "
                "Configuration > Settings) and create one in %(currency)s (Sales > Products > "
                "Pricelists).",
                currency=currency.name,
                company=company.name,
            )
        return None

    @api.model
    def _create_engagement(self, backend, job):
        deal = self._deal_from_job(backend, job)
        binding = self._binding(backend, deal["id"])
        if binding:
            return binding._record()  # delivered again: the engagement exists (exactly once)
        if deal.get("deleted") or not deal.get("is_won"):
            return None  # lost or deleted before it was converted: nothing to create
        readiness = check(deal, self._mappings(backend))
        if not readiness.ready:
            raise BusinessError(
                _("Not ready to become an engagement; nothing was created.")
                + "\n- "
                + "\n- ".join(readiness.problems)
            )
        order = self._build_engagement(backend, deal, readiness)
        digest = shapes.fingerprint(deal)
        binding = self.env["connector.binding"]._bind(backend, order, DEAL, deal["id"])
        binding.sudo().write({"payload_hash": digest, "crm_push_pending": True})
        self.env["connector.crm.deal.version"].sudo().create(
            {
                "order_id": order.id,
                "backend_id": backend.id,
                "deal_id": deal["id"],
                "sequence": 1,
                "outcome": "created",
                "state": "applied",
                "summary": _("Engagement created from the won deal."),
                "snapshot": json.dumps(deal, default=str),
                "changes": "[]",
            }
        )
        order._crm_set_baseline(deal)
        order.message_post(
            body=_(
                "Created from %(crm)s deal %(name)s (%(id)s).",
                crm=backend._crm_label(),
                name=deal.get("name"),
                id=deal["id"],
            )
        )
        backend._crm_request_push()
        return order

    @api.model
    def _value_map(self, backend, kind, value):
        return backend.crm_value_map_ids.filtered(
            lambda line: line.kind == kind and line.remote_value == value
        )[:1]

    @api.model
    def _build_engagement(self, backend, deal, readiness):
        company = self.env["res.company"].browse(readiness.company_id)
        # As Odoo's own imports do: no field-tracking messages and no "created" notes on each
        # new record (projects, tasks, lines); the contract gets one message saying where it
        # came from, and the integration user does not follow every record it creates.
        env = self.with_company(company).with_context(**ENGAGEMENT_CREATE_CONTEXT).env
        Partner = env["res.partner"]
        partner = Partner._crm_apply_remote(backend, "account", deal["account"], create=True)
        for contact in deal.get("contacts") or []:
            Partner._crm_apply_remote(backend, "contact", contact, create=True, parent=partner)
        entity = self._value_map(backend, "legal_entity", deal["legal_entity"])
        terms = self._value_map(backend, "billing_model", deal.get("billing_model"))
        close_date = fields.Date.to_date(deal.get("close_date")) or fields.Date.context_today(self)
        values = {
            "partner_id": partner.id,
            "company_id": company.id,
            "pricelist_id": self._pricelist(deal.get("currency"), company).id,
            "client_order_ref": deal.get("po_number") or False,
            "origin": f"{backend._crm_label()} {deal['id']}",
            "crm_backend_id": backend.id,
            "crm_deal_id": deal["id"],
            "crm_deal_name": deal.get("name"),
            "crm_close_date": close_date,
            "crm_description": deal.get("description") or False,
            "crm_project_template_id": readiness.template_id or False,
            "ps_billing_cycle": terms.billing_cycle or "monthly",
            "ps_cap_amount": deal.get("cap_amount") or 0.0,
            "order_line": [
                Command.create(self._line_values(backend, line, product_id, model, close_date))
                for line, product_id, model in readiness.lines
            ],
        }
        if readiness.fiscal_position_id:
            values["fiscal_position_id"] = readiness.fiscal_position_id
        if entity.payment_term_id and not partner.with_company(company).property_payment_term_id:
            values["payment_term_id"] = entity.payment_term_id.id
        order = env["sale.order"].create(values)
        if terms.rate_card_id:
            terms.rate_card_id.sudo().copy(
                {
                    "name": f"{order.name}: {terms.rate_card_id.name}",
                    "level": "contract",
                    "sale_order_id": order.id,
                    "partner_id": partner.id,
                    "company_id": company.id,
                }
            )
        order.action_confirm()
        order.order_line._crm_link_milestones()
        return order

    @api.model
    def _line_values(self, backend, line, product_id, model, close_date, version=None):
        terms = self._value_map(backend, "billing_model", line.get("billing_model"))
        if not terms:
            terms = backend.crm_value_map_ids.filtered(
                lambda m: m.kind == "billing_model" and m.billing_model == model
            )[:1]
        values = {
            "product_id": product_id,
            "product_uom_qty": line.get("quantity") or 0.0,
            "price_unit": line.get("price_unit") or 0.0,
            "discount": line.get("discount") or 0.0,
            "ps_billing_model": model,
            "crm_line_id": line.get("id"),
        }
        if line.get("name"):
            values["name"] = line["name"]
        if version:
            values["crm_version_id"] = version.id
        if model == "fixed_fee":
            months = max(terms.service_months or 3, 1)
            values.update(
                ps_service_start=close_date,
                ps_service_end=close_date + relativedelta(months=months, days=-1),
            )
            count = max(terms.installment_count or 1, 1)
            interval = max(terms.installment_interval or 1, 1)
            share = round(100.0 / count, 4)
            values["ps_installment_ids"] = [
                Command.create(
                    {
                        "name": self.env._(
                            "Installment %(n)s of %(count)s", n=index + 1, count=count
                        ),
                        "date": close_date + relativedelta(months=index * interval),
                        "percentage": share
                        if index < count - 1
                        else round(100.0 - share * (count - 1), 4),
                    }
                )
                for index in range(count)
            ]
        elif model == "retainer":
            values.update(
                ps_retainer_included=terms.retainer_included or line.get("quantity") or 1.0,
                ps_retainer_unit=terms.retainer_unit or "hours",
                ps_retainer_period=terms.retainer_period or "monthly",
                ps_retainer_start=close_date,
                ps_rollover_rule=terms.rollover_rule or "none",
                ps_rollover_cap=terms.rollover_cap,
                ps_rollover_expiry=terms.rollover_expiry or 3,
                ps_overage_rate=terms.overage_rate,
            )
        return values

    # ------------------------------------------------------------------------------------------
    # Amendments
    # ------------------------------------------------------------------------------------------

    @api.model
    def _invoiced_by_line(self, order):
        return {
            line.crm_line_id: line.qty_invoiced for line in order.order_line if line.crm_line_id
        }

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
        return _(
            "%(crm)s deal '%(deal)s' (%(id)s) changed in a way Odoo does not apply to contract "
            "%(order)s by itself:\n- %(reasons)s\nRevert the change in %(crm)s and retry this "
            "item, or handle it by hand (credit note, new contract) and click 'Mark handled' on "
            "the deal version.",
            crm=backend._crm_label(),
            deal=deal.get("name"),
            id=deal["id"],
            order=order.name,
            reasons=reasons,
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
        deal = backend._crm("fetch_deal", payload["deal_id"]) or {
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
        order = version.order_id.sudo()
        backend = version.backend_id
        deal = version._snapshot()
        amendment = amend.compare(
            order._crm_baseline(), deal, self._invoiced_by_line(order), order.ps_billed_amount
        )
        refused = amendment.of(amend.REFUSED)
        if refused:
            raise BusinessError(
                _(
                    "This amendment can no longer be applied automatically (something was "
                    "invoiced meanwhile): %s",
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
                            "Added line %(line)s cannot be mapped: %(problems)s",
                            line=deal_line.get("name"),
                            problems="; ".join(readiness.problems),
                        )
                    )
                close_date = fields.Date.context_today(self)
                new_lines.append(
                    self._line_values(backend, deal_line, mapped[0], mapped[1], close_date, version)
                )
            elif change.field == "line" and line and not deal_line:
                line.write({"product_uom_qty": line.qty_invoiced, "crm_version_id": version.id})
            elif line and deal_line:
                updates = {
                    "product_uom_qty": deal_line["quantity"],
                    "price_unit": deal_line["price_unit"],
                    "discount": deal_line["discount"],
                }
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

    # ------------------------------------------------------------------------------------------
    # Outbound
    # ------------------------------------------------------------------------------------------

    @api.model
    def _push(self, backend, job):
        """Push every flagged binding of the backend: deal status and Odoo-owned fields."""
        payload = job._payload()
        domain = [("backend_id", "=", backend.id), ("crm_push_pending", "=", True)]
        if payload.get("binding_ids"):
            domain = [("id", "in", payload["binding_ids"])]
        bindings = self.env["connector.binding"].sudo().search(domain, order="id")
        writeback = backend._crm_writeback_fields()
        items = []
        for binding in bindings:
            record = binding._record()
            if not record:
                binding.crm_push_pending = False
                continue
            kind = binding.remote_type
            if kind == DEAL:
                values = record._crm_writeback_values(writeback)
                deal_push, _shared = ownership.outbound(
                    backend._crm_rules(DEAL), record._crm_deal_values(), binding._crm_synced()
                )
                names = backend._crm_deal_remote_names()
                values.update(
                    {names[key]: value for key, value in deal_push.items() if key in names}
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
        failures = backend._crm(
            "push", [(kind, binding.remote_id, values) for binding, kind, values, _d in items]
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
                    reverse = {v: k for k, v in backend._crm_deal_remote_names().items()}
                    synced.update({reverse[k]: v for k, v in values.items() if k in reverse})
                else:
                    synced.update(values)
                binding._crm_set_synced(synced)
        if failed:
            raise BusinessError(
                _(
                    "%(crm)s refused %(count)s of %(total)s updates (the others were written):\n- "
                    "%(errors)s\nFix the CRM fields (or the write-back field names on the "
                    "backend), then retry this job.",
                    crm=backend._crm_label(),
                    count=len(failed),
                    total=len(items),
                    errors="\n- ".join(failed),
                )
            )
        return None


def _text(value):
    if value in (None, False):
        return ""
    return str(value)
