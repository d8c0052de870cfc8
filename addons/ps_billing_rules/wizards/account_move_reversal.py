from odoo import models

from ..engine.constants import CTX_REVERSAL_MODIFY


class AccountMoveReversal(models.TransientModel):
    """Odoo's credit note wizard: "Reverse and create a new draft" (modify) credits the invoice
    in full and creates a copy in draft; the work billed on the invoice is billed on the copy's
    lines (never back in the pre-bill review while that draft exists, never billable twice)."""

    _inherit = "account.move.reversal"

    def reverse_moves(self, is_modify=False):
        if not is_modify:
            return super().reverse_moves(is_modify=is_modify)
        action = super(
            AccountMoveReversal, self.with_context(**{CTX_REVERSAL_MODIFY: True})
        ).reverse_moves(is_modify=is_modify)
        self.new_move_ids._ps_take_over_items()
        return action

    def _modify_default_reverse_values(self, origin_move):
        values = super()._modify_default_reverse_values(origin_move)
        if origin_move.move_type == "out_invoice":
            values["ps_replaces_move_id"] = origin_move.id
        return values
