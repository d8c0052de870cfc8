"""ps_intercompany's COPY text rows: what PostgreSQL reads back is the value written."""

import datetime

from ps_intercompany.engine.copy_text import NULL, field, rows_text


def test_text_with_copy_control_characters_is_escaped():
    assert field("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e", "tabs/newlines would split the row"
    assert field("") == "", "an empty name stays an empty string, not NULL"
    assert field(None) == NULL


def test_floats_keep_the_digits_a_float8_to_numeric_cast_keeps():
    assert field(0.1 + 0.2) == "0.3", "PostgreSQL keeps 15 significant digits of a float8"
    assert field(83.25) == "83.25"
    assert field(-1.5) == "-1.5"
    assert field(1234567.125) == "1234567.125"


def test_other_types():
    assert field(True) == "t" and field(False) == "f"
    assert field(42) == "42"
    assert field(datetime.date(2026, 11, 3)) == "2026-11-03"
    assert field(datetime.datetime(2026, 11, 3, 8, 5, 1, 250)) == "2026-11-03 08:05:01.000250"


def test_rows_text_one_line_per_row():
    text = rows_text([(1, "x\ty", None), (2, "z", 1.5)])
    assert text == "1\tx\\ty\t\\N\n2\tz\t1.5\n"
    assert text.count("\n") == 2
