from odoo import fields, models


class ConnectorTestRecord(models.Model):
    """A trivial business record synced by the test backend (and the ORM baseline of benchmarks)."""

    _name = "connector.test.record"
    _description = "Connector test record"
    _inherit = ["connector.binding.mixin"]

    name = fields.Char(required=True)
    value = fields.Integer()
    email = fields.Char()
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    # Written by the trace handler: which job ran, in which process, from when to when.
    job_ref = fields.Integer(index=True)
    pid = fields.Integer()
    t_start = fields.Float(digits=(16, 6))
    t_end = fields.Float(digits=(16, 6))
