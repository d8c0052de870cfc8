"""Won deals become engagements: customer and contacts, a confirmed contract in the mapped
legal entity, its project copied from the mapped template, billing terms per line.

Several deals per transaction: Odoo creates and confirms sale orders much faster together
(``create`` and ``action_confirm`` on many records) than one by one. The job of a deal also
creates the engagements of the next engagement jobs its runner claimed with it (the same claim,
not started yet: no other runner can hold them, and per-deal order is the queue's); when the
runner reaches those jobs, their engagement exists and they end at once. A deal that fails in a
batch fails alone: the batch is rolled back and made again deal by deal, each in its own
savepoint, and a deal that still fails is left to its own job, which records why (needs
attention, retry). Nothing is half-created: a deal becomes a whole engagement or nothing.
"""

import json
import logging

from dateutil.relativedelta import relativedelta
from markupsafe import escape

from odoo import Command, _, api, fields, models

from odoo.addons.connector_base.const import CTX_CORRELATION_ID, CTX_JOB_ID
from odoo.addons.connector_base.engine.errors import BusinessError
from odoo.addons.ps_billing_rules.engine.schedule import installment_schedule

from ..engine import deals as shapes
from ..engine.readiness import check
from .connector_crm_engagement import DEAL, ENGAGEMENT_CREATE_CONTEXT

_logger = logging.getLogger(__name__)

# Deals created in one transaction (the job's own and those of the jobs claimed with it).
ENGAGEMENT_BATCH = 10


class ConnectorCrmEngagementCreation(models.AbstractModel):
    _inherit = "connector.crm.engagement"

    @api.model
    def _create_engagement(self, backend, job):
        """Handler of ``crm.engagement.create``: the job's engagement (an exception when its
        deal is not ready), created with those of the jobs claimed with it."""
        deal = self._deal_from_job(backend, job)
        binding = self._binding(backend, deal["id"])
        if binding:
            return binding._record()  # created by a batch, or delivered again: exactly once
        if deal.get("deleted") or not deal.get("is_won"):
            return None  # lost or deleted before it was converted: nothing to create
        maps = self._mappings(backend)
        readiness = check(deal, maps)
        if not readiness.ready:
            raise BusinessError(
                _("Not ready to become an engagement; nothing was created.")
                + "\n- "
                + "\n- ".join(readiness.problems)
            )
        items = [(job, deal, readiness), *self._ready_peers(backend, job, maps)]
        orders = self._build_engagements(backend, items)
        if job.id not in orders:
            raise orders["errors"][job.id]
        return orders[job.id]

    @api.model
    def _engagement_peers(self, job):
        """Engagement jobs claimed together with ``job`` by its runner and not started yet."""
        self.env.cr.execute(
            """SELECT p.id FROM connector_job j
               JOIN connector_job p ON p.claimed_by = j.claimed_by AND p.backend_id = j.backend_id
               WHERE j.id = %s AND p.id > j.id AND p.state = 'running'
                 AND p.operation = j.operation
               ORDER BY p.id LIMIT %s""",
            (job.id, ENGAGEMENT_BATCH - 1),
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return job.browse(ids)

    @api.model
    def _ready_peers(self, backend, job, maps):
        """(job, deal, readiness) of the claimed peers whose deal is ready; the others are left
        to their own job (it reports why)."""
        deals = []
        for peer in self._engagement_peers(job):
            try:
                deal = self._deal_from_job(backend, peer)  # a retried job reads the CRM again
            except Exception:  # the peer's own job will meet it again and record it
                _logger.info("engagement job %s left to run alone", peer.id, exc_info=True)
                continue
            if not deal.get("deleted") and deal.get("is_won"):
                deals.append((peer, deal))
        bound = backend._crm_bound_ids(DEAL, [deal["id"] for _peer, deal in deals])
        ready = []
        for peer, deal in deals:
            if deal["id"] in bound:
                continue
            try:
                readiness = check(deal, maps)
            except Exception:
                _logger.info("engagement job %s left to run alone", peer.id, exc_info=True)
                continue
            if readiness.ready:
                ready.append((peer, deal, readiness))
        return ready

    # Building ----------------------------------------------------------------------------------

    @api.model
    def _build_engagements(self, backend, items):
        """Create the engagements of ``items`` ((job, deal, readiness)); returns {job id:
        order} and, under "errors", {job id: exception} of the deals that failed alone."""
        try:
            with self.env.cr.savepoint():
                return self._create_orders(backend, items)
        except Exception as exc:
            if len(items) == 1:
                raise
            _logger.warning(
                "engagement batch of %s deals failed (%s: %s): made again deal by deal",
                len(items),
                type(exc).__name__,
                str(exc).splitlines()[0][:300] if str(exc) else "",
            )
        orders, errors = {}, {}
        for item in items:
            job = item[0]
            try:
                with self.env.cr.savepoint():
                    job_env = self.with_context(
                        **{CTX_JOB_ID: job.id, CTX_CORRELATION_ID: job.correlation_id}
                    )
                    orders.update(job_env._create_orders(backend, [item]))
            except Exception as exc:
                errors[job.id] = exc
        orders["errors"] = errors
        return orders

    @api.model
    def _create_orders(self, backend, items):
        """Partners, orders (created and confirmed together, per company), bindings, deal
        versions and messages of ready deals."""
        result = {"errors": {}}
        by_company = {}
        for job, deal, readiness in items:
            by_company.setdefault(readiness.company_id, []).append((job, deal, readiness))
        Version = self.env["connector.crm.deal.version"].sudo()
        versions, bodies, reviews = [], {}, {}
        pricelists = {}  # (currency code, company id) -> pricelist: one look-up per batch
        for company_id, group in by_company.items():
            company = self.env["res.company"].browse(company_id)
            # As Odoo's own imports do: no field-tracking messages and no "created" notes on
            # each new record (projects, tasks, lines); the contract gets one message saying
            # where it came from, and the integration user does not follow what it creates.
            env = self.with_company(company).with_context(**ENGAGEMENT_CREATE_CONTEXT).env
            values = [
                self._order_values(backend, deal, readiness, env, company, pricelists)
                for _job, deal, readiness in group
            ]
            orders = env["sale.order"].create(values)
            for (_job, deal, _readiness), order in zip(group, orders, strict=True):
                self._copy_rate_card(backend, deal, order)
            orders.action_confirm()
            orders.order_line._crm_link_milestones()
            for (job, deal, readiness), order in zip(group, orders, strict=True):
                binding = self.env["connector.binding"]._bind(
                    backend, order, DEAL, deal["id"], payload=shapes.fingerprint_payload(deal)
                )
                binding.sudo().write({"crm_push_pending": True})
                order._crm_set_baseline(deal)
                versions.append(self._first_version_values(backend, order, deal))
                bodies[order.id] = escape(
                    _(
                        "Created from %(crm)s deal %(name)s (%(id)s).",
                        crm=backend._crm_label(),
                        name=deal.get("name"),
                        id=deal["id"],
                    )
                )
                if readiness.warnings or readiness.term_warnings:
                    reviews[order] = readiness
                result[job.id] = order
        Version.create(versions)
        orders = self.env["sale.order"].browse(bodies)
        orders._message_log_batch(bodies=bodies)
        for order, readiness in reviews.items():
            reason = "\n".join(readiness.warnings + readiness.term_warnings)
            if readiness.warnings and readiness.term_warnings:
                summary = _("Check taxes and periodic terms before invoicing")
            elif readiness.warnings:
                summary = _("Check taxes before invoicing")
            else:
                summary = _("Check the periodic terms before invoicing")
            order._crm_flag_review(reason, summary=summary, note=_("CRM: %s", reason))
        backend._crm_request_push()
        return result

    @api.model
    def _order_values(self, backend, deal, readiness, env, company, pricelists=None):
        Partner = env["res.partner"]
        partner = Partner._crm_apply_remote(backend, "account", deal["account"], create=True)
        for contact in deal.get("contacts") or []:
            Partner._crm_apply_remote(backend, "contact", contact, create=True, parent=partner)
        entity = self._value_map(backend, "legal_entity", deal.get("legal_entity"))
        terms = self._value_map(backend, "billing_model", deal.get("billing_model"))
        close_date = fields.Date.to_date(deal.get("close_date")) or fields.Date.context_today(self)
        values = {
            "partner_id": partner.id,
            "company_id": company.id,
            "pricelist_id": self._cached_pricelist(deal.get("currency"), company, pricelists),
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
                Command.create(
                    self._line_values(
                        backend,
                        line,
                        product_id,
                        model,
                        close_date,
                        price=readiness.prices.get(line.get("id")),
                        periodic=readiness.periodic.get(line.get("id")),
                    )
                )
                for line, product_id, model in readiness.lines
            ],
        }
        if readiness.fiscal_position_id:
            values["fiscal_position_id"] = readiness.fiscal_position_id
        if entity.payment_term_id and not partner.with_company(company).property_payment_term_id:
            values["payment_term_id"] = entity.payment_term_id.id
        return values

    @api.model
    def _cached_pricelist(self, code, company, cache=None):
        cache = {} if cache is None else cache
        key = (code, company.id)
        if key not in cache:
            cache[key] = self._pricelist(code, company).id
        return cache[key]

    @api.model
    def _copy_rate_card(self, backend, deal, order):
        terms = self._value_map(backend, "billing_model", deal.get("billing_model"))
        if terms.rate_card_id:
            terms.rate_card_id.sudo().copy(
                {
                    "name": f"{order.name}: {terms.rate_card_id.name}",
                    "level": "contract",
                    "sale_order_id": order.id,
                    "partner_id": order.partner_id.id,
                    "company_id": order.company_id.id,
                }
            )

    @api.model
    def _first_version_values(self, backend, order, deal):
        return {
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

    @api.model
    def _value_map(self, backend, kind, value):
        return backend.crm_value_map_ids.filtered(
            lambda line: line.kind == kind and line.remote_value == value
        )[:1]

    @api.model
    def _line_values(
        self, backend, line, product_id, model, close_date, version=None, price=None, periodic=None
    ):
        """Values of the contract line of a deal line. ``price``: the (unit price, discount)
        that give the CRM's line total (readiness.prices); the CRM's own values otherwise.
        ``periodic``: the line's periodic terms (readiness.periodic, engine/periodic.py): the
        line then sells the whole term (its quantity and total), billed in ``periods`` fees
        from the CRM's billing start date (else the close date), and no further."""
        terms = self._value_map(backend, "billing_model", line.get("billing_model"))
        if not terms:
            terms = backend.crm_value_map_ids.filtered(
                lambda m: m.kind == "billing_model" and m.billing_model == model
            )[:1]
        quantity = periodic.quantity if periodic else line.get("quantity") or 0.0
        values = {
            "product_id": product_id,
            "product_uom_qty": quantity,
            "price_unit": price[0] if price else line.get("price_unit") or 0.0,
            "discount": price[1] if price else line.get("discount") or 0.0,
            "ps_billing_model": model,
            "crm_line_id": line.get("id"),
        }
        if line.get("name"):
            values["name"] = line["name"]
        if version:
            values["crm_version_id"] = version.id
        start = close_date
        if periodic and periodic.start:
            start = fields.Date.to_date(periodic.start)
        if model == "fixed_fee":
            values.update(self._installment_values(line, terms, start, periodic, values))
        elif model == "retainer":
            values.update(
                ps_retainer_included=terms.retainer_included or line.get("quantity") or 1.0,
                ps_retainer_unit=terms.retainer_unit or "hours",
                ps_retainer_period=periodic.terms.period
                if periodic
                else terms.retainer_period or "monthly",
                ps_retainer_start=start,
                ps_rollover_rule=terms.rollover_rule or "none",
                ps_rollover_cap=terms.rollover_cap,
                ps_rollover_expiry=terms.rollover_expiry or 3,
                ps_overage_rate=terms.overage_rate,
            )
            if periodic:
                values["ps_period_count"] = periodic.periods
        return values

    @api.model
    def _installment_values(self, line, terms, start, periodic, values):
        """Service period and installments of a fixed fee, scheduled by ps_billing_rules
        (engine.schedule.installment_schedule: exact shares, the last takes the remainder). A
        recurring CRM line billed as a fixed fee gets one installment per billing period of its
        term; another, the billing model mapping's installments."""
        if periodic:
            count, interval = periodic.periods, periodic.months_per_period
            months = count * interval
        else:
            count = max(terms.installment_count or 1, 1)
            interval = max(terms.installment_interval or 1, 1)
            months = max(terms.service_months or 3, 1)
        total = periodic.amount if periodic else line.get("amount")
        if total is None:
            total = (
                values["product_uom_qty"] * values["price_unit"] * (1 - values["discount"] / 100.0)
            )
        plan = installment_schedule(total, count, start, interval)
        return {
            "ps_service_start": start,
            "ps_service_end": start + relativedelta(months=months, days=-1),
            "ps_installment_ids": [
                Command.create(
                    {
                        "name": self.env._(
                            "Installment %(n)s of %(count)s", n=index + 1, count=count
                        ),
                        "date": day,
                        "percentage": percentage,
                    }
                )
                for index, (day, percentage, _amount) in enumerate(plan)
            ],
        }
