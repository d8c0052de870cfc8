from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

SCOPES = [
    ("customer", "Customer"),
    ("contract", "Contract"),
    ("project", "Project"),
    ("task", "Task"),
    ("line", "Single timesheet line"),
]


class PsBillingHold(models.Model):
    """Work under a hold is never invoiced; the pre-bill review shows why."""

    _name = "ps.billing.hold"
    _description = "Billing Hold"
    _inherit = ["mail.thread"]
    _order = "active desc, date_start desc, id desc"

    scope = fields.Selection(SCOPES, required=True, default="contract", tracking=True)
    reason = fields.Text(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True, help="Released holds are archived.")
    user_id = fields.Many2one(
        "res.users", string="Placed by", required=True, default=lambda self: self.env.user
    )
    date_start = fields.Datetime(string="Since", required=True, default=fields.Datetime.now)
    released_by_id = fields.Many2one("res.users", string="Released by", readonly=True)
    released_at = fields.Datetime(readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    sale_order_id = fields.Many2one("sale.order", string="Contract", index=True)
    project_id = fields.Many2one("project.project", index=True)
    task_id = fields.Many2one("project.task", index=True)
    timesheet_id = fields.Many2one("account.analytic.line", string="Timesheet line", index=True)
    target = fields.Char(compute="_compute_target")

    @api.depends("scope", "partner_id", "sale_order_id", "project_id", "task_id", "timesheet_id")
    def _compute_target(self):
        for hold in self:
            record = hold._target_record()
            hold.target = record.display_name if record else False

    def _target_record(self):
        return {
            "customer": self.partner_id,
            "contract": self.sale_order_id,
            "project": self.project_id,
            "task": self.task_id,
            "line": self.timesheet_id,
        }[self.scope]

    @api.constrains("scope", "partner_id", "sale_order_id", "project_id", "task_id", "timesheet_id")
    def _check_target(self):
        for hold in self:
            if not hold._target_record():
                raise ValidationError(
                    _(
                        "A %(scope)s hold needs its %(scope)s: choose what is held.",
                        scope=dict(SCOPES)[hold.scope].lower(),
                    )
                )

    def action_release(self):
        self.write(
            {
                "active": False,
                "released_by_id": self.env.user.id,
                "released_at": fields.Datetime.now(),
            }
        )
        for hold in self:
            hold.message_post(body=_("Hold released by %s", self.env.user.name))
        return True

    @api.model
    def _active_holds_index(self, company_ids=None):
        """Active holds grouped by scope: {scope: {record id: hold}} (one query per run)."""
        domain = [("active", "=", True)]
        if company_ids:
            domain.append(("company_id", "in", list(company_ids)))
        index = {scope: {} for scope, _label in SCOPES}
        for hold in self.sudo().search(domain, order="date_start"):
            record = hold._target_record()
            index[hold.scope].setdefault(record.id, hold)
        return index

    @staticmethod
    def _hold_for(index, partner=None, order=None, project=None, task=None, timesheet=None):
        """The hold that applies to one billable item, most specific first, or None."""
        candidates = (
            ("line", timesheet),
            ("task", task),
            ("project", project),
            ("contract", order),
            ("customer", partner.commercial_partner_id if partner else None),
        )
        for scope, record in candidates:
            if record and record.id in index.get(scope, {}):
                return index[scope][record.id]
        return None

    def _describe(self):
        self.ensure_one()
        return _(
            "held (%(scope)s %(target)s, since %(since)s by %(user)s: %(reason)s)",
            scope=dict(SCOPES)[self.scope].lower(),
            target=self.target,
            since=fields.Date.to_string(self.date_start.date()),
            user=self.user_id.name,
            reason=self.reason,
        )
