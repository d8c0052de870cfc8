import logging

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.tools import date_utils

from ..engine import recognition
from ..engine.constants import APPROVED, BILLED, DEFERRED_MODELS, FIXED_FEE, PERIOD_CLOSED, RETAINER

_logger = logging.getLogger(__name__)


class PsRecognitionLine(models.Model):
    """One recognition of revenue for a contract line at a period end: the part of its deferred
    revenue earned by then (fixed fee: straight-line or percent complete; retainer: as consumed
    or straight-line), posted deferred -> revenue.

    Closing a period again posts nothing unless the target moved (an amended contract): then an
    adjustment for the difference. A locked period is never touched.
    """

    _name = "ps.recognition.line"
    _description = "Revenue Recognition"
    _order = "period_end desc, sale_line_id, id"

    sale_line_id = fields.Many2one(
        "sale.order.line", required=True, index=True, ondelete="restrict"
    )
    order_id = fields.Many2one(related="sale_line_id.order_id", store=True, index=True)
    partner_id = fields.Many2one(related="order_id.partner_id", store=True)
    company_id = fields.Many2one(related="sale_line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_end = fields.Date(required=True, index=True)
    method = fields.Selection(related="sale_line_id.ps_recognition_method", store=True)
    target_cumulative = fields.Monetary(
        string="Earned to date",
        currency_field="currency_id",
        readonly=True,
        help="Revenue of the line earned by the period end, in company currency.",
    )
    amount = fields.Monetary(
        string="Recognised now",
        currency_field="currency_id",
        readonly=True,
        help="What this entry moved from deferred revenue to revenue.",
    )
    is_adjustment = fields.Boolean(readonly=True, help="Posted when an amendment moved the target.")
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    note = fields.Char(readonly=True)

    # ------------------------------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------------------------------

    @api.model
    def _deferred_balance(self, sol, as_of):
        """(contract currency, company currency) that posted invoices and credit notes of the
        line put into deferred revenue up to ``as_of``."""
        deferred = sol.company_id.ps_deferred_revenue_account_id
        if not deferred:
            return 0.0, 0.0
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(
            """SELECT COALESCE(-SUM(aml.amount_currency), 0), COALESCE(-SUM(aml.balance), 0)
               FROM account_move_line aml
               WHERE aml.account_id = %s AND aml.parent_state = 'posted' AND aml.date <= %s
                 AND (aml.ps_sale_line_id = %s OR aml.id IN (
                      SELECT rel.invoice_line_id FROM sale_order_line_invoice_rel rel
                      WHERE rel.order_line_id = %s))""",
            (deferred.id, as_of, sol.id, sol.id),
        )
        return self.env.cr.fetchone()

    @api.model
    def _earned(self, sol, as_of):
        """Revenue of a deferred line earned by ``as_of``, in the contract's currency."""
        method = sol.ps_recognition_method
        total = sol.price_subtotal
        if sol.ps_billing_model == FIXED_FEE:
            if method == "percent_complete":
                hours = sum(
                    self.env["account.analytic.line"]
                    .sudo()
                    .search(
                        [
                            ("so_line", "=", sol.id),
                            ("project_id", "!=", False),
                            ("date", "<=", as_of),
                            ("ps_approval_state", "=", APPROVED),
                        ]
                    )
                    .mapped("unit_amount")
                )
                return recognition.percent_complete(total, hours, sol.ps_budget_hours)
            return recognition.straight_line(total, sol.ps_service_start, sol.ps_service_end, as_of)
        if sol.ps_billing_model == RETAINER:
            return self._retainer_earned(sol, as_of)
        return 0.0

    @api.model
    def _target(self, sol, as_of):
        """Cumulative revenue earned by ``as_of`` for a deferred line, in company currency: what
        was invoiced is released at the rate it was deferred at (deferred revenue ends at zero
        exactly), what is earned beyond it at the rate of ``as_of``."""
        company = sol.company_id
        deferred, deferred_company = self._deferred_balance(sol, as_of)
        return recognition.at_deferred_rate(
            self._earned(sol, as_of),
            deferred,
            deferred_company,
            lambda amount: sol.currency_id._convert(
                amount, company.currency_id, company, as_of, round=False
            ),
        )

    @api.model
    def _retainer_earned(self, sol, as_of):
        """Fees of the periods invoiced so far: earned as their units are used (a closed period
        is fully earned: its unused units expired or were carried), or straight-line over each
        period."""
        earned = 0.0
        periods = (
            self.env["ps.retainer.period"]
            .sudo()
            .search(
                [
                    ("sale_line_id", "=", sol.id),
                    ("ps_billing_state", "=", BILLED),
                    ("date_start", "<=", as_of),
                ]
            )
        )
        for period in periods:
            fee = period.ps_billed_amount
            if sol.ps_recognition_method == "straight_line":
                earned += recognition.straight_line(fee, period.date_start, period.date_end, as_of)
            elif period.state == PERIOD_CLOSED and period.date_end <= as_of:
                earned += fee
            else:
                used = sum(
                    self.env["account.analytic.line"]
                    .sudo()
                    .search(
                        [
                            ("so_line", "=", sol.id),
                            ("project_id", "!=", False),
                            ("date", ">=", period.date_start),
                            ("date", "<=", min(as_of, period.date_end)),
                            ("ps_approval_state", "=", APPROVED),
                        ]
                    )
                    .mapped("unit_amount")
                )
                earned += recognition.as_consumed(fee, period.included + period.rolled_in, used)
        return earned

    # ------------------------------------------------------------------------------------------
    # Period close
    # ------------------------------------------------------------------------------------------

    @api.model
    def _close_period(self, company, period_end):
        """Recognise revenue of every deferred contract line of ``company`` up to ``period_end``.

        Returns (recognition lines created, messages for the user).
        """
        messages = []
        journal = company.ps_billing_journal_id or self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", company.id)], limit=1
        )
        deferred = company.ps_deferred_revenue_account_id
        if not deferred:
            return self.browse(), [
                _("Set the deferred revenue account in Settings > Invoicing first.")
            ]
        lock = company._get_user_fiscal_lock_date(journal)
        if lock and period_end <= lock:
            return self.browse(), [
                _(
                    "The period ending %(end)s is locked (lock date %(lock)s): nothing posted.",
                    end=period_end,
                    lock=lock,
                )
            ]
        lines = (
            self.env["sale.order.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("ps_billing_model", "in", DEFERRED_MODELS),
                    ("order_id.state", "=", "sale"),
                ]
            )
        )
        created = self.browse()
        currency = company.currency_id
        for sol in lines:
            try:
                target = currency.round(self._target(sol, period_end))
            except ValueError as exc:  # e.g. percent complete without budgeted hours
                messages.append(_("%(line)s: %(error)s", line=sol.display_name, error=exc))
                continue
            previous = self.search([("sale_line_id", "=", sol.id)])
            recognised = sum(previous.mapped("amount"))
            delta = currency.round(target - recognised)
            if currency.is_zero(delta):
                continue
            same_period = previous.filtered(lambda rec: rec.period_end == period_end)
            later = previous.filtered(lambda rec: rec.period_end > period_end)
            if later:
                messages.append(
                    _(
                        "%(line)s: already recognised for a later period; close that period again.",
                        line=sol.display_name,
                    )
                )
                continue
            move = self._post_entry(sol, journal, deferred, delta, period_end)
            created |= self.create(
                {
                    "sale_line_id": sol.id,
                    "period_end": period_end,
                    "target_cumulative": target,
                    "amount": delta,
                    "is_adjustment": bool(same_period),
                    "move_id": move.id,
                    "note": _("amended contract: target moved") if same_period else False,
                }
            )
        return created, messages

    @api.model
    def _post_entry(self, sol, journal, deferred, amount, period_end):
        """Deferred revenue -> revenue (or back, for a negative adjustment), with the line's
        analytic distribution."""
        revenue = (
            sol.product_id.property_account_income_id
            or sol.product_id.categ_id.property_account_income_categ_id
        )
        label = _(
            "Revenue recognition %(line)s to %(date)s", line=sol.order_id.name, date=period_end
        )
        debit_account, credit_account = (deferred, revenue) if amount > 0 else (revenue, deferred)
        value = abs(amount)
        move = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": period_end,
                    "ref": label,
                    "company_id": sol.company_id.id,
                    "line_ids": [
                        Command.create(
                            {
                                "account_id": debit_account.id,
                                "debit": value,
                                "credit": 0.0,
                                "name": label,
                            }
                        ),
                        Command.create(
                            {
                                "account_id": credit_account.id,
                                "debit": 0.0,
                                "credit": value,
                                "name": label,
                                "analytic_distribution": sol.analytic_distribution,
                            }
                        ),
                    ],
                }
            )
        )
        move.action_post()
        return move

    @api.model
    def _cron_close_previous_month(self):
        """On the first days of a month, close the previous month for companies that bill:
        revenue recognition and, when enabled, the WIP accrual."""
        for company in (
            self.env["res.company"].sudo().search([("ps_deferred_revenue_account_id", "!=", False)])
        ):
            today = fields.Date.context_today(self.with_context(tz=company._ps_timezone()))
            period_end = date_utils.start_of(today, "month") - relativedelta(days=1)
            self._close_period(company, period_end)
            if company.ps_wip_accrual:
                self.env["ps.wip.accrual"]._accrue(company, period_end)
