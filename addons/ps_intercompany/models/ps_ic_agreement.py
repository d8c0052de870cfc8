from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine import periods, pricing

# Where the run looks for the mark-up when no value was entered: nowhere. The agreement's
# mark-up is what its owner typed (0 % is "at cost"); no LVAS 5 % or other default is assumed.


class PsIcAgreement(models.Model):
    """How one company of the group recharges another for its people's work: pricing method,
    mark-ups, currency, cycle, products, accounts, journals, fiscal positions, payment terms and
    whether the mirrored vendor bill posts itself."""

    _name = "ps.ic.agreement"
    _description = "Intercompany Agreement"
    _inherit = ["mail.thread"]
    _order = "provider_company_id, receiver_company_id, date_from desc, id"

    name = fields.Char(string="Reference", required=True, tracking=True)
    active = fields.Boolean(default=True)
    provider_company_id = fields.Many2one(
        "res.company",
        string="Provider",
        required=True,
        index=True,
        tracking=True,
        help="The company whose people do the work and which invoices it.",
    )
    receiver_company_id = fields.Many2one(
        "res.company",
        string="Receiver",
        required=True,
        index=True,
        tracking=True,
        help="The company whose projects the work is for, which receives the vendor bill.",
    )
    date_from = fields.Date(string="Valid from", required=True, tracking=True)
    date_to = fields.Date(string="Valid until", tracking=True)
    pricing_method = fields.Selection(
        pricing.METHODS, required=True, default=pricing.COST_PLUS, tracking=True
    )
    markup_percent = fields.Float(
        string="Mark-up (%)",
        digits=(16, 4),
        tracking=True,
        help="Cost plus: transfer price = cost rate of the day x (1 + mark-up). No default is "
        "assumed: enter your transfer-pricing policy (0 % = at cost, e.g. the US services cost "
        "method). Roles with their own mark-up use theirs.",
    )
    markup_ids = fields.One2many(
        "ps.ic.agreement.markup", "agreement_id", string="Mark-ups per role", copy=True
    )
    rate_card_id = fields.Many2one(
        "ps.rate.card",
        string="Transfer rate card",
        tracking=True,
        help="Rate card of the provider used as the transfer price (employee, role or default "
        "lines, in force on the day of the work).",
    )
    billed_share_percent = fields.Float(
        string="Share of billed value (%)",
        digits=(16, 4),
        tracking=True,
        help="The provider charges this share of what the receiver billed its client for the "
        "work; work not billed yet waits.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        string="Charge currency",
        required=True,
        tracking=True,
        help="Currency of the invoice and of its mirrored bill; costs and rates are converted at "
        "the invoice date with each company's own rates.",
    )
    cycle = fields.Selection(periods.CYCLES, required=True, default="monthly")
    auto_recharge = fields.Boolean(
        string="Recharge automatically",
        default=True,
        help="The scheduled job recharges each closed period of the cycle.",
    )
    line_detail = fields.Selection(
        [("employee", "Employee"), ("role", "Role")],
        string="Invoice lines per",
        required=True,
        default="employee",
        help="Lines per project and employee, or per project and role.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Service product",
        required=True,
        domain=[("company_id", "=", False)],
        help="Shared product (no company) on the recharge lines; the mirror needs it in both "
        "companies.",
    )
    expense_product_id = fields.Many2one(
        "product.product",
        string="Expense product",
        domain=[("company_id", "=", False)],
        help="Shared product for expenses passed through at cost (default: the service product).",
    )
    revenue_account_id = fields.Many2one(
        "account.account",
        string="Intercompany revenue",
        required=True,
        check_company=False,
        help="Provider's account for the recharge revenue.",
    )
    cost_account_id = fields.Many2one(
        "account.account",
        string="Intercompany cost",
        required=True,
        check_company=False,
        help="Receiver's account for the recharge cost on the mirrored bill.",
    )
    receivable_account_id = fields.Many2one(
        "account.account",
        string="Intercompany receivable",
        check_company=False,
        help="Provider's receivable from the receiver (set on the receiver's partner in the "
        "provider company). Empty: the partner's receivable account.",
    )
    payable_account_id = fields.Many2one(
        "account.account",
        string="Intercompany payable",
        check_company=False,
        help="Receiver's payable to the provider (set on the provider's partner in the receiver "
        "company). Empty: the partner's payable account.",
    )
    provider_journal_id = fields.Many2one(
        "account.journal",
        string="Provider sales journal",
        check_company=False,
        help="Empty: the provider's first sales journal.",
    )
    receiver_journal_id = fields.Many2one(
        "account.journal",
        string="Receiver purchase journal",
        check_company=False,
        help="Empty: the receiver's first purchase journal that is not its expense journal.",
    )
    provider_fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        string="Provider fiscal position",
        check_company=False,
        help="Maps the provider's sales taxes (e.g. reverse charge across borders). Empty: "
        "Odoo's own choice for the receiver's partner.",
    )
    receiver_fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        string="Receiver fiscal position",
        check_company=False,
        help="Maps the receiver's purchase taxes on the mirrored bill. Empty: Odoo's own choice "
        "for the provider's partner.",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        check_company=False,
        help="On the invoice and, when shared by both companies, on the mirrored bill.",
    )
    mirror_auto_post = fields.Boolean(
        string="Post mirrored bills",
        default=True,
        help="Post the receiver's vendor bill as soon as the invoice is posted (when its total "
        "equals the invoice's). Otherwise it waits in draft for the receiver's accountant.",
    )
    last_run_id = fields.Many2one(
        "ps.ic.recharge.run",
        readonly=True,
        copy=False,
        help="Written at the start of each recharge of this agreement: two runs at once queue "
        "on this row instead of recharging the same work twice.",
    )
    recharge_ids = fields.One2many("ps.ic.recharge", "agreement_id", string="Recharges")
    recharge_count = fields.Integer(compute="_compute_recharge_count")
    markup_note = fields.Char(compute="_compute_markup_note")

    @api.depends("recharge_ids")
    def _compute_recharge_count(self):
        for agreement in self:
            agreement.recharge_count = len(agreement.recharge_ids)

    @api.depends("pricing_method", "markup_percent", "markup_ids.markup_percent")
    def _compute_markup_note(self):
        for agreement in self:
            note = False
            if agreement.pricing_method == pricing.COST_PLUS:
                zero = not agreement.markup_percent
                if zero and not agreement.markup_ids:
                    note = _("0 % mark-up: work is recharged at cost.")
            agreement.markup_note = note

    @api.onchange("provider_company_id")
    def _onchange_provider_company_id(self):
        if self.provider_company_id and not self.currency_id:
            self.currency_id = self.provider_company_id.currency_id

    # ------------------------------------------------------------------------------------------
    # Checks: what each method needs, accounts and journals in the right company, no overlap
    # ------------------------------------------------------------------------------------------

    @api.constrains("provider_company_id", "receiver_company_id", "date_from", "date_to", "active")
    def _check_companies_and_overlap(self):
        for agreement in self:
            if agreement.provider_company_id == agreement.receiver_company_id:
                raise ValidationError(
                    _(
                        "Agreement %s: the provider and the receiver must be two companies.",
                        agreement.name,
                    )
                )
            if agreement.date_to and agreement.date_to < agreement.date_from:
                raise ValidationError(_("Agreement %s ends before it starts.", agreement.name))
            # Archived agreements count: work recharged under one is recharged only once per
            # agreement, so a second agreement on its days would recharge that work again.
            others = self.with_context(active_test=False).search(
                [
                    ("id", "!=", agreement.id),
                    ("provider_company_id", "=", agreement.provider_company_id.id),
                    ("receiver_company_id", "=", agreement.receiver_company_id.id),
                ]
            )
            for other in others:
                if (other.date_to is False or other.date_to >= agreement.date_from) and (
                    agreement.date_to is False or agreement.date_to >= other.date_from
                ):
                    raise ValidationError(
                        _(
                            "Agreements %(this)s and %(other)s both cover %(provider)s → "
                            "%(receiver)s on the same days: end one before the other starts.",
                            this=agreement.name,
                            other=other.name,
                            provider=agreement.provider_company_id.name,
                            receiver=agreement.receiver_company_id.name,
                        )
                    )

    @api.constrains(
        "pricing_method", "markup_percent", "rate_card_id", "billed_share_percent", "currency_id"
    )
    def _check_pricing(self):
        for agreement in self:
            method = agreement.pricing_method
            if agreement.markup_percent < 0:
                raise ValidationError(
                    _(
                        "Agreement %s: a mark-up cannot be negative (0 %% is at cost).",
                        agreement.name,
                    )
                )
            if method == pricing.RATE_CARD:
                card = agreement.rate_card_id
                if not card:
                    raise ValidationError(
                        _(
                            "Agreement %s prices with a transfer rate card: choose the card.",
                            agreement.name,
                        )
                    )
                if card.company_id != agreement.provider_company_id:
                    raise ValidationError(
                        _(
                            "Agreement %(name)s: the transfer rate card %(card)s belongs to "
                            "%(company)s, not to the provider.",
                            name=agreement.name,
                            card=card.name,
                            company=card.company_id.name,
                        )
                    )
            if method == pricing.BILLED_SHARE and not 0 < agreement.billed_share_percent <= 100:
                raise ValidationError(
                    _(
                        "Agreement %s recharges a share of the billed value: enter a share "
                        "between 0 and 100 %%.",
                        agreement.name,
                    )
                )

    @api.constrains(
        "product_id",
        "expense_product_id",
        "revenue_account_id",
        "cost_account_id",
        "receivable_account_id",
        "payable_account_id",
        "provider_journal_id",
        "receiver_journal_id",
        "provider_fiscal_position_id",
        "receiver_fiscal_position_id",
    )
    def _check_accounting(self):
        for agreement in self:
            provider, receiver = agreement.provider_company_id, agreement.receiver_company_id
            for product in agreement.product_id | agreement.expense_product_id:
                if product.company_id:
                    raise ValidationError(
                        _(
                            "Product %s belongs to one company: the mirrored bill needs it in "
                            "both. Clear its company (shared product).",
                            product.display_name,
                        )
                    )
            checks = [
                (agreement.revenue_account_id, provider, _("Intercompany revenue")),
                (agreement.receivable_account_id, provider, _("Intercompany receivable")),
                (agreement.provider_journal_id, provider, _("Provider sales journal")),
                (agreement.provider_fiscal_position_id, provider, _("Provider fiscal position")),
                (agreement.cost_account_id, receiver, _("Intercompany cost")),
                (agreement.payable_account_id, receiver, _("Intercompany payable")),
                (agreement.receiver_journal_id, receiver, _("Receiver purchase journal")),
                (agreement.receiver_fiscal_position_id, receiver, _("Receiver fiscal position")),
            ]
            for record, company, label in checks:
                if not record:
                    continue
                companies = record.company_ids if "company_ids" in record else record.company_id
                if companies and company not in companies:
                    raise ValidationError(
                        _(
                            "Agreement %(name)s: %(label)s %(record)s does not belong to %(company)s.",
                            name=agreement.name,
                            label=label,
                            record=record.display_name,
                            company=company.name,
                        )
                    )
            if agreement.provider_journal_id and agreement.provider_journal_id.type != "sale":
                raise ValidationError(_("The provider's journal must be a sales journal."))
            if agreement.receiver_journal_id and agreement.receiver_journal_id.type != "purchase":
                raise ValidationError(_("The receiver's journal must be a purchase journal."))

    # ------------------------------------------------------------------------------------------
    # Receivable and payable accounts live on the partners (company-dependent), as Odoo uses them
    # ------------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        agreements = super().create(vals_list)
        agreements._apply_partner_accounts()
        return agreements

    def write(self, vals):
        frozen = {"provider_company_id", "receiver_company_id", "currency_id"} & set(vals)
        if frozen and self.sudo().recharge_ids:
            raise ValidationError(
                _(
                    "%s has recharges: its companies and charge currency are part of them. End "
                    "it (Valid until) and create a new agreement for the new terms.",
                    ", ".join(self.mapped("name")),
                )
            )
        result = super().write(vals)
        if {"receivable_account_id", "payable_account_id"} & set(vals):
            self._apply_partner_accounts()
        return result

    def _apply_partner_accounts(self):
        for agreement in self.sudo():
            if agreement.receivable_account_id:
                agreement.receiver_company_id.partner_id.with_company(
                    agreement.provider_company_id
                ).property_account_receivable_id = agreement.receivable_account_id
            if agreement.payable_account_id:
                agreement.provider_company_id.partner_id.with_company(
                    agreement.receiver_company_id
                ).property_account_payable_id = agreement.payable_account_id

    # ------------------------------------------------------------------------------------------
    # What runs and mirrors use
    # ------------------------------------------------------------------------------------------

    def _covers(self, day):
        self.ensure_one()
        return self.date_from <= day and (not self.date_to or day <= self.date_to)

    def _sale_journal(self):
        self.ensure_one()
        return self.provider_journal_id or self.env["account.journal"].sudo().search(
            [("company_id", "=", self.provider_company_id.id), ("type", "=", "sale")], limit=1
        )

    def _purchase_journal(self):
        """The receiver's purchase journal: the agreement's, else the first one that is not the
        expense-report journal (OCA picks the first purchase journal, which may be it)."""
        self.ensure_one()
        if self.receiver_journal_id:
            return self.receiver_journal_id
        company = self.receiver_company_id.sudo()
        journals = (
            self.env["account.journal"]
            .sudo()
            .search([("company_id", "=", company.id), ("type", "=", "purchase")])
        )
        expense_journal = company.expense_journal_id if "expense_journal_id" in company else False
        return (journals - expense_journal)[:1] or journals[:1]

    def _open_date(self, day):
        """(date, locks): the first day from ``day`` on that neither company has locked for this
        agreement's documents (provider's sales journal, receiver's purchase journal, taxes),
        so that the invoice and its mirror land in the same open period; ``locks`` names the
        lock dates that moved it."""
        self.ensure_one()
        locks = []
        for company, journal in (
            (self.provider_company_id.sudo(), self._sale_journal()),
            (self.receiver_company_id.sudo(), self._purchase_journal()),
        ):
            locks += [
                (lock, company)
                for lock, _name in company._get_violated_lock_dates(day, True, journal)
            ]
        if not locks:
            return day, locks
        return max(lock for lock, _company in locks) + timedelta(days=1), locks

    def _provider_fiscal_position(self):
        self.ensure_one()
        return self.provider_fiscal_position_id or self.env[
            "account.fiscal.position"
        ].sudo().with_company(self.provider_company_id)._get_fiscal_position(
            self.receiver_company_id.partner_id
        )

    def _receiver_fiscal_position(self):
        self.ensure_one()
        return self.receiver_fiscal_position_id or self.env[
            "account.fiscal.position"
        ].sudo().with_company(self.receiver_company_id)._get_fiscal_position(
            self.provider_company_id.partner_id
        )

    def _terms(self, invoice_date, currencies):
        """engine.pricing.Terms of this agreement for an invoice dated ``invoice_date``; the
        conversion factors into the charge currency are the provider's rates of that day."""
        self.ensure_one()
        provider = self.provider_company_id
        Currency = self.env["res.currency"].sudo()
        rate_lines = ()
        wanted = set(currencies) | {provider.currency_id.id}
        if self.pricing_method == pricing.RATE_CARD:
            card = self.rate_card_id.sudo()
            wanted.add(card.currency_id.id)
            rate_lines = tuple(
                pricing.TransferRate(
                    id=line.id,
                    rate=line.rate,
                    currency=card.currency_id.id,
                    employee_id=line.employee_id.id or None,
                    role_id=line.job_id.id or None,
                    date_from=line.date_from or None,
                    date_to=line.date_to or None,
                )
                for line in card.line_ids
                if not line.product_id
            )
        factors = {
            currency.id: Currency._get_conversion_rate(
                currency, self.currency_id, provider, invoice_date
            )
            for currency in Currency.browse(sorted(c for c in wanted if c))
        }
        return pricing.Terms(
            method=self.pricing_method,
            provider_currency=provider.currency_id.id,
            markup=self.markup_percent,
            role_markups={line.job_id.id: line.markup_percent for line in self.markup_ids},
            rate_lines=rate_lines,
            share=self.billed_share_percent,
            price_digits=self.env["decimal.precision"].precision_get("Product Price"),
            currency_digits=self.currency_id.decimal_places,
            factors=factors,
        )

    @api.model
    def _for_pair(self, provider, receiver, day):
        return self.sudo().search(
            [
                ("provider_company_id", "=", provider.id),
                ("receiver_company_id", "=", receiver.id),
                ("date_from", "<=", day),
                "|",
                ("date_to", "=", False),
                ("date_to", ">=", day),
            ],
            limit=1,
        )

    def action_view_recharges(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ps_intercompany.action_ps_ic_recharge"
        )
        action["domain"] = [("agreement_id", "=", self.id)]
        return action
