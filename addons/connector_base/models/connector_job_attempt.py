from odoo import fields, models

from ..engine.errors import AUTH, BUSINESS, TRANSIENT, UNEXPECTED


class ConnectorJobAttempt(models.Model):
    """One execution of a job: when, how long, by which runner, and how it ended."""

    _name = "connector.job.attempt"
    _description = "Connector Job Attempt"
    _order = "job_id desc, number desc, id desc"
    _log_access = False
    _connector_technical = True  # never audited as a business write of a job

    job_id = fields.Many2one("connector.job", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", index=True)
    number = fields.Integer(string="Attempt")
    started_at = fields.Datetime()
    ended_at = fields.Datetime()
    duration_ms = fields.Float(string="Duration (ms)", aggregator="avg")
    outcome = fields.Selection(
        [
            ("done", "Done"),
            (TRANSIENT, "Transient error (retried)"),
            (BUSINESS, "Business error (needs attention)"),
            (AUTH, "Authentication / configuration error"),
            (UNEXPECTED, "Unexpected error"),
            ("lease_expired", "Runner stopped (lease expired)"),
        ],
        index=True,
    )
    error_message = fields.Text()
    traceback = fields.Text()
    http_status = fields.Integer(string="HTTP status", aggregator=None)
    retry_after = fields.Float(string="Retry-After (s)")
    next_eta = fields.Datetime(string="Retry planned at")
    worker = fields.Char(string="Runner")
