from ps_billing_rules.engine.retainer import (
    CAPPED,
    NO_ROLLOVER,
    UNLIMITED_EXPIRING,
    Bucket,
    close_period,
)


def test_retainer_overage_without_rollover():
    outcome = close_period(0, included=20, consumed=26, carried=[], rule=NO_ROLLOVER)
    assert outcome.consumed_from_included == 20
    assert outcome.overage == 6, "hours beyond the included ones are billed in arrears"
    assert outcome.rolled_over == []


def test_retainer_unused_hours_expire_without_rollover():
    outcome = close_period(0, included=20, consumed=12, carried=[], rule=NO_ROLLOVER)
    assert outcome.expired == 8 and outcome.overage == 0


def test_capped_rollover_keeps_at_most_the_cap():
    first = close_period(0, 20, 5, [], rule=CAPPED, cap=10)
    assert sum(b.units for b in first.rolled_over) == 10 and first.expired == 5
    second = close_period(1, 20, 28, first.rolled_over, rule=CAPPED, cap=10)
    assert second.consumed_from_rollover == 10, "rolled hours are used first"
    assert second.consumed_from_included == 18
    assert sum(b.units for b in second.rolled_over) == 2


def test_unlimited_rollover_expires_after_n_periods():
    p0 = close_period(0, 10, 0, [], rule=UNLIMITED_EXPIRING, expiry_periods=2)
    assert p0.rolled_over == [Bucket(10, 0, 2)]
    p1 = close_period(1, 10, 4, p0.rolled_over, rule=UNLIMITED_EXPIRING, expiry_periods=2)
    assert p1.consumed_from_rollover == 4, "oldest hours first"
    assert [(b.units, b.from_period) for b in p1.rolled_over] == [(6, 0), (10, 1)]
    p2 = close_period(2, 10, 10, p1.rolled_over, rule=UNLIMITED_EXPIRING, expiry_periods=2)
    assert p2.consumed_from_rollover == 10, "6 h of period 0, then 4 h of period 1"
    assert p2.consumed_from_included == 0 and p2.expired == 0
    p3 = close_period(3, 10, 0, p2.rolled_over, rule=UNLIMITED_EXPIRING, expiry_periods=2)
    assert p3.expired == 6, "what is left of period 1 expires after period 3"
    p4 = close_period(4, 0, 0, p3.rolled_over, rule=UNLIMITED_EXPIRING, expiry_periods=2)
    assert p4.expired == 10, "period 2's unused hours expire after period 4"
    assert [(b.units, b.from_period) for b in p4.rolled_over] == [(10, 3)]
