from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine import netting
from ..engine.money import dec

SIDES = {
    "a_receivable": ("a", "asset_receivable"),
    "a_payable": ("a", "liability_payable"),
    "b_receivable": ("b", "asset_receivable"),
    "b_payable": ("b", "liability_payable"),
}


class PsIcNetting(models.Model):
    """Bilateral netting of two companies in one currency: what each owes the other offset by
    the same amount in both ledgers (a netting entry in each, reconciled with the open items),
    leaving one net amount to pay."""

    _name = "ps.ic.netting"
    _description = "Intercompany Netting"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char(required=True, readonly=True, default=lambda self: _("New netting"))
    company_a_id = fields.Many2one("res.company", string="Company", required=True, readonly=True)
    company_b_id = fields.Many2one(
        "res.company", string="Other company", required=True, readonly=True
    )
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True)
    state = fields.Selection(
        [("draft", "Proposed"), ("posted", "Posted"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        tracking=True,
    )
    line_ids = fields.One2many("ps.ic.netting.line", "netting_id", string="Open items")
    amount = fields.Monetary(string="Netted amount", readonly=True, currency_field="currency_id")
    net_payer_id = fields.Many2one("res.company", string="Net payer", readonly=True)
    net_amount = fields.Monetary(string="Left to pay", readonly=True, currency_field="currency_id")
    move_a_id = fields.Many2one("account.move", string="Entry (company)", readonly=True)
    move_b_id = fields.Many2one("account.move", string="Entry (other company)", readonly=True)
    balanced = fields.Boolean(compute="_compute_balanced")

    @api.depends("line_ids.amount", "amount")
    def _compute_balanced(self):
        for rec in self:
            sums = {
                side: sum(
                    rec.line_ids.filtered(lambda line, s=side: line.side == s).mapped("amount")
                )
                for side in SIDES
            }
            rec.balanced = all(
                rec.currency_id.is_zero(value - rec.amount) for value in sums.values()
            )

    # ------------------------------------------------------------------------------------------
    # Proposal
    # ------------------------------------------------------------------------------------------

    @api.model
    def _open_items(self, company, other, account_type, currency):
        return (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("partner_id.commercial_partner_id", "=", other.partner_id.id),
                    ("account_type", "=", account_type),
                    ("parent_state", "=", "posted"),
                    ("reconciled", "=", False),
                    ("currency_id", "=", currency.id),
                    ("amount_residual_currency", "!=", 0),
                ],
                order="date_maturity, date, id",
            )
        )

    @api.model
    def _propose(self, company_a, company_b, currency, day):
        """A proposal (draft netting) of what the two companies owe each other in ``currency``."""
        self.check_access("create")
        self._check_both_companies(company_a | company_b)
        companies = {"a": (company_a, company_b), "b": (company_b, company_a)}
        items, open_items = {}, {}
        for side, (letter, account_type) in SIDES.items():
            company, other = companies[letter]
            lines = self._open_items(company, other, account_type, currency)
            items[side] = lines
            sign = 1 if account_type == "asset_receivable" else -1
            open_items[side] = [
                netting.OpenItem(line.id, dec(sign * line.amount_residual_currency))
                for line in lines
                if sign * line.amount_residual_currency > 0
            ]
        proposal = netting.propose(open_items, currency.decimal_places)
        if not proposal.amount:
            raise UserError(
                _(
                    "%(a)s and %(b)s do not owe each other in %(currency)s (open receivables and "
                    "payables on both sides are needed): nothing to net.",
                    a=company_a.name,
                    b=company_b.name,
                    currency=currency.name,
                )
            )
        lines = []
        for side, allocations in proposal.allocations.items():
            by_id = {line.id: line for line in items[side]}
            for line_id, amount in allocations:
                move_line = by_id[line_id]
                lines.append(
                    Command.create(
                        {
                            "side": side,
                            "company_id": move_line.company_id.id,
                            "move_line_id": move_line.id,
                            "document": move_line.move_id.name,
                            "residual": abs(move_line.amount_residual_currency),
                            "amount": float(amount),
                        }
                    )
                )
        payer = {"a": company_a, "b": company_b}.get(proposal.net_payer)
        return self.sudo().create(
            {
                "name": _(
                    "Netting %(a)s ↔ %(b)s %(day)s", a=company_a.name, b=company_b.name, day=day
                ),
                "company_a_id": company_a.id,
                "company_b_id": company_b.id,
                "currency_id": currency.id,
                "date": day,
                "amount": float(proposal.amount),
                "net_payer_id": payer.id if payer else False,
                "net_amount": float(proposal.net_amount),
                "line_ids": lines,
            }
        )

    # ------------------------------------------------------------------------------------------
    # Posting: one entry per company, reconciled with the open items
    # ------------------------------------------------------------------------------------------

    @api.model
    def _check_both_companies(self, companies):
        """A netting reads and books in the ledgers of both companies: only for a user who works
        in both (the proposal lists each side's open items)."""
        outside = companies - self.env.user.company_ids
        if outside and not self.env.su:
            raise AccessError(
                _(
                    "Netting needs access to both companies' books; you do not work in %s: ask a "
                    "controller of both companies.",
                    ", ".join(outside.sudo().mapped("name")),
                )
            )

    def action_post(self):
        self.check_access("write")
        for rec in self:
            rec._check_both_companies(rec.company_a_id | rec.company_b_id)
            if rec.state != "draft":
                raise UserError(_("%s is already posted or cancelled.", rec.name))
            stale = rec.line_ids.filtered(
                lambda line: (
                    line.move_line_id.reconciled
                    or abs(line.move_line_id.amount_residual_currency) + 1e-9 < line.amount
                )
            )
            if stale:
                raise UserError(
                    _(
                        "Items of %(name)s were paid or reconciled since the proposal (%(docs)s): "
                        "cancel it and propose again.",
                        name=rec.name,
                        docs=", ".join(stale.mapped("document")),
                    )
                )
            if not rec.balanced:
                raise UserError(_("%s does not offset the same amount on every side.", rec.name))
            moves = {}
            for letter, company, other in (
                ("a", rec.company_a_id, rec.company_b_id),
                ("b", rec.company_b_id, rec.company_a_id),
            ):
                moves[letter] = rec._post_entry(letter, company, other)
            rec.write({"state": "posted", "move_a_id": moves["a"].id, "move_b_id": moves["b"].id})
            rec._message_log(
                body=_(
                    "Posted: %(amount)s offset in both companies; %(payer)s",
                    amount=rec.currency_id.format(rec.amount),
                    payer=_(
                        "%(company)s still owes %(net)s.",
                        company=rec.net_payer_id.name,
                        net=rec.currency_id.format(rec.net_amount),
                    )
                    if rec.net_payer_id
                    else _("nothing is left to pay."),
                )
            )
        return True

    def _post_entry(self, letter, company, other):
        journal = (
            self.env["account.journal"]
            .sudo()
            .search([("company_id", "=", company.id), ("type", "=", "general")], limit=1)
        )
        if not journal:
            raise UserError(
                _("%s has no miscellaneous journal for the netting entry.", company.name)
            )
        lines = self.line_ids.filtered(lambda line: line.side.startswith(letter))
        Move = self.env["account.move"].sudo().with_company(company)
        rows = []
        for line in lines:
            item = line.move_line_id
            receivable = item.account_type == "asset_receivable"
            amount_currency = -line.amount if receivable else line.amount
            balance = self.currency_id._convert(
                amount_currency, company.currency_id, company, self.date
            )
            rows.append([line, item, amount_currency, balance])
        # Conversion rounding may leave a cent: the last line takes it, the entry balances.
        rows[-1][3] -= company.currency_id.round(sum(row[3] for row in rows))
        move = Move.create(
            {
                "move_type": "entry",
                "company_id": company.id,
                "journal_id": journal.id,
                "date": self.date,
                "ref": self.name,
                "ps_ic_netting_id": self.id,
                "line_ids": [
                    Command.create(
                        {
                            "name": _(
                                "Netting with %(other)s: %(doc)s",
                                other=other.name,
                                doc=line.document,
                            ),
                            "account_id": item.account_id.id,
                            "partner_id": other.partner_id.id,
                            "currency_id": self.currency_id.id,
                            "amount_currency": amount_currency,
                            "balance": balance,
                        }
                    )
                    for line, item, amount_currency, balance in rows
                ],
            }
        )
        move.action_post()
        for move_line, (_line, item, _amount, _balance) in zip(
            move.line_ids.sorted("id"), rows, strict=True
        ):
            (move_line | item).reconcile()
        return move

    def action_cancel(self):
        self.check_access("write")
        for rec in self:
            if rec.state == "posted":
                raise UserError(_("%s is posted: reverse its two entries to undo it.", rec.name))
            rec.state = "cancel"
        return True
