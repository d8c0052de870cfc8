from odoo import fields, models


class ConnectorJobLease(models.Model):
    """The lease of one claim (a batch of jobs a runner took): until when it is held.

    A runner inserts it with its claim; while the runner's process lives, its heartbeat thread
    renews it (heartbeat.py), during long jobs too; when the process dies, renewals stop and the
    claim's unfinished jobs are reclaimed once it expires. Kept apart from the job rows so that
    renewals never touch a row the runner is updating (no serialization conflicts between a
    runner and its own heartbeat). Technical: nobody reads it through the ORM.
    """

    _name = "connector.job.lease"
    _description = "Connector Job Lease"
    _log_access = False
    _connector_technical = True  # never audited as a business write of a job

    name = fields.Char(string="Claim", required=True, readonly=True)
    lease_until = fields.Datetime(required=True, readonly=True)
    renewed_at = fields.Datetime(readonly=True)

    _sql_constraints = [("name_uniq", "unique(name)", "A claim has one lease.")]
