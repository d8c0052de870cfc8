"""Normalised records <-> job payloads (JSON): what an import job carries between the pull that
read a page and the job that applies it.

Decimals travel as strings (exact), dates and datetimes as ISO strings; ``raw`` is left out (a
page of 2,000 entries would otherwise be stored twice). ``from_payload`` gives back an equal
record, so its ``fingerprint`` is the one the pull computed.
"""

from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal

from .records import (
    PsaCostRate,
    PsaExpense,
    PsaTimeEntry,
    PsaUser,
    parse_date,
    parse_datetime,
)

KINDS = {"time": PsaTimeEntry, "expense": PsaExpense, "user": PsaUser, "rate": PsaCostRate}
_DECIMALS = {
    "amount",
    "hours",
    "rounded_hours",
    "billable_rate",
    "cost_rate",
    "units",
    "unit_price",
}
_DATES = {"spent_on", "start_date", "end_date"}
_TUPLES = {"roles"}
_DATETIMES = {"created_at", "updated_at"}


def to_payload(record) -> dict:
    data = {}
    for spec in fields(record):
        if spec.name == "raw":
            continue
        value = getattr(record, spec.name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        data[spec.name] = value
    return data


def from_payload(kind, data):
    cls = KINDS[kind]
    values = {}
    for spec in fields(cls):
        if spec.name == "raw" or spec.name not in data:
            continue
        value = data[spec.name]
        if value is not None:
            if spec.name in _DECIMALS:
                value = Decimal(str(value))
            elif spec.name in _DATES:
                value = parse_date(value)
            elif spec.name in _DATETIMES:
                value = parse_datetime(value)
            elif spec.name in _TUPLES:
                value = tuple(value)
        values[spec.name] = value
    return cls(**values)


def pack(records) -> dict:
    """Records as one table (field names once, then rows): what a batch job carries. Smaller
    than a list of mappings, and cheap to check for secrets when the job is queued."""
    if not records:
        return {"fields": [], "rows": []}
    first = to_payload(records[0])
    names = list(first)
    rows = [list(first.values())]
    rows += [list(to_payload(record).values()) for record in records[1:]]
    return {"fields": names, "rows": rows}


def unpack(kind, table) -> list:
    names = table.get("fields") or []
    return [from_payload(kind, dict(zip(names, row, strict=True))) for row in table.get("rows", [])]


def version_key(record) -> str:
    """``<id>@<updated_at>#<content>``: one version of a remote record (idempotency of its
    import job). The content is part of it: PSA stamps have second precision, and an edit in
    the same second as the import must not look like the version already imported."""
    stamp = record.updated_at.isoformat() if record.updated_at else ""
    return f"{record.remote_id}@{stamp}#{record.fingerprint[:12]}"
