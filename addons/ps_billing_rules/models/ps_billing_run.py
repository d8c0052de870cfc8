import logging
import resource
import time
from datetime import timedelta

from odoo import _, api, fields, models

from ..engine import periods
from ..engine.billing_items import ConcurrentBilling
from ..engine.constants import (
    CTX_BILLING_TRACE,
    REPORT_CONCURRENT,
    REPORT_ERROR,
    RUN_DONE,
    RUN_DRAFT,
    RUN_ORIGINS,
    RUN_QUEUED,
    RUN_RUNNING,
    RUN_STATES,
)

_logger = logging.getLogger(__name__)

# Billing groups per batched invoice creation and commit: a tenth of the run, between these
# bounds (small runs commit often, large ones create invoices in bigger batches; memory is
# bounded by the largest chunk whatever the number of contracts).
CHUNK_MIN, CHUNK_MAX = 25, 100
BUS_PROGRESS = "ps_billing_run_progress"  # bus notification type of a run's progress


class PsBillingRun(models.Model):
    """A billing run: turns approved, unbilled, unheld work of governed contracts into draft
    invoices, one billing group (contract or customer) per transaction, and reports what it
    created and what it skipped, with the reason."""

    _name = "ps.billing.run"
    _description = "Billing Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, default=lambda self: _("Billing run"))
    origin = fields.Selection(RUN_ORIGINS, default="manual", required=True)
    period_end = fields.Date(
        required=True,
        default=lambda self: (
            periods.month_start(fields.Date.context_today(self)) - timedelta(days=1)
        ),
        help="Work up to this day is billed (weekly contracts up to the last Sunday, monthly "
        "contracts up to the last month end on or before it).",
    )
    invoice_date = fields.Date(required=True, default=fields.Date.context_today)
    respect_cycle = fields.Boolean(default=True)
    company_ids = fields.Many2many(
        "res.company", string="Companies", default=lambda self: self.env.company
    )
    partner_ids = fields.Many2many("res.partner", string="Customers", help="Empty: every customer.")
    order_ids = fields.Many2many(
        "sale.order", string="Contracts", help="Empty: every governed contract."
    )
    state = fields.Selection(RUN_STATES, default=RUN_DRAFT, required=True, tracking=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    pending_groups = fields.Json(
        readonly=True, help="The billing groups of the run (order ids), done up to done_count."
    )
    group_count = fields.Integer(string="Groups", readonly=True)
    done_count = fields.Integer(string="Groups done", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    line_ids = fields.One2many("ps.billing.run.line", "run_id", string="Report")
    invoice_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    invoice_count = fields.Integer(compute="_compute_counts")
    skipped_count = fields.Integer(compute="_compute_counts")
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    # Odoo's "Create Invoice" with a timesheet period: time before this day is not billed.
    period_start = fields.Date(
        readonly=True, help="Time before this day is left for a later invoice (empty: all)."
    )
    deduct_down_payments = fields.Boolean(
        default=True,
        readonly=True,
        help="Down payments invoiced on the contracts are deducted from their next invoices "
        '(Odoo\'s "Deduct down payments" of Create Invoice).',
    )

    @api.depends("group_count", "done_count", "state")
    def _compute_progress(self):
        for run in self:
            run.progress = (
                100.0
                if run.state == RUN_DONE
                else (100.0 * run.done_count / run.group_count if run.group_count else 0.0)
            )

    @api.depends("invoice_ids", "line_ids.line_type")
    def _compute_counts(self):
        for run in self:
            run.invoice_count = len(run.invoice_ids)
            run.skipped_count = len(run.line_ids.filtered(lambda line: line.line_type == "skip"))

    # ------------------------------------------------------------------------------------------
    # Selecting contracts and groups
    # ------------------------------------------------------------------------------------------

    def _contracts(self):
        self.ensure_one()
        domain = [("ps_governed", "=", True), ("state", "=", "sale")]
        if self.order_ids:
            domain.append(("id", "in", self.order_ids.ids))
        if self.company_ids:
            domain.append(("company_id", "in", self.company_ids.ids))
        if self.partner_ids:
            domain.append(("partner_id", "child_of", self.partner_ids.ids))
        return self.env["sale.order"].sudo().search(domain, order="id")

    def _billing_groups(self, orders):
        """Lists of order ids billed on one invoice: per contract, or per customer (company,
        invoice address, currency) for contracts that ask for one invoice per customer."""
        groups, by_customer = [], {}
        for order in orders:
            if order.ps_invoice_grouping == "customer":
                key = (
                    order.company_id.id,
                    order.partner_invoice_id.commercial_partner_id.id,
                    order.currency_id.id,
                )
                by_customer.setdefault(key, []).append(order.id)
            else:
                groups.append([order.id])
        return groups + list(by_customer.values())

    # ------------------------------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------------------------------

    def action_start(self):
        """Queue the run; the billing cron works through it in bounded batches."""
        for run in self.filtered(lambda r: r.state == RUN_DRAFT):
            groups = run._billing_groups(run._contracts())
            run.write(
                {
                    "state": RUN_QUEUED,
                    "pending_groups": groups,
                    "group_count": len(groups),
                    "done_count": 0,
                    "started_at": fields.Datetime.now(),
                }
            )
        self.env.ref("ps_billing_rules.ir_cron_process_billing_runs")._trigger()
        return True

    def action_run_now(self):
        """Process the whole run in this request (small runs, tests)."""
        self.action_start()
        self._process(time_budget=None)
        return True

    def _process(self, time_budget=60, chunk_size=None):
        """Bill pending groups until done or the time budget (seconds) is spent.

        Groups are billed ``chunk_size`` at a time (one batched invoice creation, one commit;
        default: a tenth of the run between CHUNK_MIN and CHUNK_MAX);
        a chunk that fails is billed again group by group, so that one bad contract is reported
        without holding up the others. ``pending_groups`` is fixed when the run starts and
        ``done_count`` points at the next group. A list in the context key ``ps_billing_trace``
        receives (order ids, start, end) per chunk: the concurrency tests use it to prove that
        two runs overlapped.
        """
        deadline = time.monotonic() + time_budget if time_budget else None
        trace = self.env.context.get(CTX_BILLING_TRACE)
        done = 0
        for run_id in self.filtered(lambda r: r.state in (RUN_QUEUED, RUN_RUNNING)).ids:
            run = self.browse(run_id)
            run.state = RUN_RUNNING
            holds = self.env["ps.billing.hold"]._active_holds_index(run.company_ids.ids)
            groups = run.pending_groups or []
            size = chunk_size or max(CHUNK_MIN, min(CHUNK_MAX, -(-len(groups) // 10)))
            while run.done_count < len(groups):
                if deadline and time.monotonic() > deadline:
                    break
                chunk = groups[run.done_count : run.done_count + size]
                started = time.time()
                run._bill_chunk(chunk, holds)
                run._flush_report()
                run.done_count += len(chunk)
                done += len(chunk)
                run._notify_progress()
                self.env["ir.cron"]._commit_progress()
                if trace is not None:
                    trace.append((chunk, started, time.time(), _rss_mb()))
                # Memory stays flat however many contracts: nothing of a chunk stays cached.
                self.env.invalidate_all()
            if run.done_count >= len(groups):
                run.write({"state": RUN_DONE, "finished_at": fields.Datetime.now()})
                run._post_summary()
                run._notify_progress()
                self.env["ir.cron"]._commit_progress()
        remaining = sum(
            len(run.pending_groups or []) - run.done_count for run in self.browse(self.ids)
        )
        return done, remaining

    def _notify_progress(self):
        """Tell the web client of the run's user that it moved (the form refreshes itself)."""
        for run in self:
            run.user_id.partner_id._bus_send(
                BUS_PROGRESS,
                {
                    "run_id": run.id,
                    "state": run.state,
                    "done": run.done_count,
                    "total": run.group_count,
                },
            )

    def _chunk_orders(self, chunk):
        """The contracts of a chunk's groups still to bill (confirmed, governed), read at once."""
        all_ids = [order_id for order_ids in chunk for order_id in order_ids]
        billable = set(
            self.env["sale.order"]
            .sudo()
            .search([("id", "in", all_ids), ("state", "=", "sale"), ("ps_governed", "=", True)])
            .ids
        )
        Order = self.env["sale.order"].sudo().browse(all_ids)
        groups = []
        for order_ids in chunk:
            orders = Order.browse([oid for oid in order_ids if oid in billable]).with_prefetch(
                Order._ids
            )
            if orders:
                groups.append(orders)
        return groups

    def _bill_chunk(self, chunk, holds):
        """Bill a chunk of groups together; on any failure, each group on its own."""
        groups = self._chunk_orders(chunk)
        if not groups:
            return
        if len(groups) > 1:
            try:
                with self.env.cr.savepoint():
                    results = self._engine_bill(groups, holds)
            except Exception:  # retried group by group below, where the failure is reported
                _logger.info(
                    "billing run %s: a chunk failed, billing its groups one by one", self.id
                )
            else:
                for orders, result in zip(groups, results, strict=True):
                    self._report_group(orders, result)
                return
        for orders in groups:
            self._bill_one_group(orders, holds)

    def _engine_bill(self, groups, holds):
        return (
            self.env["ps.invoice.builder"]
            .sudo()
            ._bill_groups(
                groups,
                self.period_end,
                self.invoice_date,
                respect_cycle=self.respect_cycle,
                include_review=self.origin == "prebill",
                holds=holds,
                period_start=self.period_start,
                deduct_down_payments=self.deduct_down_payments,
            )
        )

    def _bill_one_group(self, orders, holds):
        try:
            with self.env.cr.savepoint():
                result = self._engine_bill([orders], holds)[0]
        except ConcurrentBilling:
            self._add_line(
                "error",
                orders,
                reason=REPORT_CONCURRENT,
                detail=_("another run billed some of these items first; nothing billed twice"),
            )
            return
        except Exception as exc:  # a group's failure never stops the run; it is reported
            if getattr(exc, "pgcode", None) in ("40001", "40P01", "55P03"):
                self._add_line(
                    "error",
                    orders,
                    reason=REPORT_CONCURRENT,
                    detail=_("another run is billing these contracts; nothing billed twice"),
                )
                return
            _logger.exception("billing run %s: contracts %s failed", self.id, orders.ids)
            self._add_line("error", orders, reason=REPORT_ERROR, detail=str(exc))
            return
        self._report_group(orders, result)

    def _report_group(self, orders, result):
        for order, what, reason, detail in result.skipped:
            self._add_line("skip", order, reason=reason, detail=f"{what}: {detail}")
        if result.invoice:
            self._add_line(
                "invoice",
                orders,
                invoice=result.invoice,
                detail=_(
                    "%(count)s item(s), %(amount)s untaxed",
                    count=len(result.billed),
                    amount=result.invoice.currency_id.format(result.invoice.amount_untaxed),
                ),
            )

    def _add_line(self, line_type, orders, reason=False, detail=False, invoice=False):
        """Queue a report line (written by _flush_report, once per chunk)."""
        self.ensure_one()
        pending = self.env.cr.cache.setdefault(("ps_billing_report", self.id), [])
        pending.append(
            {
                "run_id": self.id,
                "line_type": line_type,
                "order_ids": [(6, 0, orders.ids)],
                "partner_id": orders[:1].partner_id.commercial_partner_id.id,
                "reason": reason,
                "detail": detail,
                "invoice_id": invoice.id if invoice else False,
            }
        )

    def _flush_report(self):
        """Write the report lines and invoice links queued for this run in one go."""
        for run in self:
            pending = self.env.cr.cache.pop(("ps_billing_report", run.id), [])
            if pending:
                self.env["ps.billing.run.line"].sudo().create(pending)
                invoices = [vals["invoice_id"] for vals in pending if vals.get("invoice_id")]
                if invoices:
                    run.invoice_ids = [(4, invoice_id) for invoice_id in invoices]

    def _post_summary(self):
        for run in self:
            run.message_post(
                body=_(
                    "Run finished: %(invoices)s draft invoice(s), %(skipped)s item group(s) skipped.",
                    invoices=run.invoice_count,
                    skipped=run.skipped_count,
                )
            )

    def _nothing_to_bill_message(self):
        self.ensure_one()
        reasons = self.line_ids.filtered(lambda line: line.line_type in ("skip", "error"))
        if not reasons:
            return _(
                "There is nothing to invoice on %s: no approved, unbilled work up to %s.",
                ", ".join(self.order_ids.mapped("name")) or _("these contracts"),
                self.period_end,
            )
        return _(
            "Nothing was invoiced:\n%s",
            "\n".join(f"- {line.order_names}: {line.detail}" for line in reasons[:20]),
        )

    # ------------------------------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------------------------------

    @api.model
    def _bill_contracts(
        self,
        orders,
        period_end,
        origin=None,
        kind="native",
        period_start=None,
        deduct_down_payments=True,
    ):
        """Bill these contracts now, up to ``period_end`` (Create Invoice, pre-bill review);
        time before ``period_start`` (when given) is left for a later invoice."""
        run = self.sudo().create(
            {
                "name": origin or _("Billing of %s", ", ".join(orders.mapped("name"))),
                "origin": kind,
                "period_start": period_start,
                "deduct_down_payments": deduct_down_payments,
                "period_end": period_end,
                "invoice_date": fields.Date.context_today(self),
                "respect_cycle": False,
                "order_ids": [(6, 0, orders.ids)],
                "company_ids": [(6, 0, orders.company_id.ids)],
            }
        )
        run.action_run_now()
        return run

    @api.model
    def _cron_process_runs(self, time_budget=50):
        runs = self.sudo().search([("state", "in", (RUN_QUEUED, RUN_RUNNING))], order="id")
        done, remaining = runs._process(time_budget=time_budget)
        self.env["ir.cron"]._commit_progress(done=done, remaining=remaining)

    @api.model
    def _cron_scheduled_billing(self):
        """Each company that bills automatically gets one run per day for the contracts whose
        billing cycle ended yesterday (weekly: on Mondays, monthly: on the 1st)."""
        for company in self.env["res.company"].sudo().search([("ps_auto_billing", "=", True)]):
            today = fields.Date.context_today(self.with_context(tz=company._ps_timezone()))
            period_end = today - timedelta(days=1)
            if self.sudo().search_count(
                [
                    ("origin", "=", "scheduled"),
                    ("period_end", "=", period_end),
                    ("company_ids", "in", company.ids),
                ]
            ):
                continue
            due = (
                self.env["sale.order"]
                .sudo()
                .search(
                    [
                        ("ps_governed", "=", True),
                        ("state", "=", "sale"),
                        ("company_id", "=", company.id),
                    ]
                )
                .filtered(
                    lambda o, end=period_end: (
                        periods.cycle_cutoff(o.ps_billing_cycle or "monthly", end) == end
                    )
                )
            )
            if not due:
                continue
            run = self.sudo().create(
                {
                    "name": _("Scheduled billing %s", period_end),
                    "origin": "scheduled",
                    "period_end": period_end,
                    "invoice_date": today,
                    "company_ids": [(6, 0, company.ids)],
                    "order_ids": [(6, 0, due.ids)],
                }
            )
            run.action_start()

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice"}
        return action


def _rss_mb():
    """Resident memory of this process now, in MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return 0.0
