"""Billable items of a contract: shares of its fees (milestones, installments, retainer fees)
and retainer overage. Each share bills exactly its amount: the last share of a line takes what the
others leave, so a contract line never ends a cent off what it sold."""

from odoo import _, api, models

from ..engine.allocation import round_amount, split_evenly
from ..engine.billing_items import Item
from ..engine.constants import (
    BILLED,
    KIND_INSTALLMENT,
    KIND_MILESTONE,
    KIND_RETAINER_FEE,
    KIND_RETAINER_OVERAGE,
    PERIOD_OPEN,
    SKIP_DEFERRED,
    SKIP_NO_RATE,
    SKIP_REVIEW,
)
from ..engine.invoice_lines import net_price


class PsBillingCollector(models.AbstractModel):
    _inherit = "ps.billing.collector"

    @api.model
    def _share_item(self, kind, record, sol, day, amount, description, **values):
        """An item billing ``amount`` of a contract line's total: the invoice line's quantity
        is the exact share of the line's quantity (so Odoo's invoiced quantity adds up to the
        ordered one), priced at the line's price and discount."""
        net = net_price(sol.price_unit, sol.discount)
        quantity = amount / net if net else 0.0
        adjusted = bool(record.ps_adjustment_reason)
        return Item(
            key=f"{kind}:{record.id}",
            kind=kind,
            record=record,
            sale_line=sol,
            day=day,
            quantity=quantity,
            price_unit=sol.price_unit,
            discount=sol.discount or 0.0,
            preset_standard=amount,
            amount=record.ps_adjusted_amount if adjusted else None,
            adjusted=adjusted,
            description=description,
            group_key=(kind, record.id),
            **values,
        )

    @api.model
    def _deferred_skip(self, context, record, what):
        if record.ps_defer_until and record.ps_defer_until > context["cutoff"]:
            context["skipped"].append(
                (context["order"], what, SKIP_DEFERRED, _("deferred to %s", record.ps_defer_until))
            )
            return True
        return False

    @api.model
    def _collect_milestones(self, context, lines):
        cutoff, currency = context["cutoff"], context["order"].currency_id
        milestones = (
            self.env["project.milestone"]
            .sudo()
            .search([("sale_line_id", "in", lines.ids)], order="reached_date, id")
        )
        for milestone in milestones:
            sol = milestone.sale_line_id
            if (
                milestone.ps_billing_state not in context["states"]
                or not milestone.is_reached
                or not milestone.reached_date
                or milestone.reached_date > cutoff
            ):
                continue
            if self._deferred_skip(context, milestone, milestone.name):
                continue
            siblings = milestones.filtered(lambda m, sol=sol: m.sale_line_id == sol)
            amount = self._milestone_amount(milestone, siblings, currency)
            context["items"].append(
                self._share_item(
                    KIND_MILESTONE,
                    milestone,
                    sol,
                    milestone.reached_date,
                    amount,
                    _(
                        "%(line)s: milestone %(milestone)s reached on %(date)s",
                        line=sol.product_id.display_name,
                        milestone=milestone.name,
                        date=milestone.reached_date,
                    ),
                    project=milestone.project_id,
                )
            )

    @api.model
    def _milestone_amount(self, milestone, siblings, currency):
        """Its share of the line's total; when the milestones make 100 % of the line, the last
        one not yet billed takes what the others leave."""
        total = milestone.sale_line_id.price_subtotal
        digits = currency.decimal_places
        unbilled = siblings.filtered(lambda m: m.ps_billing_state != BILLED)
        complete = abs(sum(siblings.mapped("quantity_percentage")) - 1.0) < 1e-6
        if complete and unbilled == milestone:
            return round_amount(
                total
                - sum(
                    round_amount(total * other.quantity_percentage, digits)
                    for other in siblings - milestone
                ),
                digits,
            )
        return round_amount(total * milestone.quantity_percentage, digits)

    @api.model
    def _collect_installments(self, context, lines):
        installments = (
            self.env["ps.billing.installment"]
            .sudo()
            .search(
                [("sale_line_id", "in", lines.ids), ("ps_billing_state", "in", context["states"])],
                order="date, id",
            )
        )
        for installment in installments:
            if installment.date > context["cutoff"]:
                continue
            if self._deferred_skip(context, installment, installment.name):
                continue
            sol = installment.sale_line_id
            context["items"].append(
                self._share_item(
                    KIND_INSTALLMENT,
                    installment,
                    sol,
                    installment.date,
                    installment.amount,
                    _(
                        "%(line)s: %(name)s (%(pct)s%%)",
                        line=sol.product_id.display_name,
                        name=installment.name,
                        pct=round(installment.percentage, 2),
                    ),
                    deferred_revenue=True,
                )
            )

    @api.model
    def _collect_retainers(self, context, lines):
        order, cutoff, states = context["order"], context["cutoff"], context["states"]
        items, skipped = context["items"], context["skipped"]
        currency = order.currency_id
        for sol in lines:
            periods = self.env["ps.retainer.period"]._for_line(sol, cutoff)
            fees = split_evenly(sol.price_subtotal, sol.ps_period_count, currency.decimal_places)
            due = periods.filtered(lambda p: p.ps_billing_state in states)
            # A first run for a retainer that started in the past catches up several fees:
            # the pre-bill review shows them before they are billed.
            catch_up = (
                not context["include_review"]
                and len(due) > 1
                and not periods.filtered(lambda p: p.ps_billing_state == BILLED)
            )
            if catch_up:
                skipped.append(
                    (
                        order,
                        _(
                            "%(count)s retainer fees of %(line)s",
                            count=len(due),
                            line=sol.product_id.name,
                        ),
                        SKIP_REVIEW,
                        _(
                            "first billing of a retainer that started on %(start)s: the fees from "
                            "%(first)s to %(last)s (and any overage) catch up on past periods; "
                            "check and bill them from the contract's pre-bill review",
                            start=sol.ps_retainer_start,
                            first=due[0].date_start,
                            last=due[-1].date_end,
                        ),
                    )
                )
            for period in periods:
                if period in due and not catch_up:
                    items.append(
                        self._share_item(
                            KIND_RETAINER_FEE,
                            period,
                            sol,
                            period.date_start,
                            fees[period.index],
                            _(
                                "%(line)s: retainer %(start)s to %(end)s (period %(n)s of %(count)s)",
                                line=sol.product_id.display_name,
                                start=period.date_start,
                                end=period.date_end,
                                n=period.index + 1,
                                count=sol.ps_period_count,
                            ),
                            deferred_revenue=True,
                        )
                    )
                # Overage is billed in arrears, after the period's true-up (with the fees when
                # they catch up: in the review).
                if period.date_end <= cutoff:
                    if period.state == PERIOD_OPEN:
                        period._true_up()
                    self._collect_overage(context, sol, period, report_only=catch_up)

    @api.model
    def _collect_overage(self, context, sol, period, report_only=False):
        """The overage of a trued-up period, billed in arrears (``report_only``: waits in the
        review with the period's fee, only a missing overage rate is reported)."""
        order = context["order"]
        if period.overage <= 0 or period.overage_billing_state not in context["states"]:
            return
        rate = sol.ps_overage_rate
        if not rate:
            context["skipped"].append(
                (
                    order,
                    period.display_name,
                    SKIP_NO_RATE,
                    _(
                        "%(units)s overage unit(s) but no overage rate on the retainer line",
                        units=period.overage,
                    ),
                )
            )
            return
        if report_only:
            return
        context["items"].append(
            Item(
                key=f"{KIND_RETAINER_OVERAGE}:{period.id}",
                kind=KIND_RETAINER_OVERAGE,
                record=period,
                sale_line=sol,
                day=period.date_end,
                quantity=period.overage,
                price_unit=rate,
                description=_(
                    "%(line)s: overage %(start)s to %(end)s (%(units)s %(unit)s beyond the retainer)",
                    line=sol.product_id.display_name,
                    start=period.date_start,
                    end=period.date_end,
                    units=period.overage,
                    unit=_("h") if sol.ps_retainer_unit == "hours" else order.currency_id.symbol,
                ),
                group_key=(KIND_RETAINER_OVERAGE, period.id),
                link_sale_line=False,
            )
        )
