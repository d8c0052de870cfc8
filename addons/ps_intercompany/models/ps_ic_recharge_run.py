import logging
import time

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import periods, reasons
from .account_move import CTX_MIRRORS
from .ps_ic_recharge_engine import CTX_DEFER_INVOICES

_logger = logging.getLogger(__name__)

CHUNK_SIZE = 5  # agreements recharged per commit
NO_AGREEMENT_STEP = 0  # the first step of a run lists cross-company work no agreement covers
SERIALIZATION_CODES = ("40001", "40P01", "55P03", "23505")  # concurrent run, lock, duplicate
CTX_TRACE = "ps_ic_trace"  # a list receiving (agreement ids, start, end) per chunk (tests)
CTX_NO_COMMIT = "ps_ic_no_commit"  # demo data: a run inside a module installation

RUN_STATES = [("draft", "Draft"), ("queued", "Queued"), ("running", "Running"), ("done", "Done")]


def _default_period(model, index):
    today = fields.Date.context_today(model)
    return periods.last_closed_period(today)[index]


class PsIcRechargeRun(models.Model):
    """A recharge run: for each agreement of its companies, the period's approved work (and
    corrections) recharged in one invoice per agreement, in bounded batches processed by a cron
    (or at once), with a report of what was recharged and what was skipped, and why."""

    _name = "ps.ic.recharge.run"
    _description = "Intercompany Recharge Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, default=lambda self: _("Recharge run"))
    origin = fields.Selection(
        [("manual", "Manual"), ("scheduled", "Scheduled")], default="manual", required=True
    )
    date_from = fields.Date(
        string="Period from", required=True, default=lambda self: _default_period(self, 0)
    )
    date_to = fields.Date(
        string="Period to",
        required=True,
        default=lambda self: _default_period(self, 1),
        help="Approved work up to this day is recharged (with any earlier work recharged late, "
        "and corrections of work recharged before).",
    )
    invoice_date = fields.Date(
        required=True,
        default=lambda self: _default_period(self, 1),
        help="Date of the invoices and of the exchange rates used.",
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        help="Agreements whose provider or receiver is one of these. Empty: every agreement.",
    )
    agreement_ids = fields.Many2many(
        "ps.ic.agreement", string="Agreements", help="Empty: every agreement of the companies."
    )
    state = fields.Selection(RUN_STATES, default="draft", required=True, tracking=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True)
    pending_steps = fields.Json(readonly=True)
    step_count = fields.Integer(string="Steps", readonly=True)
    done_count = fields.Integer(string="Steps done", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    line_ids = fields.One2many("ps.ic.recharge.run.line", "run_id", string="Report")
    recharge_ids = fields.One2many("ps.ic.recharge", "run_id", string="Recharges")
    invoice_ids = fields.Many2many("account.move", compute="_compute_counts")
    invoice_count = fields.Integer(compute="_compute_counts")
    draft_count = fields.Integer(string="Drafts to post", compute="_compute_counts")
    skipped_count = fields.Integer(compute="_compute_counts")
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for run in self:
            if run.date_to < run.date_from:
                raise UserError(_("The period of %s ends before it starts.", run.name))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_progress(self):
        busy = self.filtered(lambda run: run.state in ("queued", "running"))
        if busy:
            raise UserError(
                _("%s is being processed: wait until it is done to delete it.", busy[0].name)
            )

    @api.depends("step_count", "done_count", "state")
    def _compute_progress(self):
        for run in self:
            if run.state == "done":
                run.progress = 100.0
            else:
                run.progress = 100.0 * run.done_count / run.step_count if run.step_count else 0.0

    @api.depends("recharge_ids.invoice_id.state", "line_ids")
    def _compute_counts(self):
        for run in self:
            invoices = run.recharge_ids.sudo().invoice_id
            run.invoice_ids = invoices
            run.invoice_count = len(invoices)
            run.draft_count = len(invoices.filtered(lambda m: m.state == "draft"))
            run.skipped_count = len(run.line_ids.filtered(lambda line: line.line_type == "skip"))

    # ------------------------------------------------------------------------------------------
    # Selecting agreements
    # ------------------------------------------------------------------------------------------

    def _agreements(self):
        self.ensure_one()
        domain = [
            ("date_from", "<=", self.date_to),
            "|",
            ("date_to", "=", False),
            ("date_to", ">=", self.date_from),
        ]
        if self.agreement_ids:
            domain.append(("id", "in", self.agreement_ids.ids))
        if self.origin == "manual" and not self.user_id._is_superuser():
            # A user recharges the work of the companies they work in (as providers).
            domain.append(("provider_company_id", "in", self.user_id.company_ids.ids))
        if self.company_ids:
            domain += [
                "|",
                ("provider_company_id", "in", self.company_ids.ids),
                ("receiver_company_id", "in", self.company_ids.ids),
            ]
        return self.env["ps.ic.agreement"].sudo().search(domain, order="id")

    # ------------------------------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------------------------------

    def action_start(self):
        """Queue the run; the recharge cron works through it in bounded batches."""
        self.check_access("write")
        for run in self.filtered(lambda r: r.state == "draft"):
            steps = [NO_AGREEMENT_STEP, *run._agreements().ids]
            run.write(
                {
                    "state": "queued",
                    "pending_steps": steps,
                    "step_count": len(steps),
                    "done_count": 0,
                    "started_at": fields.Datetime.now(),
                }
            )
        self.env.ref("ps_intercompany.ir_cron_process_recharge_runs")._trigger()
        return True

    def action_run_now(self):
        """Process the whole run in this request (small runs, tests)."""
        self.action_start()
        self._process(time_budget=None)
        return True

    def _process(self, time_budget=60, chunk_size=CHUNK_SIZE):
        """Recharge pending agreements until done or the time budget (seconds) is spent, one
        commit per chunk; ``done_count`` points at the next step."""
        deadline = time.monotonic() + time_budget if time_budget else None
        trace = self.env.context.get(CTX_TRACE)
        done = 0
        for run in self.filtered(lambda r: r.state in ("queued", "running")):
            run.state = "running"
            steps = run.pending_steps or []
            while run.done_count < len(steps):
                if deadline and time.monotonic() > deadline:
                    break
                chunk = steps[run.done_count : run.done_count + chunk_size]
                started = time.time()
                run._run_chunk(chunk)
                if trace is not None:
                    trace.append((chunk, started, time.time()))
                run.done_count += len(chunk)
                done += len(chunk)
                run._commit()
            if run.done_count >= len(steps):
                run.write({"state": "done", "finished_at": fields.Datetime.now()})
                run._post_summary()
                run._commit()
        remaining = sum(len(run.pending_steps or []) - run.done_count for run in self)
        return done, remaining

    def _commit(self):
        if not self.env.context.get(CTX_NO_COMMIT):
            self.env["ir.cron"]._commit_progress()

    def _run_chunk(self, steps):
        """Recharge a chunk of agreements with one batched invoice creation; if anything fails
        (or another run holds an agreement), each agreement again on its own, where the failure
        is reported without holding up the others."""
        if NO_AGREEMENT_STEP in steps:
            self._report_uncovered()
        Agreement = self.env["ps.ic.agreement"].sudo()
        agreements = [
            Agreement.browse(step).exists() for step in steps if step != NO_AGREEMENT_STEP
        ]
        agreements = [agreement for agreement in agreements if agreement]
        if len(agreements) > 1:
            deferred = []
            engine = self._engine().with_context(**{CTX_DEFER_INVOICES: deferred})
            try:
                with self.env.cr.savepoint():
                    results = [
                        (agreement, engine._recharge_agreement(agreement, self))
                        for agreement in agreements
                    ]
                    self.env["ps.ic.recharge"].sudo()._create_invoices(deferred)
            except Exception:  # redone one by one below, where the failure is reported
                _logger.info(
                    "recharge run %s: a chunk failed, recharging its agreements one by one", self.id
                )
            else:
                for agreement, result in results:
                    self._report(agreement, result)
                return
        for agreement in agreements:
            self._run_step(agreement)

    def _engine(self):
        # Recharges are bookkeeping done for both companies: no chatter on each record created.
        return (
            self.env["ps.ic.recharge.engine"]
            .sudo()
            .with_context(
                tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
            )
        )

    def _run_step(self, agreement):
        try:
            with self.env.cr.savepoint():
                result = self._engine()._recharge_agreement(agreement, self)
        except Exception as exc:  # one agreement's failure never stops the run: it is reported
            if getattr(exc, "pgcode", None) in SERIALIZATION_CODES:
                self._add_line(
                    "skip",
                    agreement,
                    reason=reasons.SKIP_CONCURRENT,
                    detail=_("another run is recharging this agreement; nothing recharged twice"),
                )
                return
            _logger.exception("recharge run %s: agreement %s failed", self.id, agreement.id)
            self._add_line("error", agreement, reason=reasons.SKIP_ERROR, detail=str(exc))
            return
        self._report(agreement, result)

    def _report(self, agreement, result):
        recharge = result.recharge
        day, locks = agreement._open_date(self.invoice_date)
        if recharge and locks:
            self._add_line(
                "note",
                agreement,
                reason=reasons.SKIP_LOCKED,
                detail=_(
                    "%(docs)s dated %(day)s, the first day open in both companies: %(locks)s",
                    docs=recharge.invoice_id.name or recharge.name,
                    day=day,
                    locks=", ".join(
                        _("%(company)s locked until %(lock)s", company=c.name, lock=lock)
                        for lock, c in sorted(locks, key=lambda lc: lc[0])
                    ),
                ),
            )
        if recharge:
            self._add_line(
                "recharge",
                agreement,
                recharge=recharge,
                item_count=result.items,
                hours=recharge.hours,
                amount=recharge.amount_untaxed,
                detail=_(
                    "%(count)s item(s): %(kind)s of %(amount)s",
                    count=result.items,
                    kind=_("credit note")
                    if recharge.invoice_id.move_type == "out_refund"
                    else _("invoice"),
                    amount=recharge.currency_id.format(recharge.amount_untaxed),
                ),
            )
        elif result.items:
            self._add_line(
                "recharge",
                agreement,
                item_count=result.items,
                detail=_("corrections that cancel out: recorded, no document needed"),
            )
        for (reason, employee, project), (count, hours, detail) in sorted(
            result.skipped.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2] or 0)
        ):
            self._add_line(
                "skip",
                agreement,
                reason=reason,
                employee_id=employee,
                project_id=project,
                item_count=count,
                hours=hours,
                detail=detail,
            )

    def _report_uncovered(self):
        """Cross-company work of the period that no agreement covers: listed, not recharged."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT e.company_id, l.company_id, l.employee_id, l.project_id, count(*),
                      sum(l.unit_amount)
               FROM account_analytic_line l
               JOIN hr_employee e ON e.id = l.employee_id
               WHERE l.project_id IS NOT NULL AND l.company_id != e.company_id
                 AND l.date BETWEEN %(from)s AND %(to)s
                 AND (%(all)s OR l.company_id = ANY(%(companies)s) OR e.company_id = ANY(%(companies)s))
                 AND NOT EXISTS (
                     SELECT 1 FROM ps_ic_agreement a
                     WHERE a.active AND a.provider_company_id = e.company_id
                       AND a.receiver_company_id = l.company_id AND a.date_from <= l.date
                       AND (a.date_to IS NULL OR a.date_to >= l.date))
               GROUP BY 1, 2, 3, 4""",
            {
                "from": self.date_from,
                "to": self.date_to,
                "all": not self.company_ids,
                "companies": self.company_ids.ids,
            },
        )
        for provider, receiver, employee, project, count, hours in self.env.cr.fetchall():
            self._add_line(
                "skip",
                None,
                reason=reasons.SKIP_NO_AGREEMENT,
                provider_company_id=provider,
                receiver_company_id=receiver,
                employee_id=employee,
                project_id=project,
                item_count=count,
                hours=hours,
                detail=_("create an intercompany agreement for these two companies"),
            )

    def _add_line(self, line_type, agreement, recharge=None, **values):
        self.ensure_one()
        vals = {"run_id": self.id, "line_type": line_type, **values}
        if agreement:
            vals.update(
                agreement_id=agreement.id,
                provider_company_id=agreement.provider_company_id.id,
                receiver_company_id=agreement.receiver_company_id.id,
                currency_id=agreement.currency_id.id,
            )
        if recharge:
            vals["recharge_id"] = recharge.id
        self.env["ps.ic.recharge.run.line"].sudo().create(vals)

    def _post_summary(self):
        for run in self:
            run._message_log(
                body=_(
                    "Run finished: %(invoices)s document(s), %(skipped)s group(s) of items skipped.",
                    invoices=len(run.recharge_ids),
                    skipped=run.skipped_count,
                )
            )

    # ------------------------------------------------------------------------------------------
    # After the run
    # ------------------------------------------------------------------------------------------

    def action_post_invoices(self):
        """Post the run's draft invoices of the companies the user works in (with the user's
        rights); each posting mirrors a vendor bill in the receiver (OCA, with its own rights)."""
        self.check_access("write")
        user_companies = self.env.user.company_ids
        for run in self:
            drafts = run.recharge_ids.sudo().invoice_id.filtered(
                lambda m: m.state == "draft" and (self.env.su or m.company_id in user_companies)
            )
            if not drafts:
                raise UserError(
                    _("%s has no draft invoice to post in the companies you work in.", run.name)
                )
            mirrors = []  # the receivers' bills, posted together once all are created
            for company in drafts.company_id:
                drafts.filtered(lambda m, c=company: m.company_id == c).sudo(
                    self.env.su
                ).with_company(company).with_context(**{CTX_MIRRORS: mirrors}).action_post()
            bills = self.env["account.move"].sudo().browse(mirrors)
            for company in bills.company_id:
                bills.filtered(lambda m, c=company: m.company_id == c).with_company(
                    company
                ).action_post()
        return True

    def action_view_invoices(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice"}
        return action

    def action_open_reconciliation(self):
        """The reconciliation of the run's period, every company pair at a glance."""
        self.ensure_one()
        self.check_access("read")
        return self.env["ps.ic.reconciliation"]._open_period(self.date_from, self.date_to)

    # ------------------------------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------------------------------

    @api.model
    def _cron_process_runs(self, time_budget=50):
        runs = self.sudo().search([("state", "in", ("queued", "running"))], order="id")
        done, remaining = runs._process(time_budget=time_budget)
        self.env["ir.cron"]._commit_progress(done=done, remaining=remaining)

    @api.model
    def _cron_schedule_runs(self):
        """Once a period of an agreement's cycle has ended, one scheduled run recharges it."""
        today = fields.Date.context_today(self)
        agreements = self.env["ps.ic.agreement"].sudo().search([("auto_recharge", "=", True)])
        by_period = {}
        for agreement in agreements:
            date_from, date_to = periods.last_closed_period(today, agreement.cycle)
            if agreement._covers(date_to) or agreement._covers(date_from):
                by_period.setdefault((date_from, date_to), self.env["ps.ic.agreement"])
                by_period[(date_from, date_to)] |= agreement
        for (date_from, date_to), due in by_period.items():
            done = self.sudo().search(
                [
                    ("origin", "=", "scheduled"),
                    ("date_from", "=", date_from),
                    ("date_to", "=", date_to),
                ]
            )
            due -= done.agreement_ids
            if not due:
                continue
            run = self.sudo().create(
                {
                    "name": _(
                        "Scheduled recharge %(from)s to %(to)s",
                        **{"from": date_from, "to": date_to},
                    ),
                    "origin": "scheduled",
                    "date_from": date_from,
                    "date_to": date_to,
                    "invoice_date": date_to,
                    "agreement_ids": [(6, 0, due.ids)],
                }
            )
            run.action_start()
