import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class SaleOrder(models.Model):
    """A contract born from a CRM deal: its deal, its versions and the status sent back."""

    _inherit = "sale.order"

    crm_backend_id = fields.Many2one(
        "connector.backend", string="CRM", readonly=True, copy=False, index=True
    )
    crm_deal_id = fields.Char(string="CRM deal ID", readonly=True, copy=False, index=True)
    crm_deal_name = fields.Char(string="Deal", copy=False, tracking=True)
    crm_close_date = fields.Date(string="Deal closed on", copy=False, tracking=True)
    crm_description = fields.Text(string="Deal description", copy=False)
    crm_project_template_id = fields.Many2one(
        "project.project",
        string="Project template",
        copy=False,
        help="Copied into the engagement's project when the order is confirmed.",
    )
    crm_version_ids = fields.One2many(
        "connector.crm.deal.version", "order_id", string="Deal versions", readonly=True
    )
    crm_version_count = fields.Integer(compute="_compute_crm_version_count")
    crm_pending_version_count = fields.Integer(compute="_compute_crm_version_count")
    crm_baseline = fields.Text(
        string="Deal as reflected (JSON)", copy=False, readonly=True, groups="base.group_system"
    )
    crm_review_needed = fields.Boolean(string="CRM review needed", copy=False, tracking=True)
    crm_review_reason = fields.Text(string="Why review", copy=False, readonly=True)

    @api.depends("crm_version_ids.state")
    def _compute_crm_version_count(self):
        for order in self:
            order.crm_version_count = len(order.crm_version_ids)
            order.crm_pending_version_count = len(
                order.crm_version_ids.filtered(lambda v: v.state in ("pending", "refused"))
            )

    # Baseline: the deal as this contract reflects it ------------------------------------------

    def _crm_baseline(self):
        self.ensure_one()
        return json.loads(self.sudo().crm_baseline or "{}")

    def _crm_set_baseline(self, deal):
        self.ensure_one()
        self.sudo().crm_baseline = json.dumps(deal, default=str)

    # Deal-level fields under the ownership matrix ---------------------------------------------

    def _crm_deal_values(self):
        self.ensure_one()
        return {
            "name": self.crm_deal_name or None,
            "close_date": fields.Date.to_string(self.crm_close_date)
            if self.crm_close_date
            else None,
            "description": self.crm_description or None,
            "po_number": self.client_order_ref or None,
        }

    def _crm_write_deal_values(self, values):
        mapping = {
            "name": "crm_deal_name",
            "close_date": "crm_close_date",
            "description": "crm_description",
            "po_number": "client_order_ref",
        }
        self.sudo().write(
            {mapping[key]: value or False for key, value in values.items() if key in mapping}
        )

    # Write-back -------------------------------------------------------------------------------

    def _crm_status(self):
        """What the CRM is told about this engagement, as plain values."""
        self.ensure_one()
        order = self.sudo()
        invoices = order.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.move_type in ("out_invoice", "out_refund")
        )
        today = fields.Date.context_today(order)
        invoiced = outstanding = overdue = 0.0
        for move in invoices:
            sign = -1 if move.move_type == "out_refund" else 1
            invoiced += sign * move.amount_total
            outstanding += sign * move.amount_residual
            if (
                sign > 0
                and move.amount_residual
                and move.invoice_date_due
                and move.invoice_date_due < today
            ):
                overdue += move.amount_residual
        round_ = order.currency_id.round
        last = invoices.filtered(lambda m: m.move_type == "out_invoice").sorted(
            lambda m: (m.invoice_date or today, m.id)
        )[-1:]
        payment_labels = dict(self.env["account.move"]._fields["payment_state"].selection)
        project = order.project_id or order.project_ids[:1]
        status_labels = dict(self.env["project.project"]._fields["last_update_status"].selection)
        milestones = project.milestone_ids if project else self.env["project.milestone"]
        reached = milestones.filtered("is_reached")
        if milestones:
            percent = 100.0 * len(reached) / len(milestones)
        elif project and project.allocated_hours:
            percent = min(100.0, 100.0 * project.effective_hours / project.allocated_hours)
        else:
            percent = 0.0
        return {
            "invoiced_total": round_(invoiced),
            "paid_total": round_(invoiced - outstanding),
            "outstanding": round_(outstanding),
            "overdue": round_(overdue),
            "last_invoice_number": last.name or None,
            "last_invoice_date": fields.Date.to_string(last.invoice_date)
            if last.invoice_date
            else None,
            "last_invoice_status": payment_labels.get(last.payment_state) if last else None,
            "project_status": status_labels.get(project.last_update_status) if project else None,
            "milestones_reached": f"{len(reached)}/{len(milestones)}" if milestones else None,
            "percent_complete": round(percent, 1),
        }

    def _crm_writeback_values(self, writeback):
        status = self._crm_status()
        return {remote: status[key] for key, remote in writeback.items() if key in status}

    def _crm_request_push(self):
        orders = self.filtered("crm_backend_id")
        if not orders:
            return
        bindings = (
            self.env["connector.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "in", orders.ids),
                    ("remote_type", "=", "deal"),
                ]
            )
        )
        bindings.write({"crm_push_pending": True})
        bindings.backend_id._crm_request_push()

    # Amendments and reviews -------------------------------------------------------------------

    def _crm_billing_managers(self):
        group = self.env.ref("ps_billing_rules.group_billing_manager")
        users = group.users.filtered(
            lambda u: u.active and not u.share and self.company_id in u.company_ids
        )
        return users or self.user_id

    def _crm_ask_approval(self, version):
        self.ensure_one()
        for user in self._crm_billing_managers():
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_("Approve deal amendment v%s", version.sequence),
                note=version.summary,
                user_id=user.id,
            )

    def _crm_close_amendment_activities(self):
        activities = self.sudo().activity_ids.filtered(
            lambda a: (a.summary or "").startswith(self.env._("Approve deal amendment"))
        )
        if not any(v.state == "pending" for v in self.crm_version_ids):
            activities.action_feedback(feedback=_("Decided"))

    def _crm_flag_review(self, reason, version=None, summary=None, note=None):
        """Flag the contract for review (warning on the order, activities for the salesperson
        and the Billing Managers, three people at most)."""
        summary = summary or _("Review contract: CRM deal changed")
        if note is None:
            note = _("CRM: %s Nothing was deleted or cancelled.", reason)
        for order in self:
            order.sudo().write({"crm_review_needed": True, "crm_review_reason": reason})
            for user in (order.user_id | order._crm_billing_managers())[:3]:
                order.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=summary,
                    note=reason,
                    user_id=user.id,
                )
            order.sudo().message_post(body=note)

    def action_crm_mark_reviewed(self):
        if not self.env.su and not self.env.user.has_group("ps_billing_rules.group_billing_user"):
            raise AccessError(_("Only Billing Users mark a contract as reviewed."))
        self.check_access("write")
        for order in self:
            order.sudo().write({"crm_review_needed": False})
            order.sudo().activity_ids.filtered(
                lambda a: (a.summary or "").startswith(self.env._("Review contract"))
            ).action_feedback(feedback=_("Reviewed"))
            order.message_post(body=_("CRM review done: %s", order.crm_review_reason or ""))
        return True

    def action_crm_view_versions(self):
        self.ensure_one()
        self.check_access("read")
        self.env["connector.crm.deal.version"].check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Deal versions of %s", self.name),
            "res_model": "connector.crm.deal.version",
            "view_mode": "list,form",
            "domain": [("order_id", "=", self.id)],
        }
