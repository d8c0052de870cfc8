"""Inbound deals and engagement creation: the CRM-agnostic core of the addon (amendments and
write-back extend this model in connector_crm_engagement_amendments.py and _push.py).

Handlers run inside a queue job's savepoint: when a deal is not ready, the BusinessError rolls
back everything the job did, so a deal either becomes a whole engagement or nothing.
"""

import json
import logging

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import deals as shapes
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
