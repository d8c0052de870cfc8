from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class HrExpense(models.Model):
    """An expense an employee incurs for another company's project: recharged at cost (no
    mark-up) under the agreement between the two companies."""

    _name = "hr.expense"
    _inherit = ["hr.expense", "ps.ic.rechargeable.mixin"]
    _ps_ic_relevant_fields = (
        "total_amount",
        "total_amount_currency",
        "tax_amount",
        "date",
        "employee_id",
        "company_id",
        "ps_ic_project_id",
        "state",
    )

    ps_ic_project_id = fields.Many2one(
        "project.project",
        string="Recharge to project",
        check_company=False,
        tracking=True,
        help="A project of another company of the group: the expense is passed through to it "
        "at cost by the next recharge run once approved.",
    )
    ps_ic_entry_ids = fields.One2many(
        "ps.ic.recharge.entry",
        "item_ref",
        domain=[("item_model", "=", "hr.expense")],
        string="Recharges",
    )

    @api.constrains("ps_ic_project_id", "company_id")
    def _check_ps_ic_project(self):
        for expense in self:
            project = expense.sudo().ps_ic_project_id
            if project and project.company_id == expense.company_id:
                raise ValidationError(
                    _(
                        "%(project)s belongs to %(company)s, the expense's own company: use the "
                        "expense's analytic distribution; Recharge to project is for another "
                        "company's project.",
                        project=project.display_name,
                        company=expense.company_id.name,
                    )
                )
