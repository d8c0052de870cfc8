from . import test_time_import
from . import test_corrections
from . import test_people
from . import test_provisioning
from . import test_expenses
