"""Time: approved entries pulled since a cursor, validated, each imported as exactly one
timesheet line (``account.analytic.line``) approved in ps_billing_rules' sense; entries imported
before follow the PSA while unbilled and raise a correction once billed.

A pull queues the entries of its page in jobs of ``psa_batch_entries``; a batch job imports the
good entries at once (one ``create``) and gives each bad entry a needs-attention job of its own
that names the entry, the rule and the fix. Retrying that job reads the entry again from the PSA
and imports it. An entry that has such a job waiting is not imported by a later batch: it is
handed to a job behind the waiting one (per-record order).
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from odoo import fields

from odoo.addons.connector_base.const import CTX_NO_AUDIT
from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import corrections
from ..engine.payloads import from_payload, pack, to_payload, unpack, version_key
from ..engine.validation import report, validate_time_entry
from .resolver import Resolver

TIME = "time_entry"  # remote type of the bindings of timesheet lines
PS_APPROVAL = {"approved": "approved", "submitted": "submitted", "rejected": "rejected"}


def time_key(entry):
    return f"time:{entry.remote_id}"


@dataclass
class Outcome:
    lines: object = None
    problems: list = field(default_factory=list)  # (entry, message)


class TimeImportMixin:
    # ------------------------------------------------------------------------------------------
    # Pull and queue
    # ------------------------------------------------------------------------------------------

    def pull_time(self, stream, job):
        pages = self.client().time_entries_since(
            stream.cursor_date or None,
            overlap=self.overlap(),
            approved_only=False,  # entries that lose their approval must be seen too
            resume=stream.cursor_value or None,
        )
        return self._pull_page(stream, pages, self._queue_time_entries)

    def _queue_time_entries(self, entries, source="pull"):
        start = self.backend.psa_start_date
        entries = [e for e in entries if not start or e.spent_on >= start]
        if self.backend.psa_approved_only:
            # An unapproved entry matters only if Odoo imported it (it lost its approval).
            bound = self._bound(TIME, [e.remote_id for e in entries if not e.approved])
            entries = [e for e in entries if e.approved or e.remote_id in bound]
        self._queue_batches("psa.time.batch", "time", entries, source)
        return len(entries)

    def _queue_batches(self, operation, kind, entries, source):
        size = max(1, self.backend.psa_batch_entries)
        specs = []
        for start in range(0, len(entries), size):
            chunk = entries[start : start + size]
            digest = hashlib.sha1("|".join(version_key(e) for e in chunk).encode()).hexdigest()
            specs.append(
                {
                    "operation": operation,
                    "payload": {"entries": pack(chunk)},
                    "idempotency_key": f"{kind}:batch:{digest}",
                    "direction": "inbound",
                    "source": source,
                }
            )
        return self.env["connector.job"]._enqueue_many(self.backend, specs)

    def _queue_single(self, operation, kind, entry, key, *, problem=None):
        """A job for one entry: pending behind a waiting job, or needs attention (a problem)."""
        spec = {
            "operation": operation,
            "payload": {"entry": to_payload(entry)},
            "idempotency_key": f"{kind}:{version_key(entry)}",
            "record_key": key,
            "direction": "inbound",
            "source": "pull",
        }
        if problem:
            spec.update(state="needs_attention", last_error=problem)
        return self.env["connector.job"]._enqueue_many(self.backend, [spec], trigger=not problem)

    # ------------------------------------------------------------------------------------------
    # Jobs
    # ------------------------------------------------------------------------------------------

    def import_time_batch(self, job):
        entries = unpack("time", job._payload().get("entries") or {})
        waiting = self._waiting_record_keys({time_key(e) for e in entries})
        for entry in entries:
            if time_key(entry) in waiting:
                self._queue_single("psa.time.entry", "time", entry, time_key(entry))
        outcome = self._import_time([e for e in entries if time_key(e) not in waiting])
        for entry, message in outcome.problems:
            self._queue_single("psa.time.entry", "time", entry, time_key(entry), problem=message)
        return outcome.lines

    def import_time_entry(self, job):
        """One entry (a retry after a fix, or one that waited): read again from the PSA."""
        entry = from_payload("time", job._payload()["entry"])
        current = self.client().get_time_entry(entry.remote_id)
        if current is None:
            self.handle_deleted("time", [entry.remote_id])
            return None
        outcome = self._import_time([current])
        if outcome.problems:
            raise BusinessError(outcome.problems[0][1])
        return outcome.lines

    # ------------------------------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------------------------------

    def _import_time(self, entries):
        outcome = Outcome(lines=self.env["account.analytic.line"])
        latest = {}
        for entry in entries:  # a page may hold two versions of an entry: the newest wins
            known = latest.get(entry.remote_id)
            if known is None or _newer(entry, known):
                latest[entry.remote_id] = entry
        entries = list(latest.values())
        if not entries:
            return outcome
        Line = self.env["account.analytic.line"]
        bound = self._bound(TIME, [e.remote_id for e in entries])
        existing = {line.id: line for line in Line.browse(set(bound.values())).exists()}
        resolver = Resolver(self, entries)
        rounded = self.backend.psa_hours_used == "rounded"
        to_create = []
        for entry in entries:
            quantity = entry.quantity(rounded)
            line = existing.get(bound.get(entry.remote_id))
            if line:
                self._apply_time_change(line, entry, quantity, resolver, outcome)
                continue
            if not entry.approved and self.backend.psa_approved_only:
                continue
            resolution = resolver.resolve(entry, quantity=quantity)
            if not resolution.project and self.backend.psa_unknown_projects == "ignore":
                continue
            problems = self._time_problems(resolution)
            if problems:
                outcome.problems.append((entry, problems))
                continue
            resolver.book(resolution.employee, entry.spent_on, quantity)
            to_create.append((entry, self._line_values(entry, quantity, resolution)))
        if to_create:
            vals_list = [values for _entry, values in to_create]
            # The lines' own bookkeeping (ps_billing_rules stores each line's rate right after
            # creating it) is not audited line by line: each creation is, with its values.
            created = Line.with_context(**{CTX_NO_AUDIT: True}).create(vals_list)
            self.env["connector.audit.log"]._log_create(created, vals_list)
            self._bind_entries(created, TIME, [entry for entry, _values in to_create], bound)
            outcome.lines |= created
        return outcome

    def _time_problems(self, resolution):
        problems = validate_time_entry(
            resolution.subject, resolution.facts, mismatch=self.backend.psa_billable_mismatch
        )
        return report(resolution.subject, self.tool, problems) if problems else None

    def _bind_entries(self, records, remote_type, entries, bound):
        """Bind new records to their entries: at once (one statement for a batch), then one by
        one those that could not be (a binding to re-point, or a conflict to report)."""
        fresh = [(r, e) for r, e in zip(records, entries, strict=True) if e.remote_id not in bound]
        left = self.env["connector.binding"]._bind_many(
            self.backend,
            records.browse([r.id for r, _e in fresh]),
            remote_type,
            [e.remote_id for _r, e in fresh],
            [e.updated_at for _r, e in fresh],
        )
        for record, entry in zip(records, entries, strict=True):
            if entry.remote_id in bound or entry.remote_id in left:
                self._bind_entry(record, remote_type, entry, known=entry.remote_id in bound)

    def _bind_entry(self, record, remote_type, entry, known=False):
        """Bind, or re-point a binding whose record is gone (deleted by hand in Odoo, or a
        tombstone): ``known`` when the caller saw a binding for this entry."""
        if not known:
            try:
                return self._bind(record, remote_type, entry.remote_id, updated_at=entry.updated_at)
            except BusinessError:
                pass  # bound to a record that is gone: re-pointed below
        Binding = self.env["connector.binding"].sudo()
        binding = Binding.search(
            [
                ("backend_id", "=", self.backend.id),
                ("remote_type", "=", remote_type),
                ("remote_id", "=", entry.remote_id),
            ],
            limit=1,
        )
        if binding and (binding.res_id != record.id or binding.res_model != record._name):
            binding.write({"res_model": record._name, "res_id": record.id, "remote_version": False})
        return self._bind(record, remote_type, entry.remote_id, updated_at=entry.updated_at)

    def _approval_values(self, entry):
        state = PS_APPROVAL.get(entry.approval_status, "draft")
        if entry.approved:
            return {
                "ps_approval_state": "approved",
                "ps_approved_by_id": self.env.uid,
                "ps_approved_on": fields.Datetime.now(),
            }
        return {"ps_approval_state": state, "ps_approved_by_id": False, "ps_approved_on": False}

    def _line_values(self, entry, quantity, resolution):
        billable = bool(entry.billable and resolution.line_billable)
        values = {
            "name": (entry.notes or entry.task_name or "/").strip() or "/",
            "date": entry.spent_on,
            "employee_id": resolution.employee.id,
            "project_id": resolution.project.id,
            "task_id": resolution.task.id or False,
            "so_line": resolution.sale_line.id if billable else False,
            "unit_amount": float(quantity),
            "ps_billing_state": "unbilled" if billable else "non_billable",
            "ps_nonbillable_reason": False if billable else self._non_billable_reason(entry),
            **self._approval_values(entry),
            **self._psa_values(entry, quantity),
        }
        return values

    def _non_billable_reason(self, entry):
        if not entry.billable:
            return f"Non-billable in {self.tool}"
        return "Task mapped to no billable contract line"

    def _psa_values(self, entry, quantity):
        """What the PSA said, kept on the line: the version Odoo has accounted for, its rates."""
        return {
            "psa_backend_id": self.backend.id,
            "psa_remote_id": entry.remote_id,
            "psa_user_ref": entry.user_id,
            "psa_project_ref": entry.project_id,
            "psa_task_ref": entry.task_id or False,
            "psa_task_name": entry.task_name or False,
            "psa_hours": float(entry.hours),
            "psa_rounded_hours": float(entry.rounded_hours),
            "psa_quantity": float(quantity),
            "psa_spent_on": entry.spent_on,
            "psa_billable": entry.billable,
            "psa_notes": entry.notes or False,
            "psa_approval": entry.approval_status,
            **self._psa_info_values(entry),
        }

    def _psa_info_values(self, entry):
        """What the PSA says about itself: rates, its own invoicing, the version stamps."""
        return {
            "psa_billable_rate": float(entry.billable_rate)
            if entry.billable_rate is not None
            else False,
            "psa_cost_rate": float(entry.cost_rate) if entry.cost_rate is not None else False,
            "psa_currency_id": self._currency_id(entry.currency),
            "psa_invoiced": entry.invoiced,
            "psa_invoice_ref": entry.invoice_ref or False,
            "psa_fingerprint": entry.fingerprint,
            "psa_updated_at": entry.updated_at or False,
            "psa_deleted": False,
        }

    def _currency_id(self, code):
        if not code:
            return False
        cache = self.__dict__.setdefault("_currencies", {})
        if code not in cache:
            currency = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code)], limit=1)
            )
            cache[code] = currency.id or False
        return cache[code]

    # ------------------------------------------------------------------------------------------
    # An entry imported before comes back
    # ------------------------------------------------------------------------------------------

    def held_of(self, line):
        return corrections.Held(
            quantity=Decimal(str(round(line.psa_quantity, 6))),
            spent_on=line.psa_spent_on or line.date,
            user_id=line.psa_user_ref or "",
            project_id=line.psa_project_ref or "",
            task_id=line.psa_task_ref or None,
            billable=line.psa_billable,
            notes=line.psa_notes or "",
            approved=line.psa_approval == "approved" and not line.psa_deleted,
            fingerprint=line.psa_fingerprint,
            updated_at=line.psa_updated_at or None,
        )

    def _apply_time_change(self, line, entry, quantity, resolver, outcome):
        decision = corrections.decide(
            self.held_of(line),
            entry,
            quantity,
            billed=line.ps_billing_state == "billed",
            approved_only=self.backend.psa_approved_only,
        )
        if decision.action == corrections.NOTHING:
            return
        if decision.action == corrections.INFO:
            line.write(self._psa_info_values(entry))
            return
        if decision.action == corrections.CORRECTION:
            self.env["connector.psa.correction"]._record(
                self.backend, line, entry, decision, quantity
            )
            return
        if decision.action == corrections.UNAPPROVE:
            # Back to not billable at once, whatever else the change needs.
            line.with_context(ps_keep_approval=True).write(
                {**self._approval_values(entry), "psa_approval": entry.approval_status}
            )
        resolution = resolver.resolve(entry, quantity=quantity, line=line)
        problems = self._time_problems(resolution)
        if problems:
            outcome.problems.append((entry, problems))
            return
        values = self._line_values(entry, quantity, resolution)
        if line.ps_approval_state == values["ps_approval_state"]:
            del values["ps_approved_by_id"], values["ps_approved_on"]
        values = {key: value for key, value in values.items() if _differs(line, key, value)}
        booked = quantity - Decimal(str(line.unit_amount))
        if values:
            line.with_context(ps_keep_approval=True).write(values)
        resolver.book(resolution.employee, entry.spent_on, booked)
        outcome.lines |= line


def _newer(entry, known):
    return bool(entry.updated_at and known.updated_at and entry.updated_at > known.updated_at)


def _differs(record, name, value):
    current = record[name]
    field_type = record._fields[name].type
    if field_type == "many2one":
        return current.id != (value or False)
    if field_type == "float":
        return round(current or 0.0, 6) != round(value or 0.0, 6)
    if field_type in ("char", "text", "selection") and not value:
        return bool(current)
    return current != value
