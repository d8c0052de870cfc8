import logging

from odoo import fields, models
from odoo.tools import config, float_compare
from odoo.tools.misc import clean_context

_logger = logging.getLogger(__name__)

CTX_HOLD_MIRROR = "ps_ic_hold_mirror"  # the agreement keeps mirrored bills in draft
CTX_MIRRORS = "ps_ic_mirrors"  # a list receiving mirrors to post in one batch afterwards


class AccountMove(models.Model):
    """Recharge invoices and their mirrors (OCA account_invoice_inter_company), extended where
    the OCA module falls short for recharges: the receiver's journal, fiscal position, payment
    terms, accounts and project analytics; mirrors posted or kept in draft per agreement; credit
    notes linked to the mirrored invoice; released work when a draft is deleted or cancelled."""

    _inherit = "account.move"

    ps_ic_recharge_id = fields.Many2one(
        "ps.ic.recharge",
        string="Intercompany recharge",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )
    ps_ic_netting_id = fields.Many2one(
        "ps.ic.netting",
        string="Intercompany netting",
        index="btree_not_null",
        copy=False,
        readonly=True,
    )

    def _ps_ic_recharge(self):
        """The recharge this document belongs to: its own, or that of the invoice it reverses
        or mirrors."""
        self.ensure_one()
        move = self.sudo()
        return (
            move.ps_ic_recharge_id
            or move.reversed_entry_id.ps_ic_recharge_id
            or move.auto_invoice_id.ps_ic_recharge_id
            or move.auto_invoice_id.reversed_entry_id.ps_ic_recharge_id
        )

    def _ps_ic_agreement(self):
        """The agreement between the two companies of this document: its recharge's, else the
        one in force for the pair on the document's date (manual intercompany invoices follow
        the same journals, fiscal positions and accounts)."""
        self.ensure_one()
        recharge = self._ps_ic_recharge()
        if recharge:
            return recharge.agreement_id.sudo()
        Agreement = self.env["ps.ic.agreement"].sudo()
        other = self.sudo()._find_company_from_invoice_partner()
        if not other or not self.is_invoice():
            return Agreement
        if self.is_sale_document():
            provider, receiver = self.company_id, other
        else:
            provider, receiver = other, self.company_id
        return Agreement._for_pair(provider, receiver, self.invoice_date or self.date)

    # ------------------------------------------------------------------------------------------
    # Mirroring (OCA hooks)
    # ------------------------------------------------------------------------------------------

    def _check_dest_journal(self, dest_company):
        agreement = self._ps_ic_agreement()
        if agreement:
            if self._get_destination_journal_type() == "purchase":
                journal = agreement._purchase_journal()
            else:
                journal = agreement._sale_journal()
            if journal and journal.company_id == dest_company:
                return journal
        return super()._check_dest_journal(dest_company)

    def _prepare_invoice_data(self, dest_company):
        vals = super()._prepare_invoice_data(dest_company)
        recharge = self._ps_ic_recharge()
        if recharge:
            vals["ps_ic_recharge_id"] = recharge.id
        agreement = self._ps_ic_agreement()
        if agreement:
            if dest_company == agreement.receiver_company_id:
                position = agreement._receiver_fiscal_position()
            else:
                position = agreement._provider_fiscal_position()
            vals["fiscal_position_id"] = position.id
            term = self.invoice_payment_term_id
            if term and (not term.company_id or term.company_id == dest_company):
                vals["invoice_payment_term_id"] = term.id
            elif self.invoice_date_due:
                vals["invoice_date_due"] = self.invoice_date_due
        # A credit note mirrors onto the mirror of the invoice it reverses (OCA leaves it loose).
        reversed_move = self.sudo().reversed_entry_id
        if reversed_move:
            counterpart = reversed_move.auto_invoice_id or self.sudo().search(
                [("auto_invoice_id", "=", reversed_move.id), ("company_id", "=", dest_company.id)],
                limit=1,
            )
            if counterpart.company_id == dest_company:
                vals["reversed_entry_id"] = counterpart.id
        return vals

    def _inter_company_create_invoice(self, dest_company):
        agreement = self._ps_ic_agreement()
        # Without the caller's default_* keys (e.g. default_journal_id of a sales journal, OCA
        # #1048: "Cannot create a purchase document in a non-purchase journal").
        move = self.with_context(clean_context(self.env.context))
        batch = self.env.context.get(CTX_MIRRORS)
        if agreement:
            hold = batch is not None or not agreement.mirror_auto_post
            move = move.with_context(**{CTX_HOLD_MIRROR: hold})
        result = super(AccountMove, move)._inter_company_create_invoice(dest_company)
        dest = result["dest_invoice"].with_context(**{CTX_HOLD_MIRROR: False})
        same_total = not float_compare(
            self.amount_total, dest.amount_total, precision_rounding=dest.currency_id.rounding
        )
        # The agreement decides whether mirrors post (OCA: the company's auto-validation), as
        # long as the totals agree (OCA's own condition).
        if agreement and agreement.mirror_auto_post and dest.state == "draft" and same_total:
            if batch is not None:
                batch.append(dest.id)
            else:
                dest.action_post()
        if dest.state == "posted" and dest.reversed_entry_id:
            dest._ps_ic_reconcile_like(self)
        return result

    def _ps_ic_reconcile_like(self, source):
        """A mirrored credit note is reconciled with the mirrored invoice when the source credit
        note is reconciled with its invoice (Odoo's 'full refund'), so both ledgers agree."""
        self.ensure_one()
        source = source.sudo()
        reconciled = source.line_ids.matched_debit_ids.debit_move_id.move_id | (
            source.line_ids.matched_credit_ids.credit_move_id.move_id
        )
        if source.reversed_entry_id not in reconciled:
            return
        lines = (self | self.reversed_entry_id).line_ids.filtered(
            lambda line: (
                line.account_type in ("asset_receivable", "liability_payable")
                and not line.reconciled
            )
        )
        if len(lines.mapped("account_id")) == 1 and len(lines) > 1:
            lines.reconcile()

    def action_post(self):
        if self.env.context.get(CTX_HOLD_MIRROR):
            self = self.filtered(lambda move: not move.auto_generated)
        return super().action_post()

    def _attach_original_pdf_report(self):
        """OCA attaches the invoice PDF to the mirror. Without wkhtmltopdf (it is optional for
        Odoo), posting would fail: the mirror is made without the attachment instead."""
        report_state = self.env["ir.actions.report"].get_wkhtmltopdf_state()
        testing = config["test_enable"] or config["test_file"]
        if report_state not in ("ok", "upgrade") and not testing:
            _logger.info("wkhtmltopdf %s: %s mirrored without its PDF", report_state, self.name)
            return
        return super()._attach_original_pdf_report()

    # ------------------------------------------------------------------------------------------
    # Credit notes and released work
    # ------------------------------------------------------------------------------------------

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reverses = super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)
        for reverse in reverses.sudo():
            origin = reverse.reversed_entry_id
            if not origin.ps_ic_recharge_id:
                continue
            reverse.ps_ic_recharge_id = origin.ps_ic_recharge_id
            pending = list(origin.invoice_line_ids.filtered("ps_ic_recharge_line_id"))
            for line in reverse.invoice_line_ids:
                match = next(
                    (o for o in pending if o.name == line.name and o.product_id == line.product_id),
                    None,
                )
                if match:
                    pending.remove(match)
                    line.ps_ic_recharge_line_id = match.ps_ic_recharge_line_id
        return reverses

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        for refund in posted.sudo().filtered(
            lambda m: m.move_type == "out_refund" and m.reversed_entry_id
        ):
            recharge = refund._ps_ic_recharge()
            if recharge and recharge.invoice_id == refund.reversed_entry_id:
                refund.ps_ic_recharge_id = recharge
                recharge._credit(refund)
        return posted

    def unlink(self):
        recharges = (
            self.sudo()
            .filtered(lambda m: m.ps_ic_recharge_id and m.ps_ic_recharge_id.invoice_id == m)
            .ps_ic_recharge_id
        )
        recharges._release()
        return super().unlink()

    def button_cancel(self):
        result = super().button_cancel()
        recharges = (
            self.sudo()
            .filtered(lambda m: m.state == "cancel" and m.ps_ic_recharge_id.invoice_id == m)
            .ps_ic_recharge_id
        )
        recharges._release()
        return result
