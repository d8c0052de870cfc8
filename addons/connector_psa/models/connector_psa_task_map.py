from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ConnectorPsaTaskMap(models.Model):
    """A PSA task or service of a project -> the contract line (and Odoo task) its time goes to.

    Provisioning fills it for the tasks it creates; a task met for the first time in imported
    time gets a row with the project's default contract line, or an empty row to map (its time
    waits in needs attention until then). A row without line but marked non-billable takes the
    task's time as non-billable.
    """

    _name = "connector.psa.task.map"
    _description = "PSA task mapping"
    _inherit = ["connector.audited.mixin"]
    _order = "backend_id, project_id, psa_task_name, id"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    project_id = fields.Many2one("project.project", required=True, ondelete="cascade", index=True)
    psa_project_ref = fields.Char(string="PSA project ID")
    psa_task_ref = fields.Char(string="PSA task ID", index=True)
    psa_task_name = fields.Char(string="PSA task")
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Contract line",
        ondelete="set null",
        domain="[('order_id.project_id', '=', project_id), ('display_type', '=', False)]",
    )
    task_id = fields.Many2one(
        "project.task",
        string="Odoo task",
        domain="[('project_id', '=', project_id)]",
        ondelete="set null",
    )
    non_billable = fields.Boolean(
        help="The task's time is imported as non-billable (no contract line)."
    )
    state = fields.Selection(
        [("mapped", "Mapped"), ("to_map", "To map")], compute="_compute_state", store=True
    )

    @api.depends("sale_line_id", "non_billable")
    def _compute_state(self):
        for row in self:
            row.state = "mapped" if row.sale_line_id or row.non_billable else "to_map"

    @api.constrains("psa_task_ref", "psa_task_name")
    def _check_reference(self):
        for row in self:
            if not row.psa_task_ref and not row.psa_task_name:
                raise ValidationError(_("A task mapping needs the PSA task ID or its name."))
