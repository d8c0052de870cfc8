from odoo import _, api, fields, models

from ..const import CTX_JOB_ID
from ..engine.errors import BusinessError
from ..engine.hashing import payload_hash


class ConnectorBinding(models.Model):
    """An Odoo record <-> a remote record, per backend.

    Unique both ways (per backend and remote type): a remote record maps to one Odoo record and
    an Odoo record to one remote record. Imports find their target through it (idempotent
    upserts), and the hash of the last synced payload recognises our own writes coming back
    (echo suppression).
    """

    _name = "connector.binding"
    _description = "Connector Binding (external ID)"
    _order = "backend_id, remote_type, remote_id"
    _rec_name = "remote_id"
    _connector_technical = True  # never audited as a business write of a job

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    res_model = fields.Char(string="Odoo model", required=True, index=True)
    res_id = fields.Many2oneReference(
        string="Odoo record ID", model_field="res_model", required=True, index=True
    )
    record_name = fields.Char(compute="_compute_record_name", string="Odoo record")
    remote_type = fields.Char(required=True, help="Object type in the remote system, e.g. Account.")
    remote_id = fields.Char(string="Remote ID", required=True, index=True)
    remote_version = fields.Char(help="Version, etag or modification stamp of the remote record.")
    remote_updated_at = fields.Datetime(string="Remote updated at")
    payload_hash = fields.Char(string="Hash of last synced payload")
    last_sync_at = fields.Datetime(string="Last sync")
    last_job_ref = fields.Integer(string="Last job ID", aggregator=None)

    _sql_constraints = [
        (
            "remote_uniq",
            "unique(backend_id, remote_type, remote_id)",
            "This remote record is already bound to an Odoo record on this backend.",
        ),
        (
            "odoo_uniq",
            "unique(backend_id, res_model, res_id, remote_type)",
            "This Odoo record is already bound to a remote record of this type on this backend.",
        ),
    ]

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for binding in self:
            record = binding._record()
            binding.record_name = record.display_name if record else _("(deleted)")

    def _record(self):
        self.ensure_one()
        if self.res_model not in self.env:
            return None
        record = self.env[self.res_model].browse(self.res_id).exists()
        return record or None

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    @api.model
    def _find(self, backend, remote_type, remote_id):
        """The Odoo record bound to a remote record, or None."""
        binding = self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("remote_type", "=", remote_type),
                ("remote_id", "=", str(remote_id)),
            ],
            limit=1,
        )
        if not binding:
            return None
        return binding._record()

    @api.model
    def _find_binding(self, backend, record, remote_type):
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("remote_type", "=", remote_type),
            ],
            limit=1,
        )

    @api.model
    def _bind(
        self,
        backend,
        record,
        remote_type,
        remote_id,
        *,
        version=None,
        updated_at=None,
        payload=None,
    ):
        """Create or refresh the binding of ``record`` to a remote record (race-free upsert).

        Raises BusinessError when the remote record is bound to another Odoo record, or the Odoo
        record to another remote record: that needs a person to decide which is right.
        """
        record.ensure_one()
        digest = payload_hash(payload) if payload is not None else None
        return self._upsert(
            backend,
            record,
            remote_type,
            str(remote_id),
            version,
            updated_at,
            digest,
            fields.Datetime.now(),
        )

    def _bind_many(self, backend, records, remote_type, remote_ids, updated_ats=None):
        """Bind many new records at once, ``records[i]`` to ``remote_ids[i]``: one statement
        where ``_bind`` costs one per record (imports of thousands of remote records).

        Returns the remote ids it could not bind (a remote record bound to another Odoo record,
        an Odoo record bound to another remote record): bind those with ``_bind``, which says
        why. Nothing is bound when the statement fails; all are then returned.
        """
        if not records:
            return set()
        remote_ids = [str(remote_id) for remote_id in remote_ids]
        updated_ats = list(updated_ats or [None] * len(records))
        if not len(records) == len(remote_ids) == len(updated_ats):
            raise ValueError("_bind_many: one remote id (and stamp) per record")
        cr = self.env.cr
        values = {
            "backend": backend.id,
            "company": backend.company_id.id,
            "model": records._name,
            "res_ids": records.ids,
            "rtype": remote_type,
            "rids": remote_ids,
            "updated": updated_ats,
            "now": fields.Datetime.now(),
            "job": self.env.context.get(CTX_JOB_ID),
            "uid": self.env.uid,
        }
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """INSERT INTO connector_binding AS b (backend_id, company_id, res_model,
                           res_id, remote_type, remote_id, remote_updated_at, last_sync_at,
                           last_job_ref, create_uid, create_date, write_uid, write_date)
                       SELECT %(backend)s, %(company)s, %(model)s, res_id, %(rtype)s, rid,
                              updated, %(now)s, %(job)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                       FROM unnest(%(res_ids)s::int[], %(rids)s::varchar[],
                                   %(updated)s::timestamp[]) AS t(res_id, rid, updated)
                       ON CONFLICT (backend_id, remote_type, remote_id) DO UPDATE
                       SET remote_updated_at = COALESCE(EXCLUDED.remote_updated_at,
                                                        b.remote_updated_at),
                           last_sync_at = EXCLUDED.last_sync_at,
                           last_job_ref = EXCLUDED.last_job_ref,
                           write_uid = EXCLUDED.write_uid,
                           write_date = EXCLUDED.write_date
                       WHERE b.res_model = EXCLUDED.res_model AND b.res_id = EXCLUDED.res_id
                       RETURNING remote_id""",
                    values,
                )
                bound = {row[0] for row in cr.fetchall()}
        except Exception as exc:  # unique (backend, model, res_id, remote_type) violated
            if getattr(exc, "pgcode", None) != "23505":
                raise
            bound = set()
        self.invalidate_model()
        return set(remote_ids) - bound

    def _upsert(self, backend, record, remote_type, remote_id, version, updated_at, digest, now):
        cr = self.env.cr
        values = {
            "backend": backend.id,
            "company": backend.company_id.id,
            "model": record._name,
            "res_id": record.id,
            "rtype": remote_type,
            "rid": remote_id,
            "version": version,
            "updated": updated_at,
            "hash": digest,
            "now": now,
            "job": self.env.context.get(CTX_JOB_ID),
            "uid": self.env.uid,
        }
        try:
            with cr.savepoint(flush=False):
                cr.execute(
                    """INSERT INTO connector_binding AS b (backend_id, company_id, res_model,
                           res_id, remote_type, remote_id, remote_version, remote_updated_at,
                           payload_hash, last_sync_at, last_job_ref, create_uid, create_date,
                           write_uid, write_date)
                       VALUES (%(backend)s, %(company)s, %(model)s, %(res_id)s, %(rtype)s,
                               %(rid)s, %(version)s, %(updated)s, %(hash)s, %(now)s, %(job)s,
                               %(uid)s, %(now)s, %(uid)s, %(now)s)
                       ON CONFLICT (backend_id, remote_type, remote_id) DO UPDATE
                       SET remote_version = COALESCE(EXCLUDED.remote_version, b.remote_version),
                           remote_updated_at = COALESCE(EXCLUDED.remote_updated_at,
                                                        b.remote_updated_at),
                           payload_hash = COALESCE(EXCLUDED.payload_hash, b.payload_hash),
                           last_sync_at = EXCLUDED.last_sync_at,
                           last_job_ref = EXCLUDED.last_job_ref,
                           write_uid = EXCLUDED.write_uid,
                           write_date = EXCLUDED.write_date
                       WHERE b.res_model = EXCLUDED.res_model AND b.res_id = EXCLUDED.res_id
                       RETURNING id""",
                    values,
                )
                row = cr.fetchone()
        except Exception as exc:  # unique (backend, model, res_id, remote_type) violated
            if getattr(exc, "pgcode", None) != "23505":
                raise
            existing = self._find_binding(backend, record, remote_type)
            raise BusinessError(
                _(
                    "%(record)s is already bound to %(rtype)s %(other)s on backend %(backend)s, "
                    "so it cannot also be bound to %(rid)s. Merge or unbind the duplicates in "
                    "Connectors > External IDs, then retry.",
                    record=record.display_name,
                    rtype=remote_type,
                    other=existing.remote_id if existing else "?",
                    backend=backend.name,
                    rid=remote_id,
                )
            ) from None
        if row is None:
            other = self._find(backend, remote_type, remote_id)
            raise BusinessError(
                _(
                    "%(rtype)s %(rid)s of backend %(backend)s is already bound to %(other)s, so it "
                    "cannot also be bound to %(record)s. Unbind one of them in Connectors > "
                    "External IDs, then retry.",
                    rtype=remote_type,
                    rid=remote_id,
                    backend=backend.name,
                    other=other.display_name if other else "?",
                    record=record.display_name,
                )
            )
        self.invalidate_model()
        return self.browse(row[0])

    def _is_echo(self, payload):
        """True when ``payload`` is what we last synced: our own write coming back."""
        self.ensure_one()
        return bool(self.payload_hash) and self.payload_hash == payload_hash(payload)
