from decimal import Decimal

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from ..adapters.resolver import Resolver
from ..engine import corrections
from ..engine.validation import report, validate_time_entry
from .connector_psa_correction import GROUP_BILLING_USER


class ConnectorPsaCorrection(models.Model):
    """How a Billing User resolves a correction. Never into a locked period: adjustment lines
    and credit notes are dated in the first open day when the work's day is locked."""

    _inherit = "connector.psa.correction"

    def _check_open(self):
        if not self.env.user.has_group(GROUP_BILLING_USER):
            raise AccessError(_("Only a Billing User can resolve corrections of billed data."))
        resolved = self.filtered(lambda item: item.state != "open")
        if resolved:
            raise UserError(_("%s is already resolved.", ", ".join(resolved.mapped("name"))))

    def _lock_date(self, company):
        journal = (
            self.env["account.journal"]
            .sudo()
            .search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        )
        lock = (
            company.sudo().with_context(ignore_exceptions=True)._get_user_fiscal_lock_date(journal)
        )
        return lock if lock and lock.year > 1 else None

    def _close(self, resolution, reason=None, **values):
        self.sudo().write(
            dict(
                values,
                state="resolved",
                resolution=resolution,
                reason=reason or False,
                resolved_by_id=self.env.uid,
                resolved_on=fields.Datetime.now(),
            )
        )

    def _adapter(self):
        return self.backend_id.sudo()._adapter()

    def _accept_version(self):
        """The billed line's PSA values now describe the version this resolution accounted for."""
        self.ensure_one()
        line = self.line_id.sudo()
        entry = self._new_version()
        if self.expense_id:
            expense = self.expense_id.sudo()
            values = {"psa_deleted": self.kind == corrections.KIND_DELETED}
            if entry:
                values.update(psa_fingerprint=entry.fingerprint, psa_amount=float(entry.amount))
            expense.write(values)
            return
        if not line:
            return
        if entry is None:
            line.write({"psa_deleted": True})
            return
        adapter = self._adapter()
        quantity = entry.quantity(self.backend_id.psa_hours_used == "rounded")
        line.write(adapter._psa_values(entry, quantity))

    # ------------------------------------------------------------------------------------------
    # Keep what was billed
    # ------------------------------------------------------------------------------------------

    def _resolve_accept(self, reason):
        self._check_open()
        if not (reason or "").strip():
            raise UserError(_("Say why what was billed is kept: the reason is required."))
        for item in self:
            item._accept_version()
            item._close("accept", reason)
            item.message_post(body=_("Kept as billed: %s", reason))

    # ------------------------------------------------------------------------------------------
    # Bill the difference in the next run
    # ------------------------------------------------------------------------------------------

    def _resolve_adjust(self):
        self._check_open()
        for item in self:
            if item.expense_id:
                raise UserError(
                    _(
                        "%s: an expense cannot be adjusted here; keep what was billed (with a "
                        "reason), or reset its expense report in Expenses.",
                        item.name,
                    )
                )
            lines = item._adjustment_lines()
            item._accept_version()
            item._close("adjust")
            item.message_post(
                body=_(
                    "Adjustment of %(hours)s h to be billed by the next run (%(lines)s).",
                    hours=round(sum(lines.mapped("unit_amount")), 4),
                    lines=", ".join(f"{ln.date}: {ln.unit_amount:+g} h" for ln in lines)
                    or _("no difference to bill"),
                )
            )

    def _adjustment_lines(self):
        """Lines billing the difference between what was billed and the PSA's version."""
        self.ensure_one()
        billed = self.line_id.sudo()
        if not billed:
            raise UserError(_("%s: its timesheet line no longer exists.", self.name))
        entry = self._new_version()
        removed = self.kind in (corrections.KIND_DELETED, corrections.KIND_UNAPPROVED)
        new_line = billed.so_line
        employee, task, project = billed.employee_id, billed.task_id, billed.project_id
        new_quantity = Decimal(0)
        new_billable = False
        if not removed:
            adapter = self._adapter()
            resolver = Resolver(adapter, [entry])
            new_quantity = entry.quantity(self.backend_id.psa_hours_used == "rounded")
            resolution = resolver.resolve(entry, quantity=new_quantity, line=billed)
            problems = validate_time_entry(resolution.subject, resolution.facts)
            if problems:
                raise UserError(report(resolution.subject, adapter.tool, problems))
            new_line = resolution.sale_line
            employee, task, project = resolution.employee, resolution.task, resolution.project
            new_billable = bool(entry.billable and resolution.line_billable)
        old_billable = bool(billed.psa_billable and billed.so_line)
        accounted = Decimal(str(round(billed.psa_quantity, 6)))
        if billed.psa_approval != "approved":
            accounted = Decimal(0)  # an earlier resolution reversed it already
        plan = corrections.adjustment_plan(
            accounted,
            new_quantity,
            same_line=new_line == billed.so_line and employee == billed.employee_id,
            old_billable=old_billable,
            new_billable=new_billable,
            removed=removed,
        )
        day = entry.spent_on if entry else billed.date
        day = corrections.first_open_day(day, self._lock_date(billed.company_id))
        invoice = billed.ps_invoice_id.name or _("an invoice")
        Line = self.env["account.analytic.line"].sudo()
        created = Line
        for which, hours in plan:
            old = which == "old"
            values = {
                "name": _(
                    "Correction of %(tool)s entry %(entry)s billed on %(invoice)s: %(hours)s h",
                    tool=self._adapter().tool,
                    entry=self.remote_id,
                    invoice=invoice,
                    hours=f"{hours:+f}",
                ),
                "date": day,
                "employee_id": (billed.employee_id if old else employee).id,
                "project_id": (billed.project_id if old else project).id,
                "task_id": (billed.task_id if old else task).id or False,
                "so_line": (billed.so_line if old else new_line).id,
                "unit_amount": float(hours),
                "ps_approval_state": "approved",
                "ps_approved_by_id": self.env.uid,
                "ps_approved_on": fields.Datetime.now(),
                "psa_backend_id": self.backend_id.id,
                "psa_correction_id": self.id,
            }
            line = Line.create(values)
            if (line.so_line, line.employee_id) == (billed.so_line, billed.employee_id):
                # The difference is priced like the billed line (rate of the day of the work).
                line.with_context(ps_rating=True).write(
                    {
                        "ps_rate": billed.ps_rate,
                        "ps_rate_currency_id": billed.ps_rate_currency_id.id,
                        "ps_rate_source": billed.ps_rate_source,
                        "ps_rate_line_id": billed.ps_rate_line_id.id,
                    }
                )
            created |= line
        return created

    # ------------------------------------------------------------------------------------------
    # Credit and bill again (through ps_billing_rules)
    # ------------------------------------------------------------------------------------------

    def _resolve_credit_rebill(self):
        self._check_open()
        for item in self:
            if item.expense_id:
                raise UserError(
                    _(
                        "%s: credit the expense's invoice in Invoicing, then keep what was billed.",
                        item.name,
                    )
                )
            invoice = item.invoice_id.sudo()
            credit = self.env["account.move"]
            if invoice.state == "draft":
                invoice.button_cancel()  # releases its work (ps_billing_rules)
            elif invoice.state == "posted":
                credit = item._credit(invoice)
            item._follow_after_credit()
            item._close("credit_rebill", credit_note_id=credit.id)
            item.message_post(
                body=_(
                    "%(invoice)s %(what)s; the line follows %(tool)s and is billed again by the "
                    "next run. The other work of that invoice is back in the pre-bill review.",
                    invoice=invoice.display_name,
                    what=_("credited by %s", credit.name) if credit else _("cancelled"),
                    tool=self._adapter().tool,
                )
            )

    def _credit(self, invoice):
        day = corrections.first_open_day(
            fields.Date.context_today(self), self._lock_date(invoice.company_id)
        )
        wizard = (
            self.env["account.move.reversal"]
            .sudo()
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "reason": _("Correction of %s after billing", self.name),
                    "date": day,
                    "journal_id": invoice.journal_id.id,
                }
            )
        )
        wizard.refund_moves()
        credit = wizard.new_move_ids
        credit.action_post()  # ps_billing_rules releases the credited work
        return credit

    def _follow_after_credit(self):
        """The line, no longer billed, follows the PSA's version and waits for the next run."""
        self.ensure_one()
        line = self.line_id.sudo()
        if not line:
            return
        if line.ps_billing_state == "billed":
            raise UserError(
                _("%s is still billed after the credit note: check the invoice.", self.name)
            )
        entry = self._new_version()
        if entry is None:  # deleted in the PSA: the line goes, its binding stays as a tombstone
            self._adapter().handle_deleted("time", [line.psa_remote_id])
            return
        adapter = self._adapter()
        quantity = entry.quantity(self.backend_id.psa_hours_used == "rounded")
        resolver = Resolver(adapter, [entry])
        resolution = resolver.resolve(entry, quantity=quantity, line=line)
        problems = validate_time_entry(resolution.subject, resolution.facts)
        if problems and entry.approved:
            raise UserError(report(resolution.subject, adapter.tool, problems))
        values = (
            adapter._line_values(entry, quantity, resolution)
            if entry.approved
            else {
                **adapter._approval_values(entry),
                **adapter._psa_values(entry, quantity),
            }
        )
        line.with_context(ps_keep_approval=True).write(values)
