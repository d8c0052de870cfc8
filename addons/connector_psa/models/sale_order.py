import hashlib

from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..adapters import PSA_TYPES

# Contract fields that change what a PSA project holds (budget, basis, dates, tasks).
PROVISIONED_LINE_FIELDS = (
    "product_id",
    "name",
    "product_uom_qty",
    "price_unit",
    "ps_billing_model",
    "ps_service_start",
    "ps_service_end",
    "ps_retainer_start",
    "ps_retainer_end",
)


class SaleOrder(models.Model):
    """Contracts: the code of their PSA project, and provisioning on confirmation/amendment."""

    _inherit = "sale.order"

    psa_project_code = fields.Char(
        string="PSA project code",
        copy=False,
        index="btree_not_null",
        help="The code of this contract's project in Harvest / Kantata (default: the contract "
        "reference). Imported time of a PSA project with this code goes to the contract's "
        "project; provisioning creates the PSA project with it.",
    )

    def _psa_code(self):
        self.ensure_one()
        return self.psa_project_code or self.name

    def action_confirm(self):
        result = super().action_confirm()
        for order in self.filtered(lambda o: o.state == "sale"):
            if not order.psa_project_code:
                order.psa_project_code = order.name
        self._psa_queue_provisioning()
        return result

    def _psa_signature(self):
        """What a PSA project holds of the contract: a new value means an amendment."""
        self.ensure_one()
        parts = [self._psa_code(), str(self.project_id.id)]
        for line in self.order_line.sorted("id"):
            parts.append("|".join(str(line[name]) for name in PROVISIONED_LINE_FIELDS))
        return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:20]

    def _psa_backends(self):
        self.ensure_one()
        return (
            self.env["connector.backend"]
            .sudo()
            .search(
                [
                    ("backend_type", "in", PSA_TYPES),
                    ("state", "=", "active"),
                    ("psa_provisioning", "=", True),
                    ("company_ids", "in", self.company_id.id),
                ]
            )
        )

    def _psa_queue_provisioning(self, backends=None, source="system"):
        """One provisioning job per PSA backend of the contract's company (governed contracts
        with a project, whatever created them)."""
        jobs = self.env["connector.job"]
        for order in self.filtered(lambda o: o.state == "sale" and o.ps_governed and o.project_id):
            signature = order._psa_signature()
            for backend in backends or order._psa_backends():
                jobs |= backend.sudo()._enqueue(
                    "psa.provision",
                    {"order_id": order.id},
                    idempotency_key=f"provision:{order.id}:{signature}"
                    + (f":{fields.Datetime.now().isoformat()}" if source == "user" else ""),
                    record_key=f"contract:{order.id}",
                    direction="outbound",
                    source=source,
                )
        return jobs

    def action_psa_provision(self):
        """Provision (again) in every PSA backend of the company (Connector Users)."""
        if not self.env.user.has_group("connector_base.group_connector_user"):
            raise AccessError(_("Provisioning in the PSA is reserved to Connector Users."))
        self.check_access("read")
        jobs = self._psa_queue_provisioning(source="user")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("%s provisioning job(s) queued.", len(jobs)),
                "type": "success",
                "sticky": False,
            },
        }
