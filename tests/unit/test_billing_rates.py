from datetime import date

from ps_billing_rules.engine.rates import RateLine, resolve_rate

EMP, ROLE, SERVICE = 7, 3, 11


def line(id_, level, rate, **kw):
    return RateLine(
        id=id_, card_level=level, card_name=f"{level}-card", rate=rate, currency="EUR", **kw
    )


def test_most_specific_card_wins():
    lines = [
        line(1, "company", 100, role_id=ROLE),
        line(2, "customer", 120, role_id=ROLE),
        line(3, "contract", 140, role_id=ROLE),
    ]
    resolved = resolve_rate(lines, date(2026, 5, 1), EMP, ROLE, SERVICE)
    assert resolved.rate == 140, "a contract card beats customer and company cards"
    assert resolved.source.startswith("contract card contract-card / role rate")
    assert resolve_rate(lines[:2], date(2026, 5, 1), EMP, ROLE, SERVICE).rate == 120


def test_within_a_card_employee_beats_role_beats_service_beats_default():
    lines = [
        line(1, "company", 90),
        line(2, "company", 95, service_id=SERVICE),
        line(3, "company", 100, role_id=ROLE),
        line(4, "company", 150, employee_id=EMP),
    ]
    assert resolve_rate(lines, date(2026, 5, 1), EMP, ROLE, SERVICE).rate == 150
    assert resolve_rate(lines, date(2026, 5, 1), 99, ROLE, SERVICE).rate == 100
    assert resolve_rate(lines, date(2026, 5, 1), 99, 98, SERVICE).rate == 95
    assert resolve_rate(lines, date(2026, 5, 1), 99, 98, 97).rate == 90


def test_the_rate_in_force_on_the_day_of_the_work_applies():
    lines = [
        line(
            1, "company", 100, role_id=ROLE, date_from=date(2026, 1, 1), date_to=date(2026, 6, 30)
        ),
        line(2, "company", 110, role_id=ROLE, date_from=date(2026, 7, 1)),
    ]
    assert resolve_rate(lines, date(2026, 6, 30), EMP, ROLE).rate == 100
    assert resolve_rate(lines, date(2026, 7, 1), EMP, ROLE).rate == 110
    assert resolve_rate(lines, date(2025, 12, 31), EMP, ROLE) is None, "nothing in force"


def test_a_newer_open_ended_line_supersedes_an_older_one():
    lines = [
        line(1, "company", 100, role_id=ROLE, date_from=date(2025, 1, 1)),
        line(2, "company", 120, role_id=ROLE, date_from=date(2026, 3, 1)),
    ]
    assert resolve_rate(lines, date(2026, 2, 28), EMP, ROLE).rate == 100
    assert resolve_rate(lines, date(2026, 3, 1), EMP, ROLE).rate == 120


def test_a_line_for_another_employee_or_role_never_applies():
    lines = [line(1, "contract", 500, employee_id=EMP + 1), line(2, "company", 80, role_id=ROLE)]
    assert resolve_rate(lines, date(2026, 1, 1), EMP, ROLE).rate == 80
