import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

STATES = [
    ("applied", "Applied"),
    ("pending", "Awaiting approval"),
    ("approved", "Approved and applied"),
    ("rejected", "Rejected"),
    ("refused", "Needs attention"),
    ("handled", "Handled by hand"),
    ("superseded", "Superseded"),
    ("review", "Contract to review"),
]
OUTCOMES = [
    ("created", "Engagement created"),
    ("direct", "Applied directly"),
    ("approval", "Needs approval"),
    ("refused", "Not applied automatically"),
    ("review", "Lifecycle change"),
]


class ConnectorCrmDealVersion(models.Model):
    """One version of a converted deal as the CRM sent it, with what changed and what Odoo did."""

    _name = "connector.crm.deal.version"
    _description = "CRM deal version"
    _inherit = ["mail.thread"]
    _order = "order_id, sequence desc, id desc"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    deal_id = fields.Char(string="CRM deal", required=True, index=True)
    sequence = fields.Integer(string="Version", required=True)
    outcome = fields.Selection(OUTCOMES, required=True)
    state = fields.Selection(STATES, required=True, tracking=True)
    summary = fields.Text(string="Changes")
    changes = fields.Text(string="Changes (JSON)")
    snapshot = fields.Text(string="Deal as received (JSON)")
    received_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    decided_by = fields.Many2one("res.users", readonly=True)
    decided_at = fields.Datetime(readonly=True)
    reason = fields.Text(string="Decision reason", readonly=True)
    job_id = fields.Many2one("connector.job", string="Attention item", readonly=True)
    order_line_ids = fields.One2many(
        "sale.order.line", "crm_version_id", string="Change-order lines"
    )

    @api.depends("order_id", "sequence")
    def _compute_display_name(self):
        for version in self:
            version.display_name = _(
                "%(order)s, deal version %(seq)s", order=version.order_id.name, seq=version.sequence
            )

    def _snapshot(self):
        self.ensure_one()
        return json.loads(self.snapshot or "{}")

    def _changes(self):
        self.ensure_one()
        return json.loads(self.changes or "[]")

    def _check_billing_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "ps_billing_rules.group_billing_manager"
        ):
            raise AccessError(_("Only a Billing Manager can decide on a deal amendment."))

    def action_approve(self):
        self._check_billing_manager()
        for version in self:
            if version.state != "pending":
                raise UserError(_("Version %s is not awaiting approval.", version.sequence))
            self.env["connector.crm.engagement"]._apply_amendment(version)
            version.write(
                {
                    "state": "approved",
                    "decided_by": self.env.uid,
                    "decided_at": fields.Datetime.now(),
                }
            )
            version.order_id._crm_close_amendment_activities()
            version.order_id.message_post(
                body=_(
                    "Deal version %(seq)s approved and applied:\n%(summary)s",
                    seq=version.sequence,
                    summary=version.summary,
                )
            )
        return True

    def action_reject(self):
        self._check_billing_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reject deal amendment"),
            "res_model": "connector.crm.version.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_version_ids": self.ids},
        }

    def _reject(self, reason):
        self._check_billing_manager()
        if not (reason or "").strip():
            raise UserError(_("Say why the amendment is rejected."))
        for version in self:
            if version.state != "pending":
                raise UserError(_("Version %s is not awaiting approval.", version.sequence))
            version.write(
                {
                    "state": "rejected",
                    "reason": reason,
                    "decided_by": self.env.uid,
                    "decided_at": fields.Datetime.now(),
                }
            )
            version.order_id._crm_close_amendment_activities()
            version.order_id.message_post(
                body=_(
                    "Deal version %(seq)s rejected: %(reason)s", seq=version.sequence, reason=reason
                )
            )
        return True

    def action_mark_handled(self):
        """A refused change was dealt with by hand (credit note, new contract...): the contract
        now reflects this version, and the attention item is closed."""
        self._check_billing_manager()
        for version in self:
            if version.state != "refused":
                raise UserError(_("Version %s does not need attention.", version.sequence))
            version.order_id._crm_set_baseline(version._snapshot())
            version.write(
                {
                    "state": "handled",
                    "decided_by": self.env.uid,
                    "decided_at": fields.Datetime.now(),
                }
            )
            if version.job_id and version.job_id.state in ("needs_attention", "dead", "pending"):
                version.job_id.sudo().action_cancel()
            version.order_id.message_post(
                body=_("Deal version %s marked as handled by hand.", version.sequence)
            )
        return True
