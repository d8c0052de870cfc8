from odoo import fields, models

PROJECT = "project"
PROJECT_PATHS = {"harvest": "/projects/{id}", "kantata": "/workspaces/{id}"}


class ProjectProject(models.Model):
    """Projects provisioned in a PSA: their external IDs and a link to the PSA project."""

    _name = "project.project"
    _inherit = ["project.project", "connector.binding.mixin"]

    psa_project_url = fields.Char(
        string="PSA project",
        compute="_compute_psa_project_url",
        groups="base.group_user",
    )

    def _compute_psa_project_url(self):
        bindings = (
            self.env["connector.binding"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "project.project"),
                    ("res_id", "in", self.ids),
                    ("remote_type", "=", PROJECT),
                ]
            )
        )
        by_project = {}
        for binding in bindings:
            backend = binding.backend_id
            path = PROJECT_PATHS.get(backend.backend_type)
            if path and backend.psa_web_url:
                by_project.setdefault(
                    binding.res_id,
                    backend.psa_web_url.rstrip("/") + path.format(id=binding.remote_id),
                )
        for project in self:
            project.psa_project_url = by_project.get(project.id, False)
