from odoo import models


class AccountMove(models.Model):
    """Posting, resetting or cancelling an invoice changes what the CRM is told."""

    _inherit = "account.move"

    def _crm_orders(self):
        return self.sudo().invoice_line_ids.sale_line_ids.order_id.filtered("crm_backend_id")

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._crm_orders()._crm_request_push()
        return posted

    def button_draft(self):
        result = super().button_draft()
        self._crm_orders()._crm_request_push()
        return result

    def button_cancel(self):
        result = super().button_cancel()
        self._crm_orders()._crm_request_push()
        return result


class AccountMoveLine(models.Model):
    """Payments reconcile with invoice lines: paid and outstanding amounts change."""

    _inherit = "account.move.line"

    def reconcile(self):
        moves = self.move_id
        result = super().reconcile()
        moves._crm_orders()._crm_request_push()
        return result

    def remove_move_reconcile(self):
        moves = self.move_id | self.matched_debit_ids.debit_move_id.move_id
        moves |= self.matched_credit_ids.credit_move_id.move_id
        result = super().remove_move_reconcile()
        moves._crm_orders()._crm_request_push()
        return result
