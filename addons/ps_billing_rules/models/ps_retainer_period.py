from datetime import timedelta

from odoo import _, api, fields, models

from ..engine import periods as period_logic
from ..engine.constants import (
    APPROVED,
    BILLED,
    BILLING_STATES,
    NO_ROLLOVER,
    PERIOD_CLOSED,
    PERIOD_OPEN,
    RETAINER_PERIOD_STATES,
    UNBILLED,
)
from ..engine.retainer import Bucket, close_period


class PsRetainerPeriod(models.Model):
    """One period of a retainer: its fee (invoiced in advance), what was used, and the true-up
    at period end (rollover, expiry, overage billed in arrears)."""

    _name = "ps.retainer.period"
    _description = "Retainer Period"
    _inherit = ["ps.billable.mixin"]
    _order = "sale_line_id, date_start"

    sale_line_id = fields.Many2one("sale.order.line", required=True, ondelete="cascade", index=True)
    order_id = fields.Many2one(related="sale_line_id.order_id", store=True, index=True)
    company_id = fields.Many2one(related="sale_line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="sale_line_id.currency_id")
    partner_id = fields.Many2one(related="order_id.partner_id", store=True)
    index = fields.Integer(required=True, help="0 for the first period of the retainer.")
    date_start = fields.Date(required=True)
    date_end = fields.Date(required=True)
    unit = fields.Selection(related="sale_line_id.ps_retainer_unit")
    included = fields.Float(readonly=True)
    rolled_in = fields.Float(string="Rolled in", readonly=True)
    consumed = fields.Float(readonly=True)
    overage = fields.Float(readonly=True)
    expired = fields.Float(readonly=True)
    rolled_out = fields.Float(string="Rolled out", readonly=True)
    rollover_buckets = fields.Json(
        readonly=True, help="Units carried to the next period, by origin."
    )
    state = fields.Selection(RETAINER_PERIOD_STATES, default=PERIOD_OPEN, required=True, index=True)
    closed_on = fields.Date(readonly=True)
    # The fee uses the billable mixin fields; the overage has its own.
    overage_billing_state = fields.Selection(
        BILLING_STATES, string="Overage billing status", default=UNBILLED, required=True
    )
    overage_invoice_line_id = fields.Many2one(
        "account.move.line", readonly=True, ondelete="set null"
    )
    overage_billed_amount = fields.Float(readonly=True)
    ledger_ids = fields.One2many("ps.retainer.ledger", "period_id", string="Ledger")

    _sql_constraints = [
        (
            "line_start_uniq",
            "unique(sale_line_id, date_start)",
            "A retainer has one record per period.",
        ),
    ]

    @api.depends("sale_line_id", "date_start", "date_end")
    def _compute_display_name(self):
        for period in self:
            period.display_name = _(
                "%(order)s retainer %(start)s → %(end)s",
                order=period.order_id.name,
                start=period.date_start,
                end=period.date_end,
            )

    def _ledger(self, kind, day, units, note):
        self.ensure_one()
        self.env["ps.retainer.ledger"].sudo().create(
            {"period_id": self.id, "date": day, "kind": kind, "units": units, "note": note}
        )

    # ------------------------------------------------------------------------------------------
    # Periods of a retainer line
    # ------------------------------------------------------------------------------------------

    @api.model
    def _for_line(self, sol, cutoff):
        """The periods of a retainer line that start on or before the day after ``cutoff``
        (created when missing), oldest first: a run at a period's end bills the next period's
        fee in advance. Never more periods than the line sold."""
        existing = {p.date_start: p for p in self.sudo().search([("sale_line_id", "=", sol.id)])}
        horizon = cutoff + timedelta(days=1)
        end = min(horizon, sol.ps_retainer_end) if sol.ps_retainer_end else horizon
        bounds = (
            period_logic.periods_between(
                sol.ps_retainer_period or "monthly", sol.ps_retainer_start, end
            )
            if sol.ps_retainer_start and sol.ps_retainer_start <= end
            else []
        )
        result = self.sudo().browse()
        for index, (start, stop) in enumerate(bounds[: max(sol.ps_period_count, 0)]):
            period = existing.get(start)
            if not period:
                period = self.sudo().create(
                    {
                        "sale_line_id": sol.id,
                        "index": index,
                        "date_start": start,
                        "date_end": stop,
                        "included": sol.ps_retainer_included,
                    }
                )
                period._ledger(
                    "included", start, sol.ps_retainer_included, _("included in the period")
                )
            result |= period
        return result

    # ------------------------------------------------------------------------------------------
    # True-up
    # ------------------------------------------------------------------------------------------

    def _true_up(self):
        """Close the period: consumption from approved time, rollover, expiry, overage.

        Consumption is the approved time of the line not yet consumed up to the period's end:
        time approved late for an already closed period counts against this one. The time it
        consumed is locked (billed) for good: crediting or cancelling the fee's invoice later
        never makes it consumable again.
        """
        self.ensure_one()
        sol = self.sale_line_id
        timesheets = (
            self.env["account.analytic.line"]
            .sudo()
            .search(
                [
                    ("so_line", "=", sol.id),
                    ("project_id", "!=", False),
                    ("date", "<=", self.date_end),
                    ("ps_approval_state", "=", APPROVED),
                    ("ps_billing_state", "=", UNBILLED),
                ]
            )
        )
        consumed = self._consumption(timesheets)
        previous = self.search(
            [("sale_line_id", "=", sol.id), ("date_end", "<", self.date_start)],
            order="date_start desc",
            limit=1,
        )
        carried = [
            Bucket(b["units"], b["from"], b.get("expires"))
            for b in (previous.rollover_buckets or [])
        ]
        outcome = close_period(
            self.index,
            self.included,
            consumed,
            carried,
            rule=sol.ps_rollover_rule or NO_ROLLOVER,
            cap=sol.ps_rollover_cap,
            expiry_periods=sol.ps_rollover_expiry,
        )
        rolled_in = sum(b.units for b in carried)
        rolled_out = sum(b.units for b in outcome.rolled_over)
        self.write(
            {
                "rolled_in": rolled_in,
                "consumed": consumed,
                "overage": outcome.overage,
                "expired": outcome.expired,
                "rolled_out": rolled_out,
                "rollover_buckets": [
                    {"units": b.units, "from": b.from_period, "expires": b.expires_after}
                    for b in outcome.rolled_over
                ],
                "state": PERIOD_CLOSED,
                "closed_on": fields.Date.context_today(self),
            }
        )
        end = self.date_end
        if rolled_in:
            self._ledger(
                "rollover_in", self.date_start, rolled_in, _("carried from earlier periods")
            )
        if consumed:
            self._ledger(
                "consumption", end, -consumed, _("%s approved timesheet line(s)", len(timesheets))
            )
        if outcome.overage:
            self._ledger(
                "overage", end, outcome.overage, _("beyond what was available: billed in arrears")
            )
        if outcome.expired:
            self._ledger("expiry", end, -outcome.expired, _("unused and not carried over"))
        if rolled_out:
            self._ledger("rollover_out", end, -rolled_out, _("carried to the next period"))
        if timesheets:
            # Covered by the retainer: locked as billed, on the period's fee line if billed.
            self.env.cr.execute(
                """UPDATE account_analytic_line SET ps_billing_state = %s,
                       ps_invoice_line_id = %s, ps_invoice_id = %s
                   WHERE id = ANY(%s) AND ps_billing_state = %s""",
                (
                    BILLED,
                    self.ps_invoice_line_id.id or None,
                    self.ps_invoice_id.id or None,
                    timesheets.ids,
                    UNBILLED,
                ),
            )
            timesheets.invalidate_recordset()
        return outcome

    def _consumption(self, timesheets):
        """Units used by ``timesheets``: hours, or their value at standard rates in the
        contract's currency (amount retainers)."""
        sol = self.sale_line_id
        if sol.ps_retainer_unit != "amount":
            return sum(timesheets.mapped("unit_amount"))
        order = sol.order_id
        total = 0.0
        for ts in timesheets:
            currency = ts.ps_rate_currency_id or order.currency_id
            total += currency._convert(
                ts.ps_rate * ts.unit_amount,
                order.currency_id,
                order.company_id,
                self.date_end,
                round=False,
            )
        return order.currency_id.round(total)

    def _ps_link_consumed_time(self, move_line):
        """Time this period's true-up consumed points at the invoice line of its fee."""
        self.ensure_one()
        self.env.cr.execute(
            """UPDATE account_analytic_line SET ps_invoice_line_id = %s, ps_invoice_id = %s
               WHERE so_line = %s AND date BETWEEN %s AND %s AND ps_billing_state = %s
                 AND ps_invoice_line_id IS NULL""",
            (
                move_line.id,
                move_line.move_id.id,
                self.sale_line_id.id,
                self.date_start,
                self.date_end,
                BILLED,
            ),
        )
        self.env["account.analytic.line"].invalidate_model(["ps_invoice_line_id", "ps_invoice_id"])
