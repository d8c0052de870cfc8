from odoo import api, fields, models

from ..engine import grouping, pricing

ITEM_MODELS = [("account.analytic.line", "Timesheet"), ("hr.expense", "Expense")]


class PsIcRechargeEntry(models.Model):
    """The recharge ledger: what each item (timesheet line, expense) was recharged for, on which
    recharge line. An item has at most one *charge* per agreement (a unique index, so two runs
    at once cannot both charge it); later corrections are *adjustments*, a full credit note a
    *reversal*. The item's recharged position is the net of its entries.

    Entries hold the provider's cost: only the provider company sees them."""

    _name = "ps.ic.recharge.entry"
    _description = "Intercompany Recharge Entry"
    _order = "date desc, id desc"
    _rec_name = "name"

    # (agreement, item) is indexed by the unique index and the stale index of init()
    agreement_id = fields.Many2one("ps.ic.agreement", required=True, readonly=True)
    # Read through the agreement (whose companies and currency are fixed once it has
    # recharges): tens of thousands of rows a month are inserted without checking them again.
    provider_company_id = fields.Many2one(related="agreement_id.provider_company_id")
    receiver_company_id = fields.Many2one(related="agreement_id.receiver_company_id")
    recharge_id = fields.Many2one(
        "ps.ic.recharge", readonly=True, index="btree_not_null", ondelete="cascade"
    )
    recharge_line_id = fields.Many2one(
        "ps.ic.recharge.line", readonly=True, index="btree_not_null", ondelete="set null"
    )
    credit_note_id = fields.Many2one("account.move", readonly=True, ondelete="set null")
    kind = fields.Selection(grouping.ENTRY_KINDS, required=True, readonly=True)
    item_model = fields.Selection(ITEM_MODELS, required=True, readonly=True)
    item_ref = fields.Many2oneReference(
        string="Item",
        model_field="item_model",
        required=True,
        readonly=True,
        help="The timesheet line or expense (its id is kept when it is deleted).",
    )
    # Snapshots of the item when it was recharged (the corrections compare against them). Plain
    # integers: each of tens of thousands of rows a month is inserted without foreign-key checks.
    employee_ref = fields.Integer(readonly=True)
    project_ref = fields.Integer(readonly=True)
    timesheet_id = fields.Many2one(
        "account.analytic.line", compute="_compute_item", search="_search_timesheet_id"
    )
    expense_id = fields.Many2one("hr.expense", compute="_compute_item", search="_search_expense_id")
    employee_id = fields.Many2one(
        "hr.employee", compute="_compute_item", search="_search_employee_id"
    )
    project_id = fields.Many2one(
        "project.project", compute="_compute_item", search="_search_project_id"
    )
    name = fields.Char(string="Description", readonly=True)
    date = fields.Date(readonly=True)
    hours = fields.Float(readonly=True, digits=(16, 2))
    basis = fields.Selection(
        [(pricing.HOURLY, "Hours x price"), (pricing.LUMP, "Lump sum")],
        required=True,
        readonly=True,
    )
    quantity = fields.Float(readonly=True, digits=(16, 6))
    price_unit = fields.Float(string="Transfer price", readonly=True, digits="Product Price")
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one(related="agreement_id.currency_id", string="Charge currency")
    cost_amount = fields.Monetary(
        string="Cost base",
        readonly=True,
        currency_field="provider_currency_id",
        help="Hours x cost rate of the day (or the expense), in the provider's currency.",
    )
    provider_currency_id = fields.Many2one(
        related="provider_company_id.currency_id", string="Provider currency"
    )
    markup_percent = fields.Float(string="Mark-up (%)", readonly=True, digits=(16, 4))
    price_source = fields.Char(readonly=True)
    reason = fields.Char(readonly=True, help="Why an adjustment was made.")
    stale = fields.Boolean(
        readonly=True,
        help="The item changed (or was deleted) since it was recharged: the next run of the "
        "agreement checks it and adds an adjustment if its value moved.",
    )

    def init(self):
        cr = self.env.cr
        # At most one charge per item and agreement, whatever the number of runs at once.
        cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS ps_ic_recharge_entry_charge_uniq
               ON ps_ic_recharge_entry (agreement_id, item_model, item_ref) WHERE kind = 'charge'"""
        )
        cr.execute(
            """CREATE INDEX IF NOT EXISTS ps_ic_recharge_entry_item_idx
               ON ps_ic_recharge_entry (item_model, item_ref)"""
        )
        cr.execute(
            """CREATE INDEX IF NOT EXISTS ps_ic_recharge_entry_stale_idx
               ON ps_ic_recharge_entry (agreement_id) WHERE stale"""
        )

    @api.model
    def _mark_stale(self, item_model, item_ids):
        """Items changed or deleted: their entries are checked again by the next run."""
        if not item_ids:
            return
        self.flush_model()
        self.env.cr.execute(
            """UPDATE ps_ic_recharge_entry SET stale = TRUE
               WHERE item_model = %s AND item_ref = ANY(%s) AND stale IS NOT TRUE""",
            (item_model, list(item_ids)),
        )
        if self.env.cr.rowcount:
            self.invalidate_model(["stale"])

    @api.depends("item_model", "item_ref", "employee_ref", "project_ref")
    def _compute_item(self):
        Timesheet, Expense = self.env["account.analytic.line"], self.env["hr.expense"]
        for entry in self:
            is_timesheet = entry.item_model == "account.analytic.line"
            entry.timesheet_id = Timesheet.browse(entry.item_ref if is_timesheet else []).exists()
            entry.expense_id = Expense.browse(entry.item_ref if not is_timesheet else []).exists()
            entry.employee_id = entry.employee_ref or False
            entry.project_id = entry.project_ref or False

    def _search_timesheet_id(self, operator, value):
        return [("item_model", "=", "account.analytic.line"), ("item_ref", operator, value)]

    def _search_expense_id(self, operator, value):
        return [("item_model", "=", "hr.expense"), ("item_ref", operator, value)]

    def _search_employee_id(self, operator, value):
        return self._search_ref("hr.employee", "employee_ref", operator, value)

    def _search_project_id(self, operator, value):
        return self._search_ref("project.project", "project_ref", operator, value)

    def _search_ref(self, model, field, operator, value):
        if isinstance(value, str):  # typed in the search bar: a name
            ids = (
                self.env[model]
                .with_context(active_test=False)
                .search([("name", operator, value)])
                .ids
            )
            return [(field, "in", ids)]
        return [(field, operator, value)]

    def action_open_item(self):
        self.ensure_one()
        self.check_access("read")
        record = self.timesheet_id or self.expense_id
        if not record:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }
