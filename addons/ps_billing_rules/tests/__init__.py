from . import test_holds_and_caps, test_time_and_materials
