from odoo import models


class ProjectMilestone(models.Model):
    _name = "project.milestone"
    _inherit = ["project.milestone", "connector.binding.mixin"]
