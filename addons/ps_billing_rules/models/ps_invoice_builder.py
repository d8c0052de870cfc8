"""Native draft invoices from billable items.

For each billing group (a contract, or every "one invoice per customer" contract of a customer):
lock the contracts, collect their items (ps.billing.collector), group them into invoice lines
(engine.invoice_lines) and build the invoice with Odoo's own ``_prepare_invoice`` /
``_prepare_invoice_line``, so that invoice lines link to contract lines (invoiced quantities,
invoice status) and billed timesheets to the invoice (Odoo's locks). Each item records the
invoice line it was billed on; the SQL that records it only touches items still unbilled, so an
item can never be billed twice.
"""

from odoo import Command, _, api, models
from odoo.tools import SQL

from ..engine import periods
from ..engine.allocation import split_proportionally
from ..engine.billing_items import ConcurrentBilling, GroupResult
from ..engine.constants import (
    BILLED,
    KIND_DOWN_PAYMENT,
    KIND_RETAINER_FEE,
    KIND_RETAINER_OVERAGE,
    KIND_TIMESHEET,
    OPEN_STATES,
    TM,
)
from ..engine.invoice_lines import group_items


class PsInvoiceBuilder(models.AbstractModel):
    _name = "ps.invoice.builder"
    _description = "Draft invoices from billable items"

    @api.model
    def _bill_groups(
        self,
        groups,
        period_end,
        invoice_date,
        respect_cycle=True,
        include_review=False,
        holds=None,
        period_start=None,
        deduct_down_payments=True,
    ):
        """Bill several billing groups (one invoice each) with one batched invoice creation, as
        Odoo's own ``_create_invoices`` does; returns a GroupResult per group, in order.

        The contracts' rows are updated first (``ps_billing_seq``): a second run working on them
        at the same time either waits to see this one's items billed, or fails with a
        serialization error and skips them; it can never bill them again.
        """
        all_orders = self.env["sale.order"].union(*groups)
        self._lock_contracts(all_orders)
        if holds is None:
            holds = self.env["ps.billing.hold"]._active_holds_index(all_orders.company_id.ids)
        Collector = self.env["ps.billing.collector"]
        prefetched = Collector._prefetch(all_orders, period_end)
        results, to_invoice = [], []
        for orders in groups:
            result = GroupResult()
            billable = []
            for order in orders:
                cutoff = (
                    periods.cycle_cutoff(order.ps_billing_cycle or "monthly", period_end)
                    if respect_cycle
                    else period_end
                )
                items, skipped = Collector._collect(
                    order, cutoff, invoice_date, include_review, prefetched, period_start
                )
                result.skipped.extend(skipped)
                items = Collector._drop_unconfigured(order, items, result.skipped)
                items = Collector._drop_held(order, items, holds, result.skipped)
                items = Collector._drop_beyond_sold(
                    order, items, result.skipped, prefetched["invoiced"]
                )
                items = Collector._apply_cap(order, items, result.skipped)
                if items and deduct_down_payments:
                    items += Collector._down_payment_items(order, items)
                billable.extend(items)
            results.append(result)
            if billable:
                result.billed = [item for item in billable if item.kind != KIND_DOWN_PAYMENT]
                to_invoice.append((result, orders, self._lines(billable, orders.currency_id)))
        if to_invoice:
            prepared = [
                self._invoice_values(orders, lines, invoice_date)
                for _result, orders, lines in to_invoice
            ]
            invoices = self._create_invoices_batch([vals for vals, _sequences in prepared])
            pairs = []
            for (result, _orders, lines), (_vals, sequences), invoice in zip(
                to_invoice, prepared, invoices, strict=True
            ):
                by_sequence = {line.sequence: line for line in invoice.invoice_line_ids}
                pairs += [(line, by_sequence[sequences[line.key]]) for line in lines]
                result.invoice = invoice
            self._record_billed(pairs)
        return results

    @api.model
    def _lock_contracts(self, orders):
        self.env.cr.execute(
            "UPDATE sale_order SET ps_billing_seq = COALESCE(ps_billing_seq, 0) + 1 WHERE id = ANY(%s)",
            (orders.ids,),
        )
        orders.invalidate_recordset(["ps_billing_seq"])

    @api.model
    def _lines(self, items, currency):
        """The invoice lines of ``items``; each item gets its final standard and billed value."""
        lines = group_items(
            items,
            digits=currency[:1].decimal_places or 2,
            price_digits=self.env["decimal.precision"].precision_get("Product Price"),
        )
        for line in lines:
            for item, standard, amount in zip(
                line.items, line.standards, line.amounts, strict=True
            ):
                item.standard, item.amount = standard, amount
        return lines

    # ------------------------------------------------------------------------------------------
    # Building the invoice
    # ------------------------------------------------------------------------------------------

    @api.model
    def _invoice_values(self, orders, lines, invoice_date):
        """Values of one native draft invoice for ``lines``, and {line key: line sequence}."""
        first = orders[0]
        company = first.company_id
        deferred_account = company.ps_deferred_revenue_account_id
        line_commands = []
        sequence_by_key = {}
        down_payment_section = False
        same_currency = first.currency_id == company.currency_id
        for number, line in enumerate(lines, start=1):
            head = line.items[0]
            sol = head.sale_line
            sequence = number * 10
            if head.kind == KIND_DOWN_PAYMENT and not down_payment_section:
                line_commands.append(
                    Command.create(
                        sol.order_id._prepare_down_payment_section_line(sequence=sequence - 1)
                    )
                )
                down_payment_section = True
            values = sol.with_company(company)._prepare_invoice_line(
                quantity=line.quantity,
                price_unit=line.price_unit,
                discount=line.discount,
                name=self._line_name(line),
                sequence=sequence,
            )
            values["ps_sale_line_id"] = sol.id
            if same_currency:
                # What Odoo's tax sync would write on the line right after creating it: given
                # now, the invoice is created in one go (Odoo still checks it, and corrects it
                # if taxes say otherwise).
                values["amount_currency"] = values["balance"] = -line.amount
            if not head.link_sale_line:
                values.pop("sale_line_ids", None)
                values["analytic_distribution"] = sol.analytic_distribution
            if head.deferred_revenue and deferred_account:
                values["account_id"] = deferred_account.id
            line_commands.append(Command.create(values))
            sequence_by_key[line.key] = sequence
        invoice_vals = first.with_company(company)._prepare_invoice()
        invoice_vals["invoice_date"] = invoice_date
        if len(orders) > 1:
            invoice_vals["invoice_origin"] = ", ".join(orders.mapped("name"))
            refs = [ref for ref in orders.mapped("client_order_ref") if ref]
            invoice_vals["ref"] = ", ".join(dict.fromkeys(refs))[:2000]
        invoice_vals["invoice_line_ids"] = line_commands
        return invoice_vals, sequence_by_key

    @api.model
    def _line_name(self, line):
        head = line.items[0]
        if head.kind == KIND_TIMESHEET and line.key[0] == TM and line.key[2] != "entry":
            return _(
                "%(role)s: %(hours)s h (%(start)s to %(end)s)",
                role=head.description,
                hours=round(sum(item.hours for item in line.items), 2),
                start=min(item.day for item in line.items),
                end=max(item.day for item in line.items),
            )
        return head.description

    @api.model
    def _create_invoices_batch(self, vals_list):
        """One create for many invoices (much faster than one each), in Odoo's own way, without
        a creation note and field tracking per draft (as Odoo's imports create records): the
        run's report says which run made each draft, and the chatter tracks every change made
        to the draft afterwards."""
        return (
            self.env["account.move"]
            .sudo()
            .with_context(
                default_move_type="out_invoice",
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
                tracking_disable=True,
            )
            .create(vals_list)
        )

    # ------------------------------------------------------------------------------------------
    # Recording what was billed
    # ------------------------------------------------------------------------------------------

    @api.model
    def _record_billed(self, pairs):
        """Link every item to its invoice line with its standard value and its share of the
        line's amount (``pairs``: [(engine.invoice_lines.InvoiceLine, account.move.line)]), for
        a whole chunk of invoices at once.

        Done in SQL, each update guarded by "still unbilled": if another run billed an item in
        the meantime the counts differ and the whole group is rolled back (ConcurrentBilling).
        """
        rows_by_table = {}
        overage_rows = []
        fee_rows = []
        for line, move_line in pairs:
            currency = move_line.currency_id
            billed = split_proportionally(
                move_line.price_subtotal, line.amounts, currency.decimal_places
            )
            for item, amount in zip(line.items, billed, strict=True):
                if item.kind == KIND_RETAINER_OVERAGE:
                    overage_rows.append((item.record.id, move_line.id, amount))
                elif item.record:
                    rows_by_table.setdefault(item.record._table, []).append(
                        (item.record.id, move_line.id, move_line.move_id.id, item.standard, amount)
                    )
                    if item.kind == KIND_RETAINER_FEE:
                        fee_rows.append((item, move_line))
        for table, rows in rows_by_table.items():
            extra = ", timesheet_invoice_id = v.move" if table == "account_analytic_line" else ""
            self.env.cr.execute(
                SQL(
                    """UPDATE %s AS t
                       SET ps_billing_state = %s, ps_invoice_line_id = v.line,
                           ps_invoice_id = v.move, ps_standard_amount = v.standard,
                           ps_invoiced_amount = v.billed, ps_billed_amount = v.billed,
                           ps_credited_line_id = NULL %s
                       FROM (VALUES %s) AS v(id, line, move, standard, billed)
                       WHERE t.id = v.id AND t.ps_invoice_line_id IS NULL
                         AND t.ps_billing_state IN %s""",
                    SQL.identifier(table),
                    BILLED,
                    SQL(extra),
                    SQL(", ").join(SQL("(%s, %s, %s, %s::float, %s::float)", *row) for row in rows),
                    OPEN_STATES,
                )
            )
            if self.env.cr.rowcount != len(rows):
                raise ConcurrentBilling(table)
        for period_id, line_id, billed in overage_rows:
            self.env.cr.execute(
                """UPDATE ps_retainer_period SET overage_invoice_line_id = %s,
                       overage_billed_amount = %s, overage_billing_state = %s
                   WHERE id = %s AND overage_invoice_line_id IS NULL""",
                (line_id, billed, BILLED, period_id),
            )
            if self.env.cr.rowcount != 1:
                raise ConcurrentBilling("ps_retainer_period")
        models_touched = {
            item.record._name for line, _move_line in pairs for item in line.items if item.record
        }
        for model in models_touched:
            self.env[model].invalidate_model()
        # Time the period's true-up consumed points at its fee line too.
        for item, move_line in fee_rows:
            item.record._ps_link_consumed_time(move_line)
