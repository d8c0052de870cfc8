from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from ..engine import grouping, pricing

CTX_ENGINE = "ps_ic_engine"  # set while the engine writes recharge invoices (users may not)


class PsIcRecharge(models.Model):
    """One recharge of an agreement for a period by a run: the customer invoice (or credit note)
    in the provider, its mirrored vendor bill in the receiver, and its lines per project and
    employee/role. Both companies see it; the cost behind a cost-plus price only the provider."""

    _name = "ps.ic.recharge"
    _description = "Intercompany Recharge"
    _inherit = ["mail.thread"]
    _order = "date_to desc, id desc"

    name = fields.Char(required=True, readonly=True)
    agreement_id = fields.Many2one(
        "ps.ic.agreement", required=True, readonly=True, index=True, ondelete="restrict"
    )
    run_id = fields.Many2one("ps.ic.recharge.run", readonly=True, index=True, ondelete="set null")
    provider_company_id = fields.Many2one(
        related="agreement_id.provider_company_id", store=True, index=True
    )
    receiver_company_id = fields.Many2one(
        related="agreement_id.receiver_company_id", store=True, index=True
    )
    pricing_method = fields.Selection(related="agreement_id.pricing_method")
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True, required=True)
    invoice_id = fields.Many2one(
        "account.move", string="Provider invoice", readonly=True, copy=False, ondelete="set null"
    )
    bill_id = fields.Many2one(
        "account.move",
        string="Receiver bill",
        compute="_compute_documents",
        help="The vendor bill mirrored by OCA account_invoice_inter_company when the invoice posts.",
    )
    move_ids = fields.One2many("account.move", "ps_ic_recharge_id", string="Documents")
    credit_note_ids = fields.Many2many("account.move", compute="_compute_documents")
    line_ids = fields.One2many("ps.ic.recharge.line", "recharge_id", string="Lines")
    entry_ids = fields.One2many("ps.ic.recharge.entry", "recharge_id", string="Items")
    amount_untaxed = fields.Monetary(readonly=True, currency_field="currency_id")
    hours = fields.Float(readonly=True, digits=(16, 2))
    state = fields.Selection(
        [
            ("draft", "Draft invoice"),
            ("posted", "Posted, bill in draft"),
            ("mirrored", "Posted and mirrored"),
            ("credited", "Credited"),
            ("cancel", "Cancelled"),
        ],
        compute="_compute_state",
    )
    cost_visible = fields.Boolean(compute="_compute_cost")
    cost_amount = fields.Monetary(
        string="Cost base",
        compute="_compute_cost",
        currency_field="provider_currency_id",
        help="Shown to users of the provider company only.",
    )
    provider_currency_id = fields.Many2one(
        related="provider_company_id.currency_id", string="Provider currency"
    )

    @api.depends("invoice_id", "move_ids.state")
    def _compute_documents(self):
        for recharge in self:
            moves = recharge.sudo().move_ids
            mirrors = moves.filtered(
                lambda m, r=recharge: m.auto_invoice_id and m.auto_invoice_id == r.sudo().invoice_id
            )
            recharge.bill_id = mirrors[:1]
            recharge.credit_note_ids = moves.filtered("reversed_entry_id")

    @api.depends("invoice_id.state", "move_ids.state")
    def _compute_state(self):
        for recharge in self:
            invoice, bill = recharge.sudo().invoice_id, recharge.sudo().bill_id
            if not invoice or invoice.state == "cancel":
                recharge.state = "cancel"
            elif invoice.state == "draft":
                recharge.state = "draft"
            elif recharge.sudo().entry_ids.filtered(lambda e: e.kind == "reversal"):
                recharge.state = "credited"
            elif bill and bill.state == "posted":
                recharge.state = "mirrored"
            else:
                recharge.state = "posted"

    @api.depends_context("allowed_company_ids")
    def _compute_cost(self):
        for recharge in self:
            visible = recharge.provider_company_id in self.env.companies
            recharge.cost_visible = visible
            recharge.cost_amount = (
                sum(recharge.sudo().entry_ids.mapped("cost_amount")) if visible else 0.0
            )

    def _invoice_values(self, run, lines, line_records):
        """The provider's customer invoice (or credit note when the corrections make the total
        negative), created with Odoo's own invoice creation: taxes through the fiscal position,
        payment terms, journal and currency as the agreement says."""
        self.ensure_one()
        agreement = self.agreement_id.sudo()
        provider = agreement.provider_company_id
        sign = grouping.document_sign(lines)
        invoice_date = agreement._open_date(run.invoice_date)[0]
        fiscal_position = agreement._provider_fiscal_position()
        # Amounts given with the lines (the invoice's own rounding and rate) spare Odoo a write
        # per line to set them after creation; it checks and corrects them when it syncs taxes.
        rate = self.env["res.currency"]._get_conversion_rate(
            provider.currency_id, agreement.currency_id, provider, invoice_date
        )
        direction = -sign  # an invoice credits its revenue lines
        invoice_lines = []
        for (key, total), record in zip(lines.items(), line_records, strict=True):
            expense = key.item_kind == pricing.EXPENSE
            product = agreement.expense_product_id if expense else agreement.product_id
            values = {
                "product_id": (product or agreement.product_id).id,
                "name": record.name,
                "account_id": agreement.revenue_account_id.id,
                "ps_ic_recharge_line_id": record.id,
            }
            if key.basis == pricing.HOURLY:
                values.update(
                    quantity=sign * float(total.quantity), price_unit=float(key.price_unit)
                )
            else:
                values.update(quantity=1.0, price_unit=sign * float(total.amount))
                if not expense:
                    values["product_uom_id"] = False  # a lump sum, not hours
            values.update(
                self._line_amounts(
                    product or agreement.product_id, fiscal_position, values, direction, rate
                )
            )
            invoice_lines.append(Command.create(values))
        markup_text = ""
        if agreement.pricing_method == pricing.COST_PLUS:
            markup_text = _(
                " Cost plus %(markup)s %% (roles: %(roles)s).",
                markup=agreement.markup_percent,
                roles=", ".join(
                    f"{line.job_id.name} {line.markup_percent} %" for line in agreement.markup_ids
                )
                or _("none"),
            )
        return {
            "move_type": "out_invoice" if sign > 0 else "out_refund",
            "company_id": provider.id,
            "journal_id": agreement._sale_journal().id,
            "partner_id": agreement.receiver_company_id.partner_id.id,
            "currency_id": agreement.currency_id.id,
            "invoice_date": invoice_date,
            "date": invoice_date,
            "fiscal_position_id": fiscal_position.id,
            "invoice_payment_term_id": agreement.payment_term_id.id,
            "invoice_origin": self.name,
            "ref": _(
                "%(agreement)s %(start)s-%(end)s",
                agreement=agreement.name,
                start=self.date_from,
                end=self.date_to,
            ),
            "narration": _(
                "Intercompany recharge under agreement %(agreement)s (%(method)s).%(markup)s",
                agreement=agreement.name,
                method=dict(pricing.METHODS)[agreement.pricing_method],
                markup=markup_text,
            ),
            "ps_ic_recharge_id": self.id,
            "invoice_line_ids": invoice_lines,
        }

    @api.model
    def _create_invoices(self, batch):
        """The provider invoices of ``batch`` ((recharge, run, lines, line records), ...) in one
        creation: Odoo computes their lines together."""
        if not batch:
            return self.env["account.move"]
        values = [
            recharge._invoice_values(run, lines, records) for recharge, run, lines, records in batch
        ]
        companies = {vals["company_id"] for vals in values}
        Move = (
            self.env["account.move"]
            .sudo()
            .with_context(
                **{CTX_ENGINE: True},
                allowed_company_ids=[*companies, *self.env.companies.ids],
                default_move_type=False,
                default_journal_id=False,
            )
        )
        invoices = Move.create(values)
        for (recharge, *_rest), invoice in zip(batch, invoices, strict=True):
            recharge.invoice_id = invoice
        return invoices

    def _line_amounts(self, product, fiscal_position, values, direction, rate):
        """Taxes, partner and amounts of an invoice line as Odoo will compute them, when no
        price-included tax changes the base (then Odoo computes them itself)."""
        agreement = self.agreement_id.sudo()
        provider = agreement.provider_company_id
        taxes = fiscal_position.map_tax(product.taxes_id._filter_taxes_by_company(provider))
        if taxes.filtered("price_include"):
            return {}
        amount = agreement.currency_id.round(values["quantity"] * values["price_unit"])
        return {
            "tax_ids": [Command.set(taxes.ids)],
            "partner_id": agreement.receiver_company_id.partner_id.id,
            "amount_currency": direction * amount,
            "balance": provider.currency_id.round(direction * amount / rate),
        }

    def action_post(self):
        """Post the draft invoices: OCA mirrors each one as a vendor bill in the receiver."""
        self.check_access("write")
        invoices = self.invoice_id.filtered(lambda m: m.state == "draft")
        invoices.action_post()
        return True

    def action_view_invoice(self):
        self.ensure_one()
        self.check_access("read")
        return self._open_move(self.invoice_id)

    def action_view_bill(self):
        self.ensure_one()
        self.check_access("read")
        if not self.bill_id:
            raise UserError(_("The invoice is not mirrored yet: post it first."))
        return self._open_move(self.bill_id)

    def _open_move(self, move):
        try:
            move.with_context(allowed_company_ids=self.env.user.company_ids.ids).check_access(
                "read"
            )
        except AccessError as exc:
            raise AccessError(
                _("%s belongs to a company you do not work in.", move.sudo().display_name)
            ) from exc
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": move.id,
            "view_mode": "form",
            "context": {"allowed_company_ids": [move.company_id.id, *self.env.companies.ids]},
        }

    def action_recharge_again(self):
        """After a full credit note: let the next run recharge this work again at its current
        transfer price (as adjustment lines)."""
        self.check_access("write")
        for recharge in self:
            if not self.env.su and recharge.provider_company_id not in self.env.user.company_ids:
                raise AccessError(
                    _(
                        "Only %s, the provider, decides to recharge this work again.",
                        recharge.sudo().provider_company_id.name,
                    )
                )
            if recharge.state != "credited":
                raise UserError(
                    _("%s was not credited: its work is still recharged.", recharge.name)
                )
            entries = recharge.sudo().entry_ids
            self.env["ps.ic.recharge.entry"]._mark_stale(
                "account.analytic.line",
                entries.filtered(lambda e: e.item_model == "account.analytic.line").mapped(
                    "item_ref"
                ),
            )
            self.env["ps.ic.recharge.entry"]._mark_stale(
                "hr.expense",
                entries.filtered(lambda e: e.item_model == "hr.expense").mapped("item_ref"),
            )
            recharge._message_log(
                body=_(
                    "Its work will be recharged again by the next run of %s.",
                    recharge.agreement_id.name,
                )
            )
        return True

    def _credit(self, refund):
        """A credit note of this recharge's invoice was posted (in the provider, or mirrored
        from the receiver). A full one reverses the items in the ledger: they count as
        recharged for nothing until *Recharge again*. A partial one is a price concession on the
        documents only."""
        self.ensure_one()
        invoice = self.sudo().invoice_id
        if float_compare(
            refund.amount_untaxed,
            invoice.amount_untaxed,
            precision_rounding=self.currency_id.rounding,
        ):
            self._message_log(
                body=_(
                    "Partial credit note %s: the recharged items are unchanged.",
                    refund.display_name,
                )
            )
            return
        Entry = self.env["ps.ic.recharge.entry"].sudo()
        if Entry.search_count([("credit_note_id", "=", refund.id)]):
            return
        entries = self.entry_ids.sudo()
        by_item = {}
        for entry in entries:
            by_item.setdefault((entry.item_model, entry.item_ref), Entry)
            by_item[(entry.item_model, entry.item_ref)] |= entry
        values = []
        for (model, ref), item_entries in by_item.items():
            # the net of what this recharge charged for the item, per price, negated
            net = {}
            for entry in item_entries:
                key = (entry.basis, entry.price_unit if entry.basis == pricing.HOURLY else 0.0)
                quantity, amount, cost, hours = net.get(key, (0.0, 0.0, 0.0, 0.0))
                net[key] = (
                    quantity + entry.quantity,
                    amount + entry.amount,
                    cost + entry.cost_amount,
                    hours + entry.hours,
                )
            last = item_entries[-1]
            for (basis, price), (quantity, amount, cost, hours) in net.items():
                if not quantity and not amount:
                    continue
                values.append(
                    {
                        "agreement_id": self.agreement_id.id,
                        "recharge_id": self.id,
                        "recharge_line_id": last.recharge_line_id.id,
                        "credit_note_id": refund.id,
                        "kind": grouping.REVERSAL,
                        "item_model": model,
                        "item_ref": ref,
                        "name": last.name,
                        "date": last.date,
                        "employee_ref": last.employee_ref,
                        "project_ref": last.project_ref,
                        "hours": -hours,
                        "basis": basis,
                        "quantity": -quantity if basis == pricing.HOURLY else 1.0,
                        "price_unit": price if basis == pricing.HOURLY else -amount,
                        "amount": -amount,
                        "cost_amount": -cost,
                        "reason": _("credit note %s", refund.name),
                    }
                )
        Entry.create(values)
        self._message_log(
            body=_(
                "Credit note %(refund)s reverses the whole recharge: %(count)s item(s) count as "
                "recharged for nothing. Use Recharge again to charge them in the next run.",
                refund=refund.display_name,
                count=len(by_item),
            )
        )

    def _release(self):
        """The draft invoice was deleted or cancelled: its items are free again (new work is
        recharged by the next run, corrections are checked again)."""
        Entry = self.env["ps.ic.recharge.entry"].sudo()
        for recharge in self.sudo():
            entries = recharge.entry_ids
            if not entries:
                continue
            items = {(e.item_model, e.item_ref) for e in entries}
            agreement = recharge.agreement_id
            entries.unlink()
            for model in ("account.analytic.line", "hr.expense"):
                refs = [ref for item_model, ref in items if item_model == model]
                if refs:
                    Entry.flush_model()
                    self.env.cr.execute(
                        """UPDATE ps_ic_recharge_entry SET stale = TRUE
                           WHERE agreement_id = %s AND item_model = %s AND item_ref = ANY(%s)""",
                        (agreement.id, model, refs),
                    )
            Entry.invalidate_model(["stale"])
            recharge._message_log(
                body=_("Invoice deleted or cancelled in draft: %s item(s) released.", len(items))
            )
