from . import (
    test_holds_and_caps,
    test_kpis,
    test_prebill_and_native,
    test_recognition_and_wip,
    test_time_and_materials,
    test_tour,
)
