from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..engine.constants import (
    APPROVAL_STATES,
    APPROVED,
    BILLED,
    CTX_KEEP_APPROVAL,
    CTX_RATING,
    DRAFT,
    NON_BILLABLE,
    REJECTED,
    SUBMITTED,
)
from ..engine.rates import RateLine, resolve_rate

# Changing these on a timesheet changes what is billed: refused once billed, and they send an
# approved line back for approval.
BILLING_RELEVANT_FIELDS = {
    "unit_amount",
    "date",
    "employee_id",
    "project_id",
    "task_id",
    "so_line",
    "product_uom_id",
}
CONTRACT_PRICE_SOURCE = "contract line price"


class AccountAnalyticLine(models.Model):
    """Timesheet lines: approval, the rate and cost in force on the day of the work (stored with
    their source, so a later card change never revalues history), and billing bookkeeping."""

    _name = "account.analytic.line"
    _inherit = ["account.analytic.line", "ps.billable.mixin"]

    ps_approval_state = fields.Selection(
        APPROVAL_STATES,
        string="Approval",
        default=DRAFT,
        required=True,
        index=True,
        copy=False,
        help="Only approved time is delivered and billable. Time imported as approved by a "
        "connector arrives approved.",
    )
    ps_approved_by_id = fields.Many2one(
        "res.users", string="Approved by", readonly=True, copy=False
    )
    ps_approved_on = fields.Datetime(string="Approved on", readonly=True, copy=False)
    ps_rejection_reason = fields.Char(copy=False)
    ps_rate = fields.Float(
        string="Billing rate",
        readonly=True,
        copy=False,
        digits="Product Price",
        help="Rate in force on the day of the work, per unit of the timesheet (hours), in the rate "
        "card's currency (a contract line sold in days has its price converted to hours).",
    )
    ps_rate_currency_id = fields.Many2one("res.currency", string="Rate currency", readonly=True)
    ps_rate_source = fields.Char(string="Rate source", readonly=True, copy=False)
    ps_rate_line_id = fields.Many2one(
        "ps.rate.card.line", readonly=True, copy=False, ondelete="set null"
    )
    ps_cost_rate = fields.Float(
        string="Cost rate",
        readonly=True,
        copy=False,
        groups="ps_billing_rules.group_billing_user",
        help="Employee cost per hour in force on the day of the work (company currency).",
    )
    ps_cost_amount = fields.Float(
        string="Cost",
        readonly=True,
        copy=False,
        groups="ps_billing_rules.group_billing_user",
    )
    ps_billing_model = fields.Selection(related="so_line.ps_billing_model", string="Billing model")

    def init(self):
        # Partial index for what billing runs and WIP scan: approved, unbilled time per SO line.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS account_analytic_line_ps_unbilled_idx
               ON account_analytic_line (so_line, date)
               WHERE ps_approval_state = 'approved' AND ps_billing_state = 'unbilled'
                 AND project_id IS NOT NULL"""
        )

    # ------------------------------------------------------------------------------------------
    # Create / write: rates, approval reset, billed lock
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.filtered("project_id")._ps_assign_rates()
        return lines

    def write(self, vals):
        relevant = BILLING_RELEVANT_FIELDS & set(vals)
        if relevant and not self.env.context.get(CTX_RATING):
            self.filtered("project_id")._ps_check_not_billed(_("changed"))
            if "ps_approval_state" not in vals and not self.env.context.get(CTX_KEEP_APPROVAL):
                approved = self.filtered(lambda line: line.ps_approval_state == APPROVED)
                if approved and not self.env.su:
                    # An edited approved line needs approval again.
                    super(AccountAnalyticLine, approved).write({"ps_approval_state": SUBMITTED})
        result = super().write(vals)
        if relevant and not self.env.context.get(CTX_RATING):
            self.filtered(
                lambda line: line.project_id and line.ps_billing_state != BILLED
            )._ps_assign_rates()
        return result

    def unlink(self):
        self.filtered("project_id")._ps_check_not_billed(_("deleted"))
        return super().unlink()

    def _ps_rate_lines_for(self, orders):
        """Every rate card line that may apply to these contracts, as engine.rates.RateLine."""
        Card = self.env["ps.rate.card"].sudo()
        partners = orders.partner_id.commercial_partner_id
        cards = Card.search(
            [
                "|",
                "|",
                ("sale_order_id", "in", orders.ids),
                "&",
                ("level", "=", "customer"),
                ("partner_id", "in", partners.ids),
                "&",
                ("level", "=", "company"),
                ("company_id", "in", orders.company_id.ids),
            ]
        )
        by_order = {}
        for order in orders:
            lines = []
            for card in cards:
                if card.level == "contract" and card.sale_order_id != order:
                    continue
                if (
                    card.level == "customer"
                    and card.partner_id != order.partner_id.commercial_partner_id
                ):
                    continue
                if card.level == "company" and card.company_id != order.company_id:
                    continue
                lines.extend(
                    RateLine(
                        id=line.id,
                        card_level=card.level,
                        card_name=card.name,
                        rate=line.rate,
                        currency=card.currency_id.id,
                        employee_id=line.employee_id.id or None,
                        role_id=line.job_id.id or None,
                        service_id=line.product_id.id or None,
                        date_from=line.date_from or None,
                        date_to=line.date_to or None,
                    )
                    for line in card.line_ids
                )
            by_order[order.id] = lines
        return by_order

    def _ps_assign_rates(self):
        """Store the rate (and its source) and the cost in force on each line's day.

        Batched: one query for the cards and one for the cost history, and one write per
        distinct result, whatever the number of lines (connectors import thousands at once).
        Rates are stored per unit of the timesheet (hours): rate cards are per hour, and a
        contract line's own price is converted from its unit (e.g. days) to the timesheet's.
        """
        # Bookkeeping of the billing: done with full rights whoever edits the time (a timesheet
        # approver may not read contracts or rate cards).
        lines = self.sudo().filtered(lambda line: line.ps_billing_state != BILLED)
        if not lines:
            return
        orders = lines.so_line.order_id.filtered("ps_governed")
        rates_by_order = lines._ps_rate_lines_for(orders) if orders else {}
        costs = self.env["ps.cost.rate"]._cost_lookup(lines.employee_id.ids)
        hour = self.env.ref("uom.product_uom_hour", raise_if_not_found=False)
        writes = {}
        for line in lines:
            values = {}
            employee = line.employee_id
            sol = line.so_line
            order = sol.order_id
            unit = line.product_uom_id or hour
            if order.id in rates_by_order:
                resolved = resolve_rate(
                    rates_by_order[order.id],
                    line.date,
                    employee_id=employee.id,
                    role_id=employee.job_id.id or None,
                    service_id=sol.product_id.id,
                )
                if resolved:
                    values.update(
                        ps_rate=hour._compute_price(resolved.rate, unit) if hour else resolved.rate,
                        ps_rate_currency_id=resolved.line.currency,
                        ps_rate_source=resolved.source,
                        ps_rate_line_id=resolved.line.id,
                    )
                elif sol.price_unit:
                    # No card covers this work: the contract line's own price is the rate.
                    values.update(
                        ps_rate=sol.product_uom._compute_price(sol.price_unit, unit)
                        if sol.product_uom
                        else sol.price_unit,
                        ps_rate_currency_id=order.currency_id.id,
                        ps_rate_source=CONTRACT_PRICE_SOURCE,
                        ps_rate_line_id=False,
                    )
                else:
                    values.update(
                        ps_rate=0.0,
                        ps_rate_currency_id=False,
                        ps_rate_source=False,
                        ps_rate_line_id=False,
                    )
            cost = self.env["ps.cost.rate"]._cost_on(
                costs.get(employee.id), line.date, employee.sudo().hourly_cost
            )
            values.update(ps_cost_rate=cost, ps_cost_amount=cost * line.unit_amount)
            writes.setdefault(tuple(sorted(values.items())), []).append(line.id)
        Line = self.env["account.analytic.line"].sudo().with_context(**{CTX_RATING: True})
        for values, ids in writes.items():
            Line.browse(ids).write(dict(values))

    # ------------------------------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------------------------------

    def _ps_can_approve(self):
        """Project managers approve the time of their projects; Billing Managers approve all."""
        user = self.env.user
        if self.env.su or user.has_group("ps_billing_rules.group_billing_manager"):
            return True
        return all(line.project_id.user_id == user for line in self)

    def action_ps_submit(self):
        lines = self.filtered(lambda line: line.ps_approval_state in (DRAFT, REJECTED))
        lines.sudo().with_context(**{CTX_KEEP_APPROVAL: True}).write(
            {"ps_approval_state": SUBMITTED, "ps_rejection_reason": False}
        )
        return True

    def action_ps_approve(self):
        if not self._ps_can_approve():
            raise AccessError(
                _(
                    "Only the project manager (or a Billing Manager) can approve this time: "
                    "%(projects)s.",
                    projects=", ".join(
                        self.filtered(lambda line: line.project_id.user_id != self.env.user).mapped(
                            "project_id.name"
                        )
                    ),
                )
            )
        lines = self.filtered(lambda line: line.ps_approval_state != APPROVED)
        lines.sudo().with_context(**{CTX_KEEP_APPROVAL: True}).write(
            {
                "ps_approval_state": APPROVED,
                "ps_approved_by_id": self.env.user.id,
                "ps_approved_on": fields.Datetime.now(),
                "ps_rejection_reason": False,
            }
        )
        return True

    def action_ps_reject(self, reason=None):
        if not self._ps_can_approve():
            raise AccessError(
                _("Only the project manager (or a Billing Manager) can reject this time.")
            )
        self._ps_check_not_billed(_("rejected"))
        self.sudo().with_context(**{CTX_KEEP_APPROVAL: True}).write(
            {
                "ps_approval_state": REJECTED,
                "ps_rejection_reason": reason or _("Rejected by %s", self.env.user.name),
                "ps_approved_by_id": False,
                "ps_approved_on": False,
            }
        )
        return True

    def action_ps_reset_to_draft(self):
        self._ps_check_not_billed(_("sent back to draft"))
        if not self._ps_can_approve():
            raise AccessError(_("Only the project manager (or a Billing Manager) can reopen time."))
        self.sudo().with_context(**{CTX_KEEP_APPROVAL: True}).write(
            {"ps_approval_state": DRAFT, "ps_approved_by_id": False, "ps_approved_on": False}
        )
        return True

    def action_ps_mark_nonbillable(self, reason):
        self._ps_check_not_billed(_("marked non-billable"))
        self.sudo().write({"ps_billing_state": NON_BILLABLE, "ps_nonbillable_reason": reason})
        return True

    @api.model
    def _ps_approve_existing_on_install(self):
        """Time already in the database when the addon is installed is approved: billing and
        delivered quantities of existing contracts do not change."""
        self.env.cr.execute(
            """UPDATE account_analytic_line SET ps_approval_state = 'approved'
               WHERE project_id IS NOT NULL AND ps_approval_state = 'draft'"""
        )
        # Lines already invoiced by Odoo before the install are billed for this addon too.
        self.env.cr.execute(
            """UPDATE account_analytic_line l SET ps_billing_state = 'billed'
               FROM account_move m
               WHERE l.timesheet_invoice_id = m.id AND m.state != 'cancel'
                 AND l.ps_billing_state = 'unbilled'"""
        )
