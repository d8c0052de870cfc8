"""Mark back in the PSA what Odoo billed (where the API allows): when an invoice is posted, each
time entry billed on it gets the invoice number and a link (Harvest ``external_reference``,
Kantata external reference), so PSA users see that it is billed.

Marking a Harvest entry moves its ``updated_at``: the next pull sees the entry again with the
same fingerprint (the mark is not business content) and changes nothing.
"""

MARK_BATCH = 100  # entries marked per job (one request each)


class MarkBackMixin:
    def mark_billed(self, job):
        payload = job._payload()
        invoice = self.env["account.move"].sudo().browse(payload["invoice_id"]).exists()
        if not invoice or invoice.state != "posted":
            return None  # cancelled or reset since: nothing to show as billed
        lines = self.env["account.analytic.line"].browse(payload["line_ids"]).exists()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        link = f"{base}/odoo/action-account.action_move_out_invoice_type/{invoice.id}"
        client = self.client()
        for line in lines.filtered(lambda ln: ln.psa_remote_id and not ln.psa_deleted):
            client.mark_time_entry(
                line.psa_remote_id,
                f"odoo-line-{line.id}",
                link=link,
                group=invoice.name,
                message=f"Billed in Odoo on {invoice.name}",
            )
        lines.write({"psa_marked_invoice_id": invoice.id})
        return invoice
