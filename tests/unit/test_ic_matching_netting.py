"""ps_intercompany reconciliation matching (every kind of difference) and netting."""

from datetime import date
from decimal import Decimal

from ps_intercompany.engine import reasons
from ps_intercompany.engine.matching import (
    ENTRY,
    INVOICE,
    NETTING,
    PAYMENT,
    PROVIDER,
    RECEIVER,
    Doc,
    balances,
    match_documents,
    tied,
)
from ps_intercompany.engine.netting import OpenItem, balanced, propose
from ps_intercompany.engine.periods import last_closed_period, months_between, period_of

D = Decimal
USD, EUR = 2, 1
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))


def doc(id_, side, amount, **values):
    base = {
        "id": id_,
        "side": side,
        "kind": INVOICE,
        "name": f"DOC{id_}",
        "state": "posted",
        "day": date(2026, 3, 31),
        "currency": USD,
        "untaxed": D(amount),
        "total": D(amount),
    }
    base.update(values)
    return Doc(**base)


def reasons_of(matches):
    return sorted(r for m in matches for r in m.reasons)


def test_mirrors_tie():
    p = [doc(1, PROVIDER, "1000.00")]
    r = [doc(11, RECEIVER, "1000.00", source_id=1)]
    matches = match_documents(p, r, PERIOD)
    assert len(matches) == 1 and matches[0].tied and matches[0].receiver.id == 11
    assert tied(matches, balances([(USD, 1000)], [(USD, 1000)]))


def test_each_kind_of_difference_is_detected():
    p = [
        doc(1, PROVIDER, "100"),  # no mirror
        doc(2, PROVIDER, "200"),  # mirror in draft
        doc(3, PROVIDER, "300"),  # keyed by hand with another amount
        doc(4, PROVIDER, "400"),  # keyed by hand in another currency
        doc(5, PROVIDER, "500"),  # mirror on a non-intercompany account
        doc(6, PROVIDER, "600"),  # mirror dated next month
        doc(7, PROVIDER, "700", total=D("700")),  # taxes differ on the mirror
    ]
    r = [
        doc(12, RECEIVER, "200", source_id=2, state="draft"),
        doc(13, RECEIVER, "310", ref="DOC3"),
        doc(14, RECEIVER, "400", ref="DOC4", currency=EUR),
        doc(15, RECEIVER, "500", source_id=5, accounts_ok=False),
        doc(16, RECEIVER, "600", source_id=6, day=date(2026, 4, 2)),
        doc(17, RECEIVER, "700", source_id=7, total=D("805")),
        doc(18, RECEIVER, "-12.40", kind=ENTRY, fx=True),
        doc(19, RECEIVER, "-50", kind=PAYMENT),
    ]
    matches = match_documents(p, r, PERIOD)
    by_provider = {m.provider.id: m.reasons for m in matches if m.provider}
    assert by_provider[1] == [reasons.DIFF_MISSING_MIRROR]
    assert by_provider[2] == [reasons.DIFF_DRAFT]
    assert by_provider[3] == [reasons.DIFF_AMOUNT]
    assert by_provider[4] == [reasons.DIFF_CURRENCY]
    assert by_provider[5] == [reasons.DIFF_ACCOUNT]
    assert by_provider[6] == [reasons.DIFF_TIMING]
    assert by_provider[7] == [reasons.DIFF_TAX]
    alone = {m.receiver.id: m.reasons for m in matches if not m.provider}
    assert alone == {18: [reasons.DIFF_FX], 19: [reasons.DIFF_PAYMENT]}
    assert not tied(matches, [])


def test_payments_and_netting_match_across_companies():
    p = [
        doc(1, PROVIDER, "-250", kind=PAYMENT, day=date(2026, 3, 20)),
        doc(2, PROVIDER, "-80", kind=NETTING, netting_key=9),
    ]
    r = [
        doc(11, RECEIVER, "-250", kind=PAYMENT, day=date(2026, 3, 21)),
        doc(12, RECEIVER, "-80", kind=NETTING, netting_key=9),
    ]
    assert all(m.tied for m in match_documents(p, r, PERIOD))


def test_credit_notes_generated_on_the_receiver_side_match_back():
    p = [doc(1, PROVIDER, "-100", source_id=21)]  # out_refund generated from the receiver's
    r = [doc(21, RECEIVER, "-100")]
    assert match_documents(p, r, PERIOD)[0].tied


def test_cancelled_pairs_are_left_out_but_a_cancelled_mirror_is_not():
    p = [doc(1, PROVIDER, "100", state="cancel"), doc(2, PROVIDER, "100")]
    r = [
        doc(11, RECEIVER, "100", source_id=1, state="cancel"),
        doc(12, RECEIVER, "100", source_id=2, state="cancel"),
    ]
    matches = match_documents(p, r, PERIOD)
    assert reasons_of(matches) == [reasons.DIFF_MISSING_MIRROR]


def test_balances_per_currency():
    rows = balances([(USD, 100), (EUR, 50)], [(USD, 100), (EUR, 40)])
    assert [(b.currency, b.difference) for b in rows] == [(EUR, D(10)), (USD, D(0))]


def test_netting_offsets_the_smaller_balance_in_both_companies():
    proposal = propose(
        {
            "a_receivable": [OpenItem(1, D("700")), OpenItem(2, D("300"))],
            "a_payable": [OpenItem(3, D("450.50"))],
            "b_receivable": [OpenItem(4, D("450.50"))],
            "b_payable": [OpenItem(5, D("1000"))],
        }
    )
    assert proposal.amount == D("450.50")
    assert proposal.allocations["a_receivable"] == [(1, D("450.50"))], "oldest first"
    assert proposal.net_payer == "b" and proposal.net_amount == D("549.50")
    assert balanced(proposal)
    nothing = propose({"a_receivable": [OpenItem(1, D(10))]})
    assert nothing.amount == 0 and all(not v for v in nothing.allocations.values())


def test_periods():
    assert period_of(date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_of(date(2026, 5, 10), "quarterly") == (date(2026, 4, 1), date(2026, 6, 30))
    assert last_closed_period(date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert last_closed_period(date(2026, 4, 1), "quarterly") == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert months_between(date(2026, 1, 15), date(2026, 3, 1)) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
