"""Deleted entries: found, confirmed, and handled without silently altering billed data.

Harvest has no deleted feed: the entries of the last ``psa_deletion_window_days`` are listed
again, a slice of days per job, and compared with the lines Odoo imported for those days. A
missing id is only a candidate (an entry edited during the listing can move out of sight): the
PSA must confirm it gone (``confirm_deleted_*``) before anything happens, in bounded batches.
Kantata reports deletions in its event feed (9 days, Account Administrators only): when the feed
is refused or no longer covers the cursor, the window re-list is used as for Harvest.

A deleted entry whose line is not billed: the line is removed (audited) and its binding kept as
a tombstone (remote version ``deleted``). Billed: the line stays, a correction item is raised.
"""

from datetime import timedelta

from odoo import fields

from ..engine import corrections
from .time_import import TIME

CONFIRM_BATCH = 50  # ids confirmed per job (Harvest: one request each)
EXPENSE = "expense"
KINDS = {
    "time": ("account.analytic.line", TIME, "date"),
    "expense": ("hr.expense", EXPENSE, "date"),
}


class DeletionMixin:
    def pull_deletions(self, stream, job):
        """Queue the checks of this run (the tool decides: events or window re-list)."""
        return self.queue_deletion_checks(stream, job)

    def queue_deletion_checks(self, stream, job):
        """Default (Harvest): the window re-list."""
        self.queue_window_checks(job)
        stream._record_pull_result(count=0)

    def queue_window_checks(self, job, kinds=("time", "expense")):
        backend = self.backend
        end = self._today
        start = end - timedelta(days=max(backend.psa_deletion_window_days, 1) - 1)
        if backend.psa_start_date and start < backend.psa_start_date:
            start = backend.psa_start_date
        specs = [
            {
                "operation": "psa.deletions.window",
                "payload": {"kind": kind, "date_from": str(first), "date_to": str(last)},
                # One check per pull (a retried pull queues nothing twice).
                "idempotency_key": f"window:{kind}:{first}:{last}:{job.id}",
                "direction": "inbound",
                "source": "pull",
                "priority": 20,  # after the imports of the same moment
            }
            for kind in kinds
            for first, last in corrections.window_slices(
                start, end, max(backend.psa_deletion_slice_days, 1)
            )
        ]
        return self.env["connector.job"]._enqueue_many(backend, specs)

    def check_deletion_window(self, job):
        """Re-list one slice of days and queue confirmations of what Odoo holds and it lacks."""
        payload = job._payload()
        kind = payload["kind"]
        first = fields.Date.to_date(payload["date_from"])
        last = fields.Date.to_date(payload["date_to"])
        lister = (
            self.client().time_entries_in_window
            if kind == "time"
            else self.client().expenses_in_window
        )
        seen = set()
        for page in lister(first, last):
            seen.update(item.remote_id for item in page.items)
        model, _remote_type, date_field = KINDS[kind]
        domain = [
            ("psa_backend_id", "=", self.backend.id),
            ("psa_deleted", "=", False),
            ("psa_remote_id", "!=", False),
            (date_field, ">=", first),
            (date_field, "<=", last),
        ]
        me = self.token_user()
        if not me.is_admin:
            # A member sees only their own entries: the others are not missing, only hidden.
            domain.append(("psa_user_ref", "=", me.remote_id))
            self._note_partial_deletion_check(me)
        held = self.env[model].search(domain)
        candidates = corrections.missing_ids(held.mapped("psa_remote_id"), seen)
        self.queue_confirmations(kind, candidates)
        return None

    def token_user(self):
        """The PSA user of the token (deletion checks need to see everyone's entries)."""
        if "_token_user" not in self.__dict__:
            self._token_user = self.client().me()
        return self._token_user

    def _note_partial_deletion_check(self, me):
        stream = self.backend.stream_ids.filtered(lambda s: s.code == "psa_deletions")
        stream.sudo().last_error = (
            f"{me.name} is not an administrator of {self.tool}: deletions are checked for their "
            "own entries only (the others are not visible). Connect with an administrator."
        )

    def queue_confirmations(self, kind, candidates):
        specs = [
            {
                "operation": "psa.deletions.confirm",
                "payload": {"kind": kind, "ids": chunk},
                "idempotency_key": f"confirm:{kind}:{','.join(chunk)}",
                "direction": "inbound",
                "source": "pull",
                "priority": 20,
            }
            for chunk in (
                candidates[start : start + CONFIRM_BATCH]
                for start in range(0, len(candidates), CONFIRM_BATCH)
            )
        ]
        return self.env["connector.job"]._enqueue_many(self.backend, specs)

    def confirm_deletions(self, job):
        payload = job._payload()
        kind, ids = payload["kind"], payload["ids"]
        client = self.client()
        confirm = (
            client.confirm_deleted_time_entries
            if kind == "time"
            else client.confirm_deleted_expenses
        )
        gone = sorted(confirm(ids))
        self.handle_deleted(kind, gone)
        return None

    def handle_deleted(self, kind, remote_ids):
        """Remove what is not billed (tombstone binding), raise corrections for what is."""
        model, remote_type, _date_field = KINDS[kind]
        records = self.env[model].search(
            [
                ("psa_backend_id", "=", self.backend.id),
                ("psa_remote_id", "in", list(remote_ids)),
                ("psa_deleted", "=", False),
            ]
        )
        Correction = self.env["connector.psa.correction"]
        Binding = self.env["connector.binding"].sudo()
        for record in records:
            decision = corrections.decide_deletion(billed=record._psa_is_billed())
            if decision.action == corrections.CORRECTION:
                Correction._record_deletion(self.backend, record, decision)
                continue
            Binding.search(
                [
                    ("backend_id", "=", self.backend.id),
                    ("remote_type", "=", remote_type),
                    ("remote_id", "=", record.psa_remote_id),
                ]
            ).write({"remote_version": "deleted", "last_sync_at": fields.Datetime.now()})
            record._psa_remove_deleted(self.tool)
        return records
