from . import test_time_and_materials
