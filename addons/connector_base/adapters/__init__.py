"""Adapters: one class per remote system, holding what is specific to it (see base.py).

Import them from here: ``from odoo.addons.connector_base.adapters import BackendAdapter``.
"""

from .base import BackendAdapter
from .generic import GenericAdapter
from .legacy import LegacyHooksAdapter

__all__ = ["BackendAdapter", "GenericAdapter", "LegacyHooksAdapter"]
