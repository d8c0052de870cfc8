"""Rows in PostgreSQL's COPY text format, for the bulk ledger insert (tens of thousands of rows
per run: COPY is parsed far faster than one INSERT with an array literal per column)."""

import datetime

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def field(value) -> str:
    """One value as COPY text reads it. Floats keep 15 significant digits: the same numeric
    PostgreSQL stores for a float8 cast to numeric (what an INSERT of float parameters gives)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return f"{value:.15g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):  # dates and datetimes (naive UTC, as Odoo stores them)
        return (
            value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        )
    return str(value).translate(_ESCAPES)


def rows_text(rows) -> str:
    """Rows (sequences of values) as a COPY text document."""
    return "".join("\t".join(map(field, row)) + "\n" for row in rows)
