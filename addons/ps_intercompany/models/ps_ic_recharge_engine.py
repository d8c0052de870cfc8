"""The recharge of one agreement for one run: load the work, price it (engine.pricing), correct
what changed (engine.corrections), group it into lines (engine.grouping), record the ledger in
bulk and create the provider's invoice with Odoo's own invoice creation."""

import io
from collections import defaultdict
from dataclasses import dataclass, field

import psycopg2

from odoo import _, api, models

from ..engine import copy_text, grouping, reasons
from ..engine.corrections import Entry, correction
from ..engine.pricing import EXPENSE, HOURLY, TIME, Pricer, Skip

CTX_DEFER_INVOICES = "ps_ic_defer_invoices"  # a list receiving the invoices to create
TIMESHEET = "account.analytic.line"
EXPENSE_MODEL = "hr.expense"


@dataclass
class Meta:
    """What the ledger and the lines keep of an item besides its price."""

    name: str
    day: object
    employee_id: int | None
    job_id: int | None
    project_id: int | None


@dataclass
class Row:
    """One ledger entry to write: a charge of new work or an adjustment of changed work."""

    kind: str  # grouping.CHARGE | grouping.ADJUSTMENT
    model: str
    item_id: int
    item_kind: str
    entry: Entry
    hours: float
    meta: Meta
    price: object = None  # the engine Price the item has now (None: deleted or moved away)
    reason: str | None = None


@dataclass
class RechargeResult:
    recharge: object = None
    items: int = 0
    skipped: dict = field(
        default_factory=dict
    )  # (reason, employee, project) -> [count, hours, detail]


class PsIcRechargeEngine(models.AbstractModel):
    _name = "ps.ic.recharge.engine"
    _description = "Intercompany recharge engine"

    # ------------------------------------------------------------------------------------------
    # Recharging an agreement
    # ------------------------------------------------------------------------------------------

    @api.model
    def _recharge_agreement(self, agreement, run):
        """Recharge the agreement's work up to the run's period end; returns RechargeResult.

        The agreement's row is updated first: a second run on the same agreement waits for this
        one (and then fails to serialise and reports it), and the unique index on charges makes
        a second charge of an item impossible whatever happens."""
        agreement = agreement.sudo()
        self.env.flush_all()  # the work is read in SQL below
        self.env.cr.execute(
            "UPDATE ps_ic_agreement SET last_run_id = %s WHERE id = %s", (run.id, agreement.id)
        )
        date_to = min(run.date_to, agreement.date_to or run.date_to)
        result = RechargeResult()
        new_items = self._new_items(agreement, date_to)
        stale = self._stale_items(agreement)
        currencies = {data[2].billed_currency for data in new_items if data[2].billed_currency}
        currencies |= {
            data[1].billed_currency
            for data in stale.values()
            if data[1] and data[1].billed_currency
        }
        terms = agreement._terms(agreement._open_date(run.invoice_date)[0], currencies)
        pricer = Pricer(terms)
        digits = agreement.currency_id.decimal_places
        rows, cleared = [], []

        def skip(reason, meta, hours, detail=""):
            bucket = result.skipped.setdefault(
                (reason, meta.employee_id, meta.project_id), [0, 0.0, detail]
            )
            bucket[0] += 1
            bucket[1] += hours

        for model, rid, item, meta, _receiver, _provider in new_items:
            price = pricer.price(item)
            if isinstance(price, Skip):
                skip(price.reason, meta, item.hours, price.detail)
                continue
            entry = Entry(price.basis, price.quantity, price.price_unit, price.cost_amount)
            rows.append(Row(grouping.CHARGE, model, rid, item.kind, entry, item.hours, meta, price))
        for (model, rid), (entries, item, meta, belongs) in stale.items():
            if item is not None and belongs and item.day > date_to:
                continue  # moved to a later period: corrected by that period's run
            desired, why = None, _("deleted") if item is None else _("no longer recharged here")
            if item is not None and belongs:
                if not item.approved:
                    skip(reasons.SKIP_CHANGED_UNAPPROVED, meta, item.hours, _("approve it again"))
                    continue
                price = pricer.price(item)
                if isinstance(price, Skip) and price.reason != reasons.SKIP_NOT_BILLED:
                    skip(price.reason, meta, item.hours, price.detail)
                    continue
                desired = None if isinstance(price, Skip) else price
                why = _("changed after recharge")
            cleared.append((model, rid))
            tag = (meta.project_id, meta.employee_id)
            deltas = correction([entry for entry, _h, _m in entries], desired, digits, tag)
            metas = {entry.tag: entry_meta for entry, _h, entry_meta in entries}
            hours_now = defaultdict(float)
            for entry, hours, _m in entries:
                hours_now[entry.tag] += hours
            kind = EXPENSE if model == EXPENSE_MODEL else TIME
            for delta in deltas:
                here = desired is not None and delta.tag == tag
                if delta.basis == HOURLY:
                    hours = float(delta.quantity)
                else:
                    hours = (item.hours if here else 0.0) - hours_now[delta.tag]
                rows.append(
                    Row(
                        grouping.ADJUSTMENT,
                        model,
                        rid,
                        kind,
                        delta,
                        hours,
                        meta if here else metas.get(delta.tag, meta),
                        desired,
                        why,
                    )
                )
        result.items = len(rows)
        if rows or cleared:
            result.recharge = self._record(agreement, run, rows, cleared, digits)
        return result

    def _line_key(self, agreement, row):
        party = row.meta.employee_id if agreement.line_detail == "employee" else row.meta.job_id
        return grouping.LineKey(
            row.kind,
            row.item_kind,
            row.entry.basis,
            row.meta.project_id,
            party,
            row.entry.price_unit if row.entry.basis == HOURLY else None,
        )

    def _record(self, agreement, run, rows, cleared, digits):
        """Create the recharge, its lines and invoice, insert the ledger, clear what was
        corrected; return the recharge (or an empty recordset when everything netted out)."""
        keyed = [
            (self._line_key(agreement, row), row.entry, row.hours, index)
            for index, row in enumerate(rows)
        ]
        lines = grouping.group_lines(keyed, digits)
        recharge = self.env["ps.ic.recharge"]
        line_of_row = {}
        if lines:
            recharge = (
                self.env["ps.ic.recharge"]
                .sudo()
                .create(
                    {
                        "name": _(
                            "%(provider)s → %(receiver)s, %(start)s to %(end)s",
                            provider=agreement.provider_company_id.name,
                            receiver=agreement.receiver_company_id.name,
                            start=run.date_from,
                            end=run.date_to,
                        ),
                        "agreement_id": agreement.id,
                        "run_id": run.id,
                        "date_from": run.date_from,
                        "date_to": run.date_to,
                        "currency_id": agreement.currency_id.id,
                    }
                )
            )
            line_records = self._create_lines(agreement, recharge, lines)
            for key, record in zip(lines, line_records, strict=True):
                for index in lines[key].rows:
                    line_of_row[index] = record
        self._insert_entries(agreement, run, recharge, rows, line_of_row)
        self._clear_stale(agreement, cleared)
        if lines:
            deferred = self.env.context.get(CTX_DEFER_INVOICES)
            if deferred is not None:  # the run creates the chunk's invoices in one go
                deferred.append((recharge, run, lines, line_records))
            else:
                recharge._create_invoices([(recharge, run, lines, line_records)])
        return recharge

    def _create_lines(self, agreement, recharge, lines):
        Employee, Job, Project = (
            self.env["hr.employee"].sudo(),
            self.env["hr.job"].sudo(),
            self.env["project.project"].sudo(),
        )
        # The labels' names read in one query per model: browsing one id per line would fetch
        # each employee (a wide row) and project on its own, hundreds of queries per invoice.
        parties = {key.party_id for key in lines if key.party_id}
        by_employee = agreement.line_detail == "employee"
        employees = Employee.browse(parties if by_employee else ())
        jobs = Job.browse(() if by_employee else parties) | employees.job_id
        Project.browse({key.project_id for key in lines if key.project_id}).mapped("display_name")
        employees.mapped("name")
        jobs.mapped("name")
        values = []
        for sequence, (key, total) in enumerate(lines.items()):
            employee = (
                Employee.browse(key.party_id)
                if agreement.line_detail == "employee" and key.party_id
                else Employee
            )
            job = (
                Job.browse(key.party_id)
                if agreement.line_detail == "role" and key.party_id
                else employee.job_id
            )
            project = Project.browse(key.project_id)
            who = employee.name or job.name or _("unassigned")
            label = f"{project.display_name or _('No project')} - {who}"
            if key.item_kind == EXPENSE:
                label += _(": expenses at cost")
            elif key.basis != HOURLY:
                label += _(": %(hours).2f h, share of billed value", hours=float(total.hours))
            if key.entry_kind == grouping.ADJUSTMENT:
                label = _("Adjustment: %s", label)
            values.append(
                {
                    "recharge_id": recharge.id,
                    "sequence": sequence,
                    "name": label,
                    "kind": key.entry_kind,
                    "item_kind": key.item_kind,
                    "basis": key.basis,
                    "project_id": key.project_id,
                    "employee_id": employee.id or False,
                    "job_id": job.id or False,
                    "hours": float(total.hours),
                    "quantity": float(total.quantity) if key.basis == HOURLY else 1.0,
                    "price_unit": float(key.price_unit)
                    if key.basis == HOURLY
                    else float(total.amount),
                    "amount": float(total.amount),
                    "item_count": len(total.rows),
                }
            )
        return self._insert_lines(agreement, recharge, values)

    def _insert_lines(self, agreement, recharge, values):
        """Recharge lines in one statement (hundreds per invoice; the ORM would compute their
        related fields one by one), in the order of ``values``."""
        columns = (
            "sequence",
            "name",
            "kind",
            "item_kind",
            "basis",
            "project_id",
            "employee_id",
            "job_id",
            "hours",
            "quantity",
            "price_unit",
            "amount",
            "item_count",
        )
        types = (
            "int",
            "varchar",
            "varchar",
            "varchar",
            "varchar",
            "int",
            "int",
            "int",
            "float",
            "float",
            "float",
            "float",
            "int",
        )
        self.env.cr.execute(
            f"""INSERT INTO ps_ic_recharge_line (recharge_id, provider_company_id,
                    receiver_company_id, currency_id, create_uid, write_uid, create_date,
                    write_date, {", ".join(columns)})
                SELECT %s, %s, %s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC',
                       {", ".join(f"u.{column}" for column in columns)}
                FROM unnest({", ".join(f"%s::{kind}[]" for kind in types)}) WITH ORDINALITY
                     AS u({", ".join(columns)}, ord)
                ORDER BY u.ord
                RETURNING id, sequence""",
            (
                recharge.id,
                agreement.provider_company_id.id,
                agreement.receiver_company_id.id,
                agreement.currency_id.id,
                self.env.uid,
                self.env.uid,
                *(
                    [None if vals[column] is False else vals[column] for vals in values]
                    for column in columns
                ),
            ),
        )
        # sequence is the position in ``values``
        ids = [
            line_id for line_id, _sequence in sorted(self.env.cr.fetchall(), key=lambda row: row[1])
        ]
        recharge.write(
            {
                "amount_untaxed": sum(vals["amount"] for vals in values),
                "hours": sum(vals["hours"] for vals in values),
            }
        )
        recharge.invalidate_recordset(["line_ids"])
        return self.env["ps.ic.recharge.line"].sudo().browse(ids)

    def _insert_entries(self, agreement, run, recharge, rows, line_of_row):
        """The ledger rows, written with one COPY (tens of thousands per run)."""
        if not rows:
            return
        now, uid = self.env.cr.now(), self.env.uid
        fixed = (agreement.id, recharge.id or None, False, uid, uid, now, now)
        records = []
        for index, row in enumerate(rows):
            line = line_of_row.get(index)
            entry, meta, price = row.entry, row.meta, row.price
            records.append(
                (
                    *fixed,
                    line.id if line else None,
                    row.kind,
                    row.model,
                    row.item_id,
                    meta.name,
                    meta.day,
                    meta.employee_id,
                    meta.project_id,
                    float(row.hours),
                    entry.basis,
                    float(entry.quantity),
                    float(entry.price_unit),
                    float(entry.quantity * entry.price_unit),
                    float(entry.cost_amount),
                    float(price.markup) if price is not None else 0.0,
                    price.source if price is not None else None,
                    row.reason,
                )
            )
        self.env["ps.ic.recharge.entry"].flush_model()
        # As Odoo's own COPY (models._load_records): no async wait callback during a COPY.
        callback = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            self.env.cr.copy_expert(
                """COPY ps_ic_recharge_entry (
                       agreement_id, recharge_id, stale, create_uid, write_uid, create_date,
                       write_date, recharge_line_id, kind, item_model, item_ref, name, date,
                       employee_ref, project_ref, hours, basis, quantity, price_unit, amount,
                       cost_amount, markup_percent, price_source, reason) FROM STDIN""",
                io.StringIO(copy_text.rows_text(records)),
            )
        finally:
            psycopg2.extensions.set_wait_callback(callback)
        self.env["ps.ic.recharge.entry"].invalidate_model()
        self.env["ps.ic.recharge"].invalidate_model(["entry_ids"])
        for model in (TIMESHEET, EXPENSE_MODEL):
            self.env[model].invalidate_model(["ps_ic_entry_ids", "ps_ic_recharged"])

    def _clear_stale(self, agreement, cleared):
        for model in (TIMESHEET, EXPENSE_MODEL):
            refs = [rid for item_model, rid in cleared if item_model == model]
            if refs:
                self.env.cr.execute(
                    """UPDATE ps_ic_recharge_entry SET stale = FALSE
                       WHERE agreement_id = %s AND item_model = %s AND item_ref = ANY(%s) AND stale""",
                    (agreement.id, model, refs),
                )
        self.env["ps.ic.recharge.entry"].invalidate_model(["stale"])
