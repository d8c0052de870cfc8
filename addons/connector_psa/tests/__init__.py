from . import (
    test_access,
    test_adapter,
    test_connection,
    test_corrections,
    test_demo,
    test_expenses,
    test_faults,
    test_milestones_markback,
    test_people,
    test_provisioning,
    test_time_import,
    test_tour,
)
