import json
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..const import CTX_BACKEND_ID, CTX_CORRELATION_ID, CTX_JOB_ID, PURGE_BATCH_SIZE
from ..engine.redaction import SECRETS, is_secret_key

_logger = logging.getLogger(__name__)

ERASED = "[erased]"
X2M_OR_BINARY = ("one2many", "many2many", "binary")


def _serialize_value(record, field_name, value):
    """A JSON-friendly, human-readable value of a field (secrets never leave as values)."""
    field = record._fields.get(field_name)
    if is_secret_key(field_name) or (field and getattr(field, "password", False)):
        return "***"
    if field is None:
        return value
    if field.type == "many2one":
        return [value.id, value.display_name] if value else None
    if field.type in ("one2many", "many2many"):
        return value.ids
    if field.type == "binary":
        return "<binary>" if value else None
    if field.type in ("date", "datetime"):
        return fields.Datetime.to_string(value) if value else None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return SECRETS.redact(value) if isinstance(value, str) else value
    return str(value)


def _is_secret_field(field, field_name):
    return is_secret_key(field_name) or getattr(field, "password", False)


def _given_value(value):
    """A value as given to ``create`` (ids and commands, not records), JSON-friendly."""
    if isinstance(value, str):
        return SECRETS.redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


class ConnectorAuditLog(models.Model):
    """Append-only trail: who changed what, through which backend, job and correlation id.

    Nothing here can be edited or deleted through the ORM, not even by an administrator; rows
    leave only through the retention purge and are anonymised only by the erasure action, both
    in SQL and both audited themselves. Job and correlation ids are stored as values so that
    purging jobs never touches audit rows.
    """

    _name = "connector.audit.log"
    _description = "Connector Audit Log"
    _order = "id desc"
    _rec_name = "action"
    _log_access = False
    _connector_technical = True  # never audited as a business write of a job

    create_date = fields.Datetime(
        string="When", readonly=True, index=True, default=fields.Datetime.now
    )
    user_id = fields.Many2one("res.users", string="Who", readonly=True, ondelete="set null")
    user_login = fields.Char(string="Login", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True, ondelete="set null")
    backend_id = fields.Many2one(
        "connector.backend", readonly=True, index=True, ondelete="restrict"
    )
    job_ref = fields.Integer(string="Job ID", readonly=True, index=True, aggregator=None)
    correlation_id = fields.Char(readonly=True, index=True)
    action = fields.Char(readonly=True, required=True, index=True)
    res_model = fields.Char(string="Model", readonly=True, index=True)
    res_id = fields.Integer(string="Record ID", readonly=True, index=True, aggregator=None)
    res_name = fields.Char(string="Record", readonly=True)
    changes = fields.Text(
        string="Changes (JSON)", readonly=True, help="field -> [old value, new value]"
    )
    changes_display = fields.Text(compute="_compute_changes_display", string="Changes")
    message = fields.Text(readonly=True)

    @api.depends("changes")
    def _compute_changes_display(self):
        for entry in self:
            try:
                changes = json.loads(entry.changes or "{}")
            except ValueError:
                entry.changes_display = entry.changes
                continue
            lines = [f"{name}: {old!r} → {new!r}" for name, (old, new) in changes.items()]
            entry.changes_display = "\n".join(lines)

    # ------------------------------------------------------------------------------------------
    # Append-only
    # ------------------------------------------------------------------------------------------

    def write(self, vals):
        raise AccessError(_("The connector audit log is append-only: entries cannot be changed."))

    def unlink(self):
        raise AccessError(
            _(
                "The connector audit log is append-only: entries cannot be deleted. They leave "
                "only after the retention period set in Settings > Connectors."
            )
        )

    # ------------------------------------------------------------------------------------------
    # Writing entries
    # ------------------------------------------------------------------------------------------

    @api.model
    def _log(self, action, record=None, backend=None, changes=None, message=None):
        """Append one entry. Job, backend and correlation id come from the context when set."""
        return self._log_many(
            [
                {
                    "action": action,
                    "record": record,
                    "backend": backend,
                    "changes": changes,
                    "message": message,
                }
            ]
        )

    @api.model
    def _log_many(self, entries):
        """Append entries in one INSERT (audit rows are written on hot paths of sync jobs)."""
        if not entries:
            return
        ctx = self.env.context
        user = self.env.user
        now = fields.Datetime.now()
        rows = []
        for entry in entries:
            record = entry.get("record")
            if record is not None:
                # A single record keeps its prefetch set: display names and companies of a
                # batch's records are then read at once, not one query or compute per row.
                record = (record if len(record) <= 1 else record[:1]).sudo()
            backend = entry.get("backend")
            backend_id = backend.id if backend else ctx.get(CTX_BACKEND_ID)
            if not backend_id and record:
                # Configuration records name their backend: a backend itself, or a record with
                # a backend_id (streams, mappings of connector addons).
                if record._name == "connector.backend":
                    backend_id = record[:1].id
                elif "backend_id" in record._fields:
                    backend_id = record.backend_id.id
            company_id = False
            if record is not None and "company_id" in record._fields and record:
                company_id = record.company_id.id
            if not company_id and backend_id:
                company_id = self.env["connector.backend"].sudo().browse(backend_id).company_id.id
            changes = entry.get("changes")
            message = entry.get("message")
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    now,
                    user.id,
                    user.login,
                    company_id or None,
                    backend_id or None,
                    ctx.get(CTX_JOB_ID) or None,
                    ctx.get(CTX_CORRELATION_ID) or None,
                    entry["action"],
                    record._name if record is not None else None,
                    record.id if record else None,
                    entry.get("res_name")
                    or (SECRETS.redact(record.display_name) if record else None),
                    SECRETS.redact(json.dumps(changes, default=str)) if changes else None,
                    SECRETS.redact(str(message)) if message else None,
                )
            )
        self.env.cr.execute(
            SQL(
                """INSERT INTO connector_audit_log (create_date, user_id, user_login, company_id,
                       backend_id, job_ref, correlation_id, action, res_model, res_id, res_name,
                       changes, message)
                   VALUES %s""",
                SQL(", ").join(rows),
            )
        )

    @api.model
    def _changes_before_write(self, records, vals):
        """Old values of the fields about to be written, per record id."""
        names = [name for name in vals if name in records._fields]
        return {
            record.id: {name: _serialize_value(record, name, record[name]) for name in names}
            for record in records.sudo()
        }

    @api.model
    def _log_write(self, records, vals, old_values):
        entries = []
        for record in records.sudo():
            old = old_values.get(record.id, {})
            changes = {}
            for name, old_value in old.items():
                new_value = _serialize_value(record, name, record[name])
                if new_value != old_value:
                    changes[name] = [old_value, new_value]
            if changes:
                entries.append({"action": "write", "record": record, "changes": changes})
        self._log_many(entries)

    @api.model
    def _log_create(self, records, vals_list=None):
        """One entry per new record with the values it was created with.

        With ``vals_list`` (the values given to ``create``) nothing is read back from the
        records: reading every stored field would compute Odoo's stored computed fields in the
        middle of the caller's work (a fifth of an engagement's creation time, measured).
        """
        if vals_list is None or len(vals_list) != len(records):
            vals_list = [None] * len(records)
        entries = []
        kept = {}
        for record, vals in zip(records, vals_list, strict=True):
            changes = {}
            if vals is None:
                names = [
                    name
                    for name, field in record._fields.items()
                    if field.store
                    and not field.automatic
                    and name not in ("create_uid", "write_uid", "create_date", "write_date")
                    and field.type not in ("one2many", "binary")
                ]
                for name in names:
                    value = _serialize_value(record, name, record.sudo()[name])
                    if value not in (None, False, [], ""):
                        changes[name] = [None, value]
            else:
                for name, value in vals.items():
                    if name not in kept:  # which names are logged (and secret): once per call
                        field = record._fields.get(name)
                        logged = (
                            field is not None and field.store and field.type not in X2M_OR_BINARY
                        )
                        kept[name] = (logged, logged and _is_secret_field(field, name))
                    logged, secret = kept[name]
                    if not logged:
                        continue
                    value = "***" if secret else _given_value(value)
                    if value not in (None, False, [], ""):
                        changes[name] = [None, value]
            entries.append({"action": "create", "record": record, "changes": changes})
        self._log_many(entries)

    @api.model
    def _log_unlink(self, records):
        self._log_many(
            [
                {"action": "unlink", "record": record, "message": record.sudo().display_name}
                for record in records
            ]
        )

    # ------------------------------------------------------------------------------------------
    # Retention and erasure (SQL on purpose: the ORM refuses to edit or delete entries)
    # ------------------------------------------------------------------------------------------

    @api.model
    def _purge_expired(self, retention_days, now):
        """Delete one batch of entries older than the retention; returns how many were deleted."""
        limit_date = fields.Datetime.subtract(now, days=retention_days)
        self.env.cr.execute(
            """DELETE FROM connector_audit_log WHERE id IN (
                   SELECT id FROM connector_audit_log WHERE create_date < %s LIMIT %s)""",
            (limit_date, PURGE_BATCH_SIZE),
        )
        return self.env.cr.rowcount

    @api.model
    def _erase_person(self, partner, terms):
        """Anonymise one person's values: entries about their partner record, and every
        occurrence of their identifying terms (name, email, phone...) in any entry.

        Returns the number of entries changed. The erasure itself is audited (without the terms).
        """
        terms = sorted(
            {t.strip() for t in terms if t and len(t.strip()) >= 3}, key=len, reverse=True
        )
        cr = self.env.cr
        ids = set()
        if partner:
            cr.execute(
                """SELECT id FROM connector_audit_log
                   WHERE res_model = 'res.partner' AND res_id = %s""",
                (partner.id,),
            )
            ids.update(row[0] for row in cr.fetchall())
        for term in terms:
            like = f"%{term}%"
            cr.execute(
                """SELECT id FROM connector_audit_log
                   WHERE changes ILIKE %s OR message ILIKE %s OR res_name ILIKE %s""",
                (like, like, like),
            )
            ids.update(row[0] for row in cr.fetchall())
        if not ids:
            return 0
        cr.execute(
            """SELECT id, changes, message, res_name, res_model, res_id
               FROM connector_audit_log WHERE id = ANY(%s)""",
            (list(ids),),
        )
        for entry_id, changes, message, res_name, res_model, res_id in cr.fetchall():
            if partner and res_model == "res.partner" and res_id == partner.id:
                changes = self._erase_all_values(changes)
                res_name = ERASED
            for term in terms:
                changes = _replace_insensitive(changes, term)
                message = _replace_insensitive(message, term)
                res_name = _replace_insensitive(res_name, term)
            cr.execute(
                "UPDATE connector_audit_log SET changes = %s, message = %s, res_name = %s "
                "WHERE id = %s",
                (changes, message, res_name, entry_id),
            )
        self._log_many(
            [
                {
                    "action": "erasure",
                    "record": partner or None,
                    "res_name": ERASED,  # the erasure entry must not name the person either
                    "message": _("%(count)s audit entries anonymised", count=len(ids)),
                }
            ]
        )
        return len(ids)

    @staticmethod
    def _erase_all_values(changes):
        if not changes:
            return changes
        try:
            data = json.loads(changes)
        except ValueError:
            return ERASED
        return json.dumps({name: [ERASED, ERASED] for name in data})


def _replace_insensitive(text, term):
    if not text:
        return text
    return re.sub(re.escape(term), ERASED, text, flags=re.IGNORECASE)
