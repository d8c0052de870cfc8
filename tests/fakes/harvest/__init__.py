"""A local fake of the Harvest API v2 (and of Harvest ID's OAuth and accounts endpoints).

Modules: ``fake`` (server, authentication, rate limit, paging, switches), ``store`` (data and
its serialisation), ``routes`` (API endpoints), ``oauth`` (Harvest ID), ``seed`` (what Harvest
users do: log, approve, edit after approval, delete, invoice; the demo month).
"""

from .fake import FakeHarvest, HarvestError

__all__ = ["FakeHarvest", "HarvestError"]
