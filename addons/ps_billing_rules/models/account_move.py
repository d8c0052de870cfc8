from odoo import _, fields, models

from ..engine.allocation import split_proportionally
from ..engine.constants import CTX_REVERSAL_MODIFY


class AccountMove(models.Model):
    """Keep billed items true to their invoices: a cancelled or deleted draft releases them, a
    full credit note sends them back to the pre-bill review, partial credit notes are write-downs
    (recomputed from all posted credit notes, never compounded), "Reverse and create a new draft"
    moves them to the new draft."""

    _inherit = "account.move"

    ps_show_timesheets = fields.Boolean(
        compute="_compute_ps_show_timesheets",
        help="A contract billed here asks for the timesheet detail on the invoice PDF.",
    )
    ps_replaces_move_id = fields.Many2one(
        "account.move",
        string="Replaces",
        copy=False,
        readonly=True,
        help="The invoice this draft replaces (Odoo's 'Reverse and create a new draft'): the "
        "work billed there is billed on this draft now.",
    )

    def _compute_ps_show_timesheets(self):
        for move in self:
            orders = (
                move.invoice_line_ids.sale_line_ids.order_id
                | move.invoice_line_ids.ps_sale_line_id.order_id
            )
            move.ps_show_timesheets = any(orders.mapped("ps_timesheet_detail"))

    def _ps_release_items(self, to_review=False):
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        invoices.invoice_line_ids._ps_release_items(to_review=to_review)

    def button_cancel(self):
        result = super().button_cancel()
        self.filtered(lambda move: move.state == "cancel")._ps_release_items()
        self._ps_refunds_changed()
        return result

    def button_draft(self):
        result = super().button_draft()
        self._ps_refunds_changed()
        return result

    def unlink(self):
        self.filtered(lambda move: move.state == "draft")._ps_release_items()
        return super().unlink()

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._ps_refunds_changed()
        return posted

    def _ps_refunds_changed(self):
        """A credit note of a billed invoice was posted, reset or cancelled: its invoice's items
        follow all of its posted credit notes."""
        originals = self.filtered(
            lambda move: move.move_type == "out_refund" and move.reversed_entry_id
        ).reversed_entry_id
        for original in originals.filtered(lambda move: move.move_type == "out_invoice"):
            original._ps_apply_credit_notes()

    def _ps_apply_credit_notes(self):
        """Full credit (posted credit notes reach the untaxed amount) -> the items go back to
        the pre-bill review; otherwise each item's billed value is its invoiced value less its
        share of the credit notes, computed from all of them each time (two credits of 150 on
        1,500 leave 1,200, never 1,215)."""
        self.ensure_one()
        currency = self.currency_id
        refunds = self.reversal_move_ids.filtered(lambda move: move.state == "posted")
        refunded = sum(refunds.mapped("amount_untaxed"))
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if refunds and currency.compare_amounts(refunded, self.amount_untaxed) >= 0:
            if self.env.context.get(CTX_REVERSAL_MODIFY):
                return  # the items move to the replacing draft (account.move.reversal)
            lines._ps_release_items(to_review=True)
            self.message_post(
                body=_(
                    "Fully credited by %s: its billed work is back in the pre-bill review "
                    "(it is not billed again by the next run without a review).",
                    ", ".join(refunds.mapped("name")),
                )
            )
            return
        lines._ps_restore_credited_items()
        credited = self._ps_credit_by_line(lines, refunds)
        lines._ps_write_billed_values(credited)
        if refunds:
            self.message_post(
                body=_(
                    "Credited %(amount)s by %(refunds)s: its items stay billed and the credit "
                    "counts as a write-down.",
                    amount=currency.format(refunded),
                    refunds=", ".join(refunds.mapped("name")),
                )
            )

    def _ps_credit_by_line(self, lines, refunds):
        """{invoice line id: credited amount}: a credit note line of the same contract line
        credits the invoice lines of that contract line; any other credit is spread over all
        lines in proportion to their amounts."""
        digits = self.currency_id.decimal_places
        credited = dict.fromkeys(lines.ids, 0.0)
        pool = 0.0
        for refund_line in refunds.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        ):
            sale_lines = refund_line.sale_line_ids | refund_line.ps_sale_line_id
            matched = lines.filtered(
                lambda line, sale_lines=sale_lines: (
                    sale_lines and bool((line.sale_line_ids | line.ps_sale_line_id) & sale_lines)
                )
            )
            # A credit note made by Odoo's wizard copies the lines: the same label names the
            # line it credits among several of one contract line (one per role).
            same_label = matched.filtered(lambda line, name=refund_line.name: line.name == name)
            matched = same_label or matched
            if matched:
                shares = split_proportionally(
                    refund_line.price_subtotal, matched.mapped("price_subtotal"), digits
                )
                for line, share in zip(matched, shares, strict=True):
                    credited[line.id] += share
            else:
                pool += refund_line.price_subtotal
        if pool and lines:
            shares = split_proportionally(pool, lines.mapped("price_subtotal"), digits)
            for line, share in zip(lines, shares, strict=True):
                credited[line.id] += share
        return credited

    def _ps_take_over_items(self):
        """A draft made by "Reverse and create a new draft": the work billed on the invoice it
        replaces is billed on its lines now (line for line), so it is neither lost nor back in
        review while the new draft exists."""
        for move in self.filtered("ps_replaces_move_id"):
            old = move.ps_replaces_move_id.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            ).sorted("id")
            new = move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product"
            ).sorted("id")
            pairs = [
                (old_line, new_line)
                for old_line, new_line in zip(old, new, strict=False)
                if (old_line.product_id, old_line.ps_sale_line_id)
                == (new_line.product_id, new_line.ps_sale_line_id)
            ]
            moved = old.browse()
            for old_line, new_line in pairs:
                old_line._ps_move_items_to(new_line)
                moved |= old_line
            # Lines that could not be matched: their work goes back to the review.
            (old - moved)._ps_release_items(to_review=True)
            move.message_post(
                body=_(
                    "Replaces %s: the work billed there is billed on this draft.",
                    move.ps_replaces_move_id._get_html_link(),
                )
            )
