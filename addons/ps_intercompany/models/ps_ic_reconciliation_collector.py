from odoo import api, models

from ..engine import matching
from ..engine.money import dec

INCOME_TYPES = ("income", "income_other")
EXPENSE_TYPES = ("expense", "expense_direct_cost", "expense_depreciation")


class PsIcReconciliationCollector(models.AbstractModel):
    """Reads what one company charged another (documents, open balances, revenue and cost)
    from Odoo's documents and posted journal items, as engine.matching records."""

    _name = "ps.ic.reconciliation.collector"
    _description = "Intercompany reconciliation: documents and balances"

    @api.model
    def _documents(self, provider, receiver, agreement, date_from, date_to):
        """(provider docs, receiver docs, {doc id: move, ("company", id): company amount})."""
        Move = self.env["account.move"].sudo()
        period = [("date", ">=", date_from), ("date", "<=", date_to)]
        p_moves = Move.search(
            [
                ("company_id", "=", provider.id),
                ("commercial_partner_id", "=", receiver.partner_id.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                *period,
            ]
        )
        r_moves = Move.search(
            [
                ("company_id", "=", receiver.id),
                ("commercial_partner_id", "=", provider.partner_id.id),
                ("move_type", "in", ("in_invoice", "in_refund")),
                *period,
            ]
        )
        # Counterparts dated in another period (timing differences).
        p_moves |= Move.search(
            [
                ("company_id", "=", provider.id),
                "|",
                ("id", "in", r_moves.auto_invoice_id.ids),
                ("auto_invoice_id", "in", r_moves.ids),
            ]
        )
        r_moves |= Move.search(
            [
                ("company_id", "=", receiver.id),
                "|",
                ("id", "in", p_moves.auto_invoice_id.ids),
                ("auto_invoice_id", "in", p_moves.ids),
            ]
        )
        moves, p_docs, r_docs = {}, [], []
        for move in p_moves:
            doc, company_amount = self._invoice_doc(move, matching.PROVIDER, agreement)
            p_docs.append(doc)
            moves[doc.id], moves[("company", doc.id)] = move, company_amount
        for move in r_moves:
            doc, company_amount = self._invoice_doc(move, matching.RECEIVER, agreement)
            r_docs.append(doc)
            moves[doc.id], moves[("company", doc.id)] = move, company_amount
        for side, company, partner, account_type, docs in (
            (matching.PROVIDER, provider, receiver.partner_id, "asset_receivable", p_docs),
            (matching.RECEIVER, receiver, provider.partner_id, "liability_payable", r_docs),
        ):
            lines = (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("partner_id.commercial_partner_id", "=", partner.id),
                        ("account_type", "=", account_type),
                        ("parent_state", "=", "posted"),
                        ("move_id.move_type", "=", "entry"),
                        *period,
                    ]
                )
            )
            for move in lines.move_id:
                move_lines = lines.filtered(lambda line, m=move: line.move_id == m)
                doc, company_amount = self._entry_doc(move, move_lines, side)
                docs.append(doc)
                moves[doc.id], moves[("company", doc.id)] = move, company_amount
        return p_docs, r_docs, moves

    def _open_lines(self, move, side):
        account_type = "asset_receivable" if side == matching.PROVIDER else "liability_payable"
        return move.line_ids.filtered(lambda line: line.account_type == account_type)

    def _invoice_doc(self, move, side, agreement):
        sign = 1 if move.move_type in ("out_invoice", "in_invoice") else -1
        lines = self._open_lines(move, side)
        flip = 1 if side == matching.PROVIDER else -1
        if lines:
            total = flip * sum((dec(amount) for amount in lines.mapped("amount_currency")), dec(0))
            company_amount = flip * sum(lines.mapped("balance"))
        else:
            total = dec(sign * move.amount_total)
            company_amount = sign * abs(move.amount_total_signed)
        return (
            matching.Doc(
                id=move.id,
                side=side,
                kind=matching.INVOICE,
                name=move.name or "",
                state=move.state,
                day=move.date,
                currency=move.currency_id.id,
                untaxed=dec(sign * move.amount_untaxed),
                total=total,
                ref=move.ref or "",
                source_id=move.auto_invoice_id.id or None,
                accounts_ok=self._accounts_ok(move, side, agreement, lines),
            ),
            company_amount,
        )

    def _accounts_ok(self, move, side, agreement, open_lines):
        """Product lines on the agreement's intercompany account, and the receivable/payable on
        the agreement's one when it has one."""
        if not agreement:
            return True
        if side == matching.PROVIDER:
            expected, open_account = agreement.revenue_account_id, agreement.receivable_account_id
        else:
            expected, open_account = agreement.cost_account_id, agreement.payable_account_id
        products = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if any(line.account_id != expected for line in products):
            return False
        return not (open_account and any(line.account_id != open_account for line in open_lines))

    def _entry_doc(self, move, lines, side):
        flip = 1 if side == matching.PROVIDER else -1
        total = flip * sum((dec(amount) for amount in lines.mapped("amount_currency")), dec(0))
        company_amount = flip * sum(lines.mapped("balance"))
        if move.ps_ic_netting_id:
            kind = matching.NETTING
        elif move.origin_payment_id or move.statement_line_id:
            kind = matching.PAYMENT
        else:
            kind = matching.ENTRY
        exchange_journal = move.company_id.currency_exchange_journal_id
        fx = move.journal_id == exchange_journal or (
            not total and any(not line.currency_id.is_zero(line.balance) for line in lines)
        )
        return (
            matching.Doc(
                id=move.id,
                side=side,
                kind=kind,
                name=move.name or "",
                state=move.state,
                day=move.date,
                currency=lines[:1].currency_id.id,
                untaxed=total,
                total=total,
                ref=move.ref or "",
                fx=fx,
                netting_key=move.ps_ic_netting_id.id or None,
            ),
            company_amount,
        )

    def _sums(self, company, partner, domain, flip):
        groups = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(
                [
                    ("company_id", "=", company.id),
                    ("partner_id.commercial_partner_id", "=", partner.id),
                    ("parent_state", "=", "posted"),
                    *domain,
                ],
                ["currency_id"],
                ["amount_currency:sum", "balance:sum"],
            )
        )
        return {
            currency.id: (flip * amount, flip * balance) for currency, amount, balance in groups
        }

    def _merge(self, provider_sums, receiver_sums):
        rows = []
        for currency_id in sorted(set(provider_sums) | set(receiver_sums)):
            p_amount, p_company = provider_sums.get(currency_id, (0.0, 0.0))
            r_amount, r_company = receiver_sums.get(currency_id, (0.0, 0.0))
            rows.append((currency_id, p_amount, r_amount, p_company, r_company))
        return rows

    @api.model
    def _balances(self, provider, receiver, date_to):
        """Per currency: the provider's receivable from the receiver and the receiver's payable
        to the provider at ``date_to`` (transaction currency, then each company's currency)."""
        return self._merge(
            self._sums(
                provider,
                receiver.partner_id,
                [("account_type", "=", "asset_receivable"), ("date", "<=", date_to)],
                1,
            ),
            self._sums(
                receiver,
                provider.partner_id,
                [("account_type", "=", "liability_payable"), ("date", "<=", date_to)],
                -1,
            ),
        )

    @api.model
    def _pnl(self, provider, receiver, date_from, date_to):
        """Per currency: the provider's revenue with the receiver and the receiver's cost with
        the provider over the period."""
        period = [("date", ">=", date_from), ("date", "<=", date_to)]
        return self._merge(
            self._sums(
                provider, receiver.partner_id, [("account_type", "in", INCOME_TYPES), *period], -1
            ),
            self._sums(
                receiver, provider.partner_id, [("account_type", "in", EXPENSE_TYPES), *period], 1
            ),
        )
