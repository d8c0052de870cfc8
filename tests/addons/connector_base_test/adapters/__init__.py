from .test_adapter import TestAdapter

__all__ = ["TestAdapter"]
