"""A deal's fingerprint (engine/deals.py): what Odoo compares to detect a change, as the suite's
one payload hash."""

import pytest

from odoo.addons.connector_base.engine.hashing import payload_hash
from odoo.addons.connector_crm.engine import deals

from tests.unit.crm_samples import line, snapshot, with_line


def test_fingerprint_ignores_modification_stamp_and_writeback():
    deal = snapshot(modified="2026-03-16T10:00:00", writeback={"Odoo_Id__c": None})
    echo = snapshot(modified="2026-03-17T08:30:00", writeback={"Odoo_Id__c": "SO042"})
    assert deals.fingerprint(deal) == deals.fingerprint(echo)
    assert len(deals.fingerprint(deal)) == 64


def test_fingerprint_is_the_suite_payload_hash_of_what_odoo_compares():
    deal = snapshot(modified="2026-03-16T10:00:00", writeback={"Odoo_Id__c": "SO042"})
    compared = {k: v for k, v in deal.items() if k not in ("modified", "writeback")}
    assert deals.fingerprint_payload(deal) == compared
    assert deals.fingerprint(deal) == payload_hash(compared)
    assert deals.record_fingerprint({"phone": "1"}) == payload_hash({"phone": "1"})


def test_fingerprint_does_not_depend_on_key_order():
    deal = snapshot()
    reordered = dict(reversed(list(deal.items())))
    assert deals.fingerprint(deal) == deals.fingerprint(reordered)


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 63600.01},
        {"stage": "Closed Lost"},
        {"cap_amount": None},
        {"lines": [line("00kA", "IMPL", 1, 60000)]},
    ],
)
def test_fingerprint_changes_with_what_matters(change):
    assert deals.fingerprint(snapshot()) != deals.fingerprint(snapshot(**change))


def test_fingerprint_changes_with_a_line_quantity():
    assert deals.fingerprint(snapshot()) != deals.fingerprint(
        with_line(snapshot(), "00kB", quantity=4.0)
    )
