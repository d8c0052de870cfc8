from . import test_time_import
from . import test_corrections
