from decimal import Decimal

import psycopg2

from odoo import api, fields, models

from odoo.addons.connector_base.const import CTX_JOB_ID
from odoo.addons.connector_base.engine.errors import TransientError

from ..engine import rates

SYNC_STATES = [
    ("synced", "Follows the PSA"),
    ("correction", "Correction open"),
    ("deleted", "Deleted in the PSA"),
    ("adjustment", "Adjustment"),
]


class AccountAnalyticLine(models.Model):
    """Timesheet lines imported from a PSA carry what the PSA said: the version Odoo accounted
    for (hours exact and rounded, date, task, billable, notes, approval), the PSA's own rates
    (for the rate discrepancy report) and its invoicing, and how the line stands against the
    PSA. Unique per backend and PSA entry: an entry is imported exactly once."""

    _inherit = "account.analytic.line"

    psa_backend_id = fields.Many2one(
        "connector.backend",
        string="PSA backend",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )
    psa_remote_id = fields.Char(string="PSA entry ID", readonly=True, copy=False)
    psa_user_ref = fields.Char(string="PSA user ID", readonly=True, copy=False)
    psa_project_ref = fields.Char(string="PSA project ID", readonly=True, copy=False)
    psa_task_ref = fields.Char(string="PSA task ID", readonly=True, copy=False)
    psa_task_name = fields.Char(string="PSA task", readonly=True, copy=False)
    psa_hours = fields.Float(string="PSA hours", readonly=True, copy=False, digits=(16, 6))
    psa_rounded_hours = fields.Float(
        string="PSA rounded hours", readonly=True, copy=False, digits=(16, 6)
    )
    psa_quantity = fields.Float(
        string="PSA hours accounted",
        readonly=True,
        copy=False,
        digits=(16, 6),
        help="The hours of the PSA version Odoo has accounted for (billed, adjusted or kept).",
    )
    psa_rounding_delta = fields.Float(
        string="Rounding (h)",
        compute="_compute_psa_rounding_delta",
        digits=(16, 6),
        help="Rounded minus exact hours, as the PSA rounded them.",
    )
    psa_spent_on = fields.Date(string="PSA date", readonly=True, copy=False)
    psa_billable = fields.Boolean(string="Billable in the PSA", readonly=True, copy=False)
    psa_notes = fields.Text(string="PSA notes", readonly=True, copy=False)
    psa_approval = fields.Char(string="PSA approval", readonly=True, copy=False)
    psa_billable_rate = fields.Float(
        string="PSA billable rate",
        readonly=True,
        copy=False,
        digits="Product Price",
        groups="ps_billing_rules.group_billing_user",
    )
    psa_cost_rate = fields.Float(
        string="PSA cost rate",
        readonly=True,
        copy=False,
        digits="Product Price",
        groups="ps_billing_rules.group_billing_user",
    )
    psa_currency_id = fields.Many2one("res.currency", string="PSA currency", readonly=True)
    psa_invoiced = fields.Boolean(string="Invoiced in the PSA", readonly=True, copy=False)
    psa_invoice_ref = fields.Char(string="PSA invoice", readonly=True, copy=False)
    psa_fingerprint = fields.Char(readonly=True, copy=False)
    psa_updated_at = fields.Datetime(string="PSA updated at", readonly=True, copy=False)
    psa_deleted = fields.Boolean(string="Deleted in the PSA", readonly=True, copy=False)
    psa_marked_invoice_id = fields.Many2one(
        "account.move",
        string="Marked billed in the PSA",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
    psa_correction_id = fields.Many2one(
        "connector.psa.correction",
        string="Adjustment of",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
    )
    psa_correction_ids = fields.One2many(
        "connector.psa.correction", "line_id", string="Corrections", readonly=True
    )
    psa_sync_state = fields.Selection(
        SYNC_STATES, string="PSA status", compute="_compute_psa_sync_state", store=True
    )
    psa_rate_status = fields.Selection(
        rates.STATUSES,
        string="Rate vs PSA",
        compute="_compute_psa_rate_discrepancy",
        store=True,
        groups="ps_billing_rules.group_billing_user",
    )
    psa_rate_difference = fields.Float(
        string="Rate difference",
        compute="_compute_psa_rate_discrepancy",
        store=True,
        digits="Product Price",
        groups="ps_billing_rules.group_billing_user",
        help="Odoo's rate minus the PSA's rate, in the rate's currency.",
    )
    psa_amount_difference = fields.Float(
        string="Amount difference",
        compute="_compute_psa_rate_discrepancy",
        store=True,
        groups="ps_billing_rules.group_billing_user",
        help="Hours x Odoo's rate minus hours x the PSA's rate.",
    )

    def init(self):
        # An entry is imported once per backend (the binding says so too; this holds even if two
        # jobs raced past it). Billed lines of deleted entries keep their id.
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS account_analytic_line_psa_entry_uniq
               ON account_analytic_line (psa_backend_id, psa_remote_id)
               WHERE psa_remote_id IS NOT NULL"""
        )

    @api.depends("psa_hours", "psa_rounded_hours")
    def _compute_psa_rounding_delta(self):
        for line in self:
            line.psa_rounding_delta = line.psa_rounded_hours - line.psa_hours

    @api.depends("psa_deleted", "psa_correction_id", "psa_correction_ids.state", "psa_backend_id")
    def _compute_psa_sync_state(self):
        for line in self:
            if not line.psa_backend_id:
                line.psa_sync_state = False
            elif line.psa_correction_id:
                line.psa_sync_state = "adjustment"
            elif any(item.state == "open" for item in line.psa_correction_ids):
                line.psa_sync_state = "correction"
            elif line.psa_deleted:
                line.psa_sync_state = "deleted"
            else:
                line.psa_sync_state = "synced"

    @api.depends(
        "ps_rate", "ps_rate_currency_id", "psa_billable_rate", "psa_currency_id", "unit_amount"
    )
    def _compute_psa_rate_discrepancy(self):
        for line in self:
            if not line.psa_remote_id or not line.psa_billable:
                line.psa_rate_status = False
                line.psa_rate_difference = line.psa_amount_difference = 0.0
                continue
            currency = line.ps_rate_currency_id or line.psa_currency_id
            status, rate_diff, amount_diff = rates.discrepancy(
                Decimal(str(line.ps_rate)) if line.ps_rate else None,
                line.ps_rate_currency_id.name,
                Decimal(str(line.psa_billable_rate)) if line.psa_billable_rate else None,
                line.psa_currency_id.name,
                Decimal(str(round(line.unit_amount, 6))),
                places=currency.decimal_places if currency else 2,
            )
            line.psa_rate_status = status
            line.psa_rate_difference = float(rate_diff or 0)
            line.psa_amount_difference = float(amount_diff or 0)

    @api.model_create_multi
    def create(self, vals_list):
        try:
            return super().create(vals_list)
        except psycopg2.errors.UniqueViolation as exc:
            if "account_analytic_line_psa_entry_uniq" not in str(exc):
                raise
            # Another job imported the same entry at the same moment: retrying finds it.
            raise TransientError(
                "A PSA entry of this batch was imported by another job at the same moment; "
                "the batch is retried and will find it."
            ) from exc

    # Used by the sync ---------------------------------------------------------------------------

    def _psa_is_billed(self):
        self.ensure_one()
        return self.ps_billing_state == "billed"

    def _psa_remove_deleted(self, tool, reason="deleted"):
        """Remove lines whose PSA entry is gone (never billed ones: see the callers)."""
        if not self.env.context.get(CTX_JOB_ID):
            self.env["connector.audit.log"]._log_unlink(self)
        self.unlink()
