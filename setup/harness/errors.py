"""The one error the harness reports without a traceback: what failed and what to do."""


class HarnessError(Exception):
    pass
