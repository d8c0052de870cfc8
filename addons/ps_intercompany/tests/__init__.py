from . import (
    test_access,
    test_kpis_elimination,
    test_mirrors,
    test_pricing,
    test_recharge_runs,
    test_reconciliation_netting,
    test_tour,
)
