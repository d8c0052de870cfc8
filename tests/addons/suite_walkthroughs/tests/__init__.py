from . import test_walkthroughs
