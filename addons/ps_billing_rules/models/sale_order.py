from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine.constants import OPEN_STATES


class SaleOrder(models.Model):
    """The contract: its billing terms, holds, cap and the rates that govern it."""

    _inherit = "sale.order"

    @api.model
    def _ps_check_rerate_allowed(self):
        """Re-rating changes the amounts of unbilled work (it runs as superuser on the timesheet
        lines): Billing Managers only, whichever button or RPC starts it."""
        if not self.env.su and not self.env.user.has_group(
            "ps_billing_rules.group_billing_manager"
        ):
            raise AccessError(
                _(
                    "Only Billing Managers can re-rate unbilled time (%(managers)s). Ask one of "
                    "them, or change the rates on the contract's rate card.",
                    managers=", ".join(
                        self.env.ref("ps_billing_rules.group_billing_manager")
                        .sudo()
                        .users.filtered("active")
                        .mapped("name")
                    )
                    or _("none configured"),
                )
            )

    ps_governed = fields.Boolean(
        string="Billed by billing rules",
        compute="_compute_ps_governed",
        store=True,
        index=True,
        help="A contract with a billing model on any line is invoiced only through billing runs "
        "and the pre-bill review, including from Odoo's own Create Invoice button.",
    )
    ps_billing_cycle = fields.Selection(
        [("weekly", "Weekly"), ("monthly", "Monthly (month end)")],
        string="Billing cycle",
        default="monthly",
        tracking=True,
    )
    ps_invoice_grouping = fields.Selection(
        [("contract", "One invoice per contract"), ("customer", "One invoice per customer")],
        string="Invoice grouping",
        default="contract",
        tracking=True,
    )
    ps_invoice_detail = fields.Selection(
        [("role", "One line per role / service"), ("entry", "One line per timesheet entry")],
        string="Invoice detail",
        default="role",
        tracking=True,
    )
    ps_cap_amount = fields.Monetary(
        string="Not-to-exceed",
        currency_field="currency_id",
        tracking=True,
        help="Untaxed amount that invoices of this contract never exceed without a Billing "
        "Manager's approval. Empty: no cap.",
    )
    ps_cap_approved_excess = fields.Monetary(
        string="Approved over cap",
        currency_field="currency_id",
        readonly=True,
        tracking=True,
        copy=False,
    )
    ps_billed_amount = fields.Monetary(
        string="Invoiced (untaxed)",
        currency_field="currency_id",
        compute="_compute_ps_billed_amount",
        help="Draft and posted invoices minus credit notes, untaxed.",
    )
    ps_cap_remaining = fields.Monetary(
        string="Left under cap", currency_field="currency_id", compute="_compute_ps_billed_amount"
    )
    ps_timesheet_detail = fields.Boolean(
        string="Timesheet detail on invoice PDF",
        help="The invoice PDF lists the timesheet lines it bills (date, employee, task, hours).",
    )
    ps_expense_markup = fields.Float(
        string="Expense markup (%)",
        tracking=True,
        help="Re-invoiced expenses are billed at cost plus this percentage.",
    )
    ps_rate_card_ids = fields.One2many(
        "ps.rate.card", "sale_order_id", string="Contract rate cards"
    )
    ps_hold_ids = fields.One2many("ps.billing.hold", "sale_order_id", string="Holds")
    ps_active_hold_count = fields.Integer(compute="_compute_ps_active_hold_count")
    ps_billing_seq = fields.Integer(
        copy=False, readonly=True, help="Bumped by every billing of the contract (serialises runs)."
    )

    @api.depends("order_line.ps_billing_model")
    def _compute_ps_governed(self):
        for order in self:
            order.ps_governed = any(order.order_line.mapped("ps_billing_model"))

    @api.depends(
        "order_line.invoice_lines.price_subtotal",
        "order_line.invoice_lines.parent_state",
        "order_line.ps_invoice_line_ids.price_subtotal",
        "order_line.ps_invoice_line_ids.parent_state",
        "ps_cap_amount",
        "ps_cap_approved_excess",
    )
    def _compute_ps_billed_amount(self):
        amounts = self._ps_invoiced_amounts()
        for order in self:
            order.ps_billed_amount = amounts.get(order.id, 0.0)
            order.ps_cap_remaining = (
                order.ps_cap_amount + order.ps_cap_approved_excess - order.ps_billed_amount
                if order.ps_cap_amount
                else 0.0
            )

    def _ps_invoiced_amounts(self):
        """Untaxed invoiced amount per contract, in its currency: lines of draft and posted
        invoices (minus credit notes) linked to its lines or billed for it by a run."""
        if not self.ids:
            return {}
        self.env["account.move"].flush_model(["state", "move_type"])
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """
            SELECT sol.order_id,
                   SUM(CASE WHEN m.move_type = 'out_refund' THEN -aml.price_subtotal
                            ELSE aml.price_subtotal END)
            FROM account_move_line aml
            JOIN account_move m ON m.id = aml.move_id
            JOIN sale_order_line sol ON sol.id = COALESCE(
                aml.ps_sale_line_id,
                (SELECT rel.order_line_id FROM sale_order_line_invoice_rel rel
                 WHERE rel.invoice_line_id = aml.id LIMIT 1))
            WHERE sol.order_id = ANY(%s)
              AND m.state != 'cancel'
              AND m.move_type IN ('out_invoice', 'out_refund')
              AND aml.display_type = 'product'
            GROUP BY sol.order_id
            """,
            (self.ids,),
        )
        return dict(self.env.cr.fetchall())

    def _compute_ps_active_hold_count(self):
        for order in self:
            order.ps_active_hold_count = len(order.ps_hold_ids.filtered("active"))

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def action_ps_approve_over_cap(self, amount):
        """A Billing Manager lets invoices go past the cap by ``amount`` (audited in the chatter)."""
        if not self.env.user.has_group("ps_billing_rules.group_billing_manager"):
            raise AccessError(
                _("Only a Billing Manager can approve billing over a contract's cap: ask one.")
            )
        for order in self:
            order.ps_cap_approved_excess += amount
            order.message_post(
                body=_(
                    "%(user)s approved billing %(amount)s over the not-to-exceed amount.",
                    user=self.env.user.name,
                    amount=order.currency_id.format(amount),
                )
            )
        return True

    def _ps_request_cap_approval(self, waiting_amount):
        """Ask the Billing Managers (one open activity per contract) to approve billing over cap."""
        self.ensure_one()
        summary = _("Billing over the not-to-exceed amount")
        if self.activity_ids.filtered(lambda a: a.summary == summary):
            return
        managers = self.env.ref("ps_billing_rules.group_billing_manager").users.filtered(
            lambda u: not u.share and self.company_id in u.company_ids
        ) - self.env.ref("base.user_root")
        for user in managers[:5]:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=_(
                    "%(amount)s of approved work waits because it would exceed the cap of %(cap)s.",
                    amount=self.currency_id.format(waiting_amount),
                    cap=self.currency_id.format(self.ps_cap_amount),
                ),
                user_id=user.id,
            )

    def action_ps_rerate_unbilled(self):
        """Apply today's rate cards to the unbilled time of these contracts, logged per contract."""
        self._ps_check_rerate_allowed()
        Line = self.env["account.analytic.line"].sudo()
        for order in self.filtered("ps_governed"):
            lines = Line.search(
                [
                    ("so_line", "in", order.order_line.ids),
                    ("project_id", "!=", False),
                    ("ps_billing_state", "in", OPEN_STATES),
                ]
            )
            before = {line.id: (line.ps_rate, line.ps_rate_source) for line in lines}
            lines._ps_assign_rates()
            changed = [
                line for line in lines if (line.ps_rate, line.ps_rate_source) != before[line.id]
            ]
            if changed:
                rows = "".join(
                    f"<li>{line.date} {line.employee_id.name}: {before[line.id][0]:.2f} → "
                    f"{line.ps_rate:.2f} ({line.ps_rate_source or _('no rate')})</li>"
                    for line in changed[:50]
                )
                more = _("<li>… and %s more</li>", len(changed) - 50) if len(changed) > 50 else ""
                order.message_post(
                    body=_(
                        "Re-rated %(count)s unbilled timesheet line(s) with the current rate cards "
                        "(billed lines keep their rates):<ul>%(rows)s%(more)s</ul>",
                        count=len(changed),
                        rows=rows,
                        more=more,
                    )
                )
            else:
                order.message_post(
                    body=_("Re-rate: every unbilled line already had its current rate.")
                )
        return True

    def action_ps_open_prebill(self):
        self.ensure_one()
        prebill = self.env["ps.prebill"]._for_contract(self, fields.Date.context_today(self))
        return {
            "type": "ir.actions.act_window",
            "res_model": "ps.prebill",
            "res_id": prebill.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_ps_place_hold(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Place a billing hold"),
            "res_model": "ps.billing.hold",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_scope": "contract",
                "default_sale_order_id": self.id,
                "default_company_id": self.company_id.id,
            },
        }

    # ------------------------------------------------------------------------------------------
    # Odoo's own "Create Invoice" goes through the rules for governed contracts
    # ------------------------------------------------------------------------------------------

    def _create_invoices(self, grouped=False, final=False, date=None):
        """Governed contracts are billed by the rules. The timesheet period of Odoo's "Create
        Invoice" wizard (start and end dates, passed in the context as sale_timesheet does) is
        honoured: only time of that period is billed, everything else up to its end."""
        governed = self.filtered("ps_governed")
        moves = self.env["account.move"]
        if governed:
            context = self.env.context
            period_start = fields.Date.to_date(context.get("timesheet_start_date") or None)
            period_end = fields.Date.to_date(
                context.get("timesheet_end_date") or date or fields.Date.context_today(self)
            )
            run = self.env["ps.billing.run"]._bill_contracts(
                governed,
                period_end,
                origin=_("Create Invoice on %s", ", ".join(governed.mapped("name"))),
                period_start=period_start,
                # Odoo's wizard passes its "Deduct down payments" as ``final``.
                deduct_down_payments=final,
            )
            moves |= run.invoice_ids
            if not moves and not (self - governed):
                raise UserError(run._nothing_to_bill_message())
        if self - governed:
            moves |= super(SaleOrder, self - governed)._create_invoices(
                grouped=grouped, final=final, date=date
            )
        return moves
