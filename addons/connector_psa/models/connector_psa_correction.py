import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..engine import corrections
from ..engine.payloads import from_payload, to_payload

GROUP_BILLING_USER = "ps_billing_rules.group_billing_user"
KINDS = [
    (corrections.KIND_CHANGED, "Changed after billing"),
    (corrections.KIND_UNAPPROVED, "Unapproved after billing"),
    (corrections.KIND_DELETED, "Deleted after billing"),
]
RESOLUTIONS = [
    ("adjust", "Bill the difference in the next run"),
    ("credit_rebill", "Credit and bill again"),
    ("accept", "Keep what was billed"),
]


class ConnectorPsaCorrection(models.Model):
    """A PSA entry changed, unapproved or deleted after Odoo billed it (draft or posted invoice).

    The billed line is never touched by the sync: this item shows what was billed (old) and what
    the PSA says now (new), with the invoice, until a Billing User resolves it (see
    connector_psa_correction_resolution.py): an adjustment line billed by the next run, a credit
    note and new billing through ps_billing_rules, or keeping what was billed with a reason.
    """

    _name = "connector.psa.correction"
    _description = "PSA correction of billed data"
    _inherit = ["mail.thread"]
    _order = "state desc, id desc"
    # Read-only to everyone: resolutions write through their checked methods; readers comment.
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    backend_id = fields.Many2one(
        "connector.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    tool = fields.Selection(related="backend_id.backend_type", string="PSA")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True, tracking=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    line_id = fields.Many2one(
        "account.analytic.line",
        string="Timesheet line",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    expense_id = fields.Many2one(
        "hr.expense",
        string="Expense",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    remote_id = fields.Char(string="PSA entry ID", readonly=True, index=True)
    employee_id = fields.Many2one("hr.employee", readonly=True)
    project_id = fields.Many2one("project.project", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Contract line", readonly=True)
    invoice_id = fields.Many2one("account.move", string="Billed on", readonly=True)
    invoice_state = fields.Selection(related="invoice_id.state", string="Invoice status")
    date_old = fields.Date(string="Date (billed)", readonly=True)
    date_new = fields.Date(string="Date (PSA now)", readonly=True)
    hours_old = fields.Float(string="Hours (billed)", readonly=True, digits=(16, 4))
    hours_new = fields.Float(string="Hours (PSA now)", readonly=True, digits=(16, 4))
    hours_delta = fields.Float(
        string="Difference (h)", compute="_compute_hours_delta", digits=(16, 4)
    )
    amount_old = fields.Float(string="Amount (billed)", readonly=True)
    amount_new = fields.Float(string="Amount (PSA now)", readonly=True)
    task_old = fields.Char(string="Task (billed)", readonly=True)
    task_new = fields.Char(string="Task (PSA now)", readonly=True)
    billable_old = fields.Boolean(string="Billable (billed)", readonly=True)
    billable_new = fields.Boolean(string="Billable (PSA now)", readonly=True)
    notes_old = fields.Text(string="Notes (billed)", readonly=True)
    notes_new = fields.Text(string="Notes (PSA now)", readonly=True)
    approval_new = fields.Char(string="PSA approval now", readonly=True)
    changes = fields.Text(string="What changed", readonly=True)
    new_payload = fields.Text(readonly=True, groups="base.group_system")
    new_fingerprint = fields.Char(readonly=True)
    resolution = fields.Selection(RESOLUTIONS, readonly=True, tracking=True)
    reason = fields.Text(readonly=True, tracking=True)
    resolved_by_id = fields.Many2one("res.users", string="Resolved by", readonly=True)
    resolved_on = fields.Datetime(readonly=True)
    adjustment_line_ids = fields.One2many(
        "account.analytic.line", "psa_correction_id", string="Adjustment lines", readonly=True
    )
    adjustment_summary = fields.Text(
        string="Adjustments", compute="_compute_adjustment_summary", compute_sudo=True
    )
    credit_note_id = fields.Many2one("account.move", string="Credit note", readonly=True)

    @api.depends("backend_id", "remote_id", "kind", "changes")
    def _compute_name(self):
        labels = dict(KINDS)
        for item in self:
            tool = dict(item.backend_id._fields["backend_type"].selection).get(
                item.backend_id.backend_type, "PSA"
            )
            what = "expense" if item.expense_id else "time entry"
            item.name = f"{tool} {what} {item.remote_id}: {labels.get(item.kind, '')}".strip()

    @api.depends("adjustment_line_ids.ps_billing_state", "adjustment_line_ids.ps_invoice_id")
    def _compute_adjustment_summary(self):
        # Billing users may not read other people's timesheets: summarised here (sudo).
        for item in self:
            item.adjustment_summary = (
                "\n".join(
                    _(
                        "%(hours)+.2f h on %(date)s (%(line)s): %(state)s",
                        hours=line.unit_amount,
                        date=line.date,
                        line=line.so_line.display_name or _("no contract line"),
                        state=line.ps_invoice_id.display_name
                        if line.ps_billing_state == "billed"
                        else _("billed by the next run"),
                    )
                    for line in item.adjustment_line_ids
                )
                or False
            )

    @api.depends("hours_old", "hours_new")
    def _compute_hours_delta(self):
        for item in self:
            item.hours_delta = item.hours_new - item.hours_old

    # ------------------------------------------------------------------------------------------
    # Raised by the sync
    # ------------------------------------------------------------------------------------------

    @api.model
    def _open_for(self, field_name, record):
        return self.sudo().search([(field_name, "=", record.id), ("state", "=", "open")], limit=1)

    @api.model
    def _base_values(self, backend, record):
        return {
            "backend_id": backend.id,
            "company_id": record.company_id.id or backend.company_id.id,
            "remote_id": record.psa_remote_id,
            "employee_id": record.employee_id.id,
            "invoice_id": record.ps_invoice_id.id
            or (record._name == "hr.expense" and record.sheet_id.account_move_ids[:1].id)
            or False,
        }

    @api.model
    def _summary(self, changes):
        labels = {
            "hours": _("hours"),
            "date": _("date"),
            "user": _("person"),
            "project": _("project"),
            "task": _("task"),
            "billable": _("billable"),
            "notes": _("notes"),
            "approval": _("approval"),
            "amount": _("amount"),
            "deleted": _("deleted"),
        }
        return "; ".join(
            f"{labels.get(name, name)}: {old} → {new}" for name, (old, new) in changes.items()
        )

    @api.model
    def _record(self, backend, line, entry, decision, quantity):
        """Raise (or bring up to date) the open correction of a billed timesheet line."""
        item = self._open_for("line_id", line)
        if item and item.new_fingerprint == entry.fingerprint and item.kind == decision.kind:
            return item
        values = dict(
            self._base_values(backend, line),
            kind=decision.kind,
            line_id=line.id,
            project_id=line.project_id.id,
            sale_line_id=line.so_line.id,
            date_old=line.psa_spent_on or line.date,
            date_new=entry.spent_on,
            hours_old=line.psa_quantity,
            hours_new=float(quantity) if entry.approved else 0.0,
            task_old=line.psa_task_name or line.task_id.name or False,
            task_new=entry.task_name or False,
            billable_old=line.psa_billable,
            billable_new=entry.billable,
            notes_old=line.psa_notes or False,
            notes_new=entry.notes or False,
            approval_new=entry.approval_status,
            changes=self._summary(decision.changes),
            new_payload=json.dumps(to_payload(entry)),
            new_fingerprint=entry.fingerprint,
        )
        if item:
            item.write(values)
        else:
            item = self.sudo().create(values)
        return item

    @api.model
    def _record_deletion(self, backend, record, decision):
        field_name = "line_id" if record._name == "account.analytic.line" else "expense_id"
        item = self._open_for(field_name, record)
        if item and item.kind == corrections.KIND_DELETED:
            return item
        values = dict(
            self._base_values(backend, record),
            kind=corrections.KIND_DELETED,
            changes=self._summary(decision.changes),
            new_payload=False,
            new_fingerprint=False,
            hours_new=0.0,
            amount_new=0.0,
            **{field_name: record.id},
        )
        if record._name == "account.analytic.line":
            values.update(
                project_id=record.project_id.id,
                sale_line_id=record.so_line.id,
                date_old=record.psa_spent_on or record.date,
                hours_old=record.psa_quantity,
                task_old=record.psa_task_name or False,
                billable_old=record.psa_billable,
                notes_old=record.psa_notes or False,
            )
        else:
            values.update(date_old=record.date, amount_old=record.psa_amount)
        if item:
            item.write(values)
        else:
            item = self.sudo().create(values)
        return item

    @api.model
    def _record_expense(self, backend, expense, entry, decision):
        item = self._open_for("expense_id", expense)
        if item and item.new_fingerprint == entry.fingerprint:
            return item
        values = dict(
            self._base_values(backend, expense),
            kind=decision.kind,
            expense_id=expense.id,
            date_old=expense.date,
            date_new=entry.spent_on,
            amount_old=expense.psa_amount,
            amount_new=float(entry.amount),
            billable_old=expense.psa_billable,
            billable_new=entry.billable,
            notes_new=entry.notes or False,
            approval_new=entry.approval_status,
            changes=self._summary(decision.changes),
            new_payload=json.dumps(to_payload(entry)),
            new_fingerprint=entry.fingerprint,
        )
        if item:
            item.write(values)
        else:
            item = self.sudo().create(values)
        return item

    def _new_version(self):
        """The PSA entry as it is now (None for a deletion)."""
        self.ensure_one()
        payload = self.sudo().new_payload
        if not payload:
            return None
        return from_payload("expense" if self.expense_id else "time", json.loads(payload))

    def action_resolve(self):
        if not self.env.user.has_group(GROUP_BILLING_USER):
            raise AccessError(_("Only a Billing User can resolve corrections of billed data."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Resolve the correction"),
            "res_model": "connector.psa.correction.resolve",
            "view_mode": "form",
            "target": "new",
            "context": {"default_correction_ids": self.ids},
        }

    def action_open_invoice(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.invoice_id.id,
            "view_mode": "form",
        }
