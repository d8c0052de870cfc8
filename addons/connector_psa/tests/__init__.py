from . import test_time_import
