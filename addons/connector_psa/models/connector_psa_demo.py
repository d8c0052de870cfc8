"""Demo data that needs code: the demo contracts' PSA codes, mappings mirroring
tests/fakes/psa_seed.py, credentials (vault) and activation of the demo backends."""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# psa_seed.py: project code -> the ps_billing_rules demo customer whose contract it is, and
# each PSA task -> the billing model of the contract line it goes to (None: non-billable).
PROJECTS = {
    "PSA-GLX-ASSESS": (
        "ps_billing_rules.partner_demo_globex",
        {"Interviews": "tm", "Analysis": "tm", "Internal review": None},
    ),
    "PSA-INI-ERP": (
        "ps_billing_rules.partner_demo_initrode",
        {"Design": "fixed_fee", "Configuration": "fixed_fee", "Training": "fixed_fee"},
    ),
    "PSA-UMB-SUPPORT": (
        "ps_billing_rules.partner_demo_umbrella",
        {"Support tickets": "retainer", "Monitoring": None},
    ),
}
CATEGORIES = {
    "Travel": "connector_psa.product_psa_travel",
    "Lodging": "connector_psa.product_psa_lodging",
    "Meals": "connector_psa.product_psa_meals",
    "Mileage": "connector_psa.product_psa_mileage",
}
SECRETS = {"harvest": "fake-harvest-pat", "kantata": "fake-kantata-token"}
CLIENT_SECRETS = {"harvest": "fake-harvest-secret", "kantata": "fake-kantata-secret"}


class ConnectorPsaDemo(models.AbstractModel):
    _name = "connector.psa.demo"
    _description = "PSA connector demo data"

    @api.model
    def _populate(self, backend_ids):
        backends = self.env["connector.backend"].browse(backend_ids)
        today = fields.Date.context_today(self)
        month_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        orders = {}
        for code, (partner_ref, _tasks) in PROJECTS.items():
            order = self.env["sale.order"].search(
                [("partner_id", "=", self.env.ref(partner_ref).id), ("state", "=", "sale")],
                order="id",
                limit=1,
            )
            if order:
                order.psa_project_code = code
                orders[code] = order
        for backend in backends:
            task_rows = []
            for code, (_partner, tasks) in PROJECTS.items():
                order = orders.get(code)
                if not order or not order.project_id:
                    continue
                for task, model in tasks.items():
                    line = order.order_line.filtered(lambda sol, m=model: sol.ps_billing_model == m)
                    task_rows.append(
                        {
                            "backend_id": backend.id,
                            "project_id": order.project_id.id,
                            "psa_task_name": task,
                            "sale_line_id": line[:1].id if model else False,
                            "non_billable": model is None,
                        }
                    )
            self.env["connector.psa.task.map"].create(task_rows)
            self.env["connector.psa.category.map"].create(
                [
                    {
                        "backend_id": backend.id,
                        "psa_category_name": name,
                        "product_id": self.env.ref(product).id,
                    }
                    for name, product in CATEGORIES.items()
                ]
            )
            backend.psa_start_date = month_start
            try:
                backend._set_secret("api_token", SECRETS[backend.backend_type])
                backend._set_secret("client_secret", CLIENT_SECRETS[backend.backend_type])
            except UserError:
                _logger.info("demo: no encryption key configured, PSA demo credentials not set")
            backend.action_activate()
        return True
