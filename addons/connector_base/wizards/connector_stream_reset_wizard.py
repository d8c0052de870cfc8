from odoo import fields, models


class ConnectorStreamResetWizard(models.TransientModel):
    """Resync a stream from a date: its cursor moves back, the next pull reads from there."""

    _name = "connector.stream.reset.wizard"
    _description = "Resync a stream from a date"

    stream_ids = fields.Many2many("connector.stream", string="Streams", required=True)
    date_from = fields.Datetime(
        string="Resync from", required=True, default=lambda self: fields.Datetime.now()
    )
    pull_now = fields.Boolean(default=True, help="Queue a pull right away.")

    def action_reset(self):
        self.ensure_one()
        self.env["connector.backend"]._check_manager()
        # connector.stream is audited: the cursor change lands in the audit log (old -> new).
        self.stream_ids.write({"cursor_date": self.date_from, "cursor_value": False})
        if self.pull_now:
            self.stream_ids._schedule_pull(fields.Datetime.now(), source="user")
        return {"type": "ir.actions.act_window_close"}
