from datetime import timedelta

from odoo import Command, _, api, fields, models

from ..engine.constants import APPROVED, TM, UNBILLED


class PsWipAccrual(models.Model):
    """Period-end accrual of work in progress (approved, unbilled time at its standard value):
    unbilled receivable against revenue at the period end, reversed on the first day of the next
    period so that it is never counted twice with the invoices that follow."""

    _name = "ps.wip.accrual"
    _description = "WIP Accrual"
    _order = "period_end desc"

    company_id = fields.Many2one("res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    period_end = fields.Date(required=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    move_id = fields.Many2one("account.move", string="Accrual", readonly=True)
    reversal_move_id = fields.Many2one("account.move", string="Reversal", readonly=True)

    _sql_constraints = [
        (
            "company_period_uniq",
            "unique(company_id, period_end)",
            "One WIP accrual per company and period.",
        ),
    ]

    @api.model
    def _wip_by_order(self, company, as_of):
        """Approved, unbilled time-and-materials value per contract, in company currency."""
        Line = self.env["account.analytic.line"].sudo()
        timesheets = Line.search(
            [
                ("company_id", "=", company.id),
                ("project_id", "!=", False),
                ("date", "<=", as_of),
                ("ps_approval_state", "=", APPROVED),
                ("ps_billing_state", "=", UNBILLED),
                ("so_line.ps_billing_model", "=", TM),
            ]
        )
        values = {}
        for ts in timesheets:
            currency = ts.ps_rate_currency_id or company.currency_id
            value = currency._convert(
                ts.ps_rate * ts.unit_amount, company.currency_id, company, as_of, round=False
            )
            values[ts.so_line.order_id] = values.get(ts.so_line.order_id, 0.0) + value
        return {order: company.currency_id.round(value) for order, value in values.items()}

    @api.model
    def _accrue(self, company, period_end):
        """Post the accrual of ``period_end`` and its reversal (idempotent per period)."""
        existing = self.search([("company_id", "=", company.id), ("period_end", "=", period_end)])
        if existing:
            return existing, [_("WIP for %s was already accrued.", period_end)]
        receivable = company.ps_unbilled_receivable_account_id
        revenue = company.ps_wip_revenue_account_id
        journal = company.ps_billing_journal_id
        if not (receivable and revenue and journal):
            return self.browse(), [
                _(
                    "Set the unbilled receivable and WIP revenue accounts and the billing "
                    "journal in Settings > Invoicing to accrue WIP."
                )
            ]
        lock = company._get_user_fiscal_lock_date(journal)
        if lock and period_end <= lock:
            return self.browse(), [_("The period ending %s is locked: no WIP accrual.", period_end)]
        by_order = self._wip_by_order(company, period_end)
        total = company.currency_id.round(sum(by_order.values()))
        if company.currency_id.is_zero(total):
            return self.browse(), [_("No unbilled time at %s.", period_end)]
        label = _("WIP accrual %s", period_end)
        credit_lines = [
            Command.create(
                {
                    "account_id": revenue.id,
                    "credit": amount,
                    "debit": 0.0,
                    "name": f"{label} {order.name}",
                    "partner_id": order.partner_id.commercial_partner_id.id,
                }
            )
            for order, amount in by_order.items()
            if not company.currency_id.is_zero(amount)
        ]
        move = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": period_end,
                    "ref": label,
                    "company_id": company.id,
                    "line_ids": [
                        Command.create(
                            {
                                "account_id": receivable.id,
                                "debit": total,
                                "credit": 0.0,
                                "name": label,
                            }
                        ),
                        *credit_lines,
                    ],
                }
            )
        )
        move.action_post()
        reversal = move._reverse_moves(
            [{"date": period_end + timedelta(days=1), "ref": _("Reversal of %s", label)}],
            cancel=False,
        )
        reversal.action_post()
        accrual = self.create(
            {
                "company_id": company.id,
                "period_end": period_end,
                "amount": total,
                "move_id": move.id,
                "reversal_move_id": reversal.id,
            }
        )
        return accrual, []
