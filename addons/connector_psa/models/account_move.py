from odoo import fields, models

from ..adapters.markback import MARK_BATCH


class AccountMove(models.Model):
    """A posted invoice that bills imported time: its entries are marked billed in the PSA."""

    _inherit = "account.move"

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda move: move.move_type == "out_invoice")
        if invoices:
            invoices._psa_queue_mark_billed()
        return posted

    def _psa_queue_mark_billed(self):
        lines = (
            self.env["account.analytic.line"]
            .sudo()
            .search(
                [
                    ("ps_invoice_id", "in", self.ids),
                    ("psa_backend_id", "!=", False),
                    ("psa_remote_id", "!=", False),
                    ("psa_backend_id.psa_mark_billed", "=", True),
                    ("psa_backend_id.state", "=", "active"),
                ]
            )
        )
        now = fields.Datetime.now().isoformat()
        for (invoice, backend), group in lines.grouped(
            lambda line: (line.ps_invoice_id, line.psa_backend_id)
        ).items():
            for start in range(0, len(group), MARK_BATCH):
                chunk = group[start : start + MARK_BATCH]
                backend._enqueue(
                    "psa.mark.billed",
                    {"invoice_id": invoice.id, "line_ids": chunk.ids},
                    idempotency_key=f"mark:{invoice.id}:{now}:{chunk.ids[0]}",
                    record_key=f"invoice:{invoice.id}",
                    direction="outbound",
                    source="system",
                )
