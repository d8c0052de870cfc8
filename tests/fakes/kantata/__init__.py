"""A local fake of the Kantata OX API v1 (formerly Mavenlink) and of its OAuth endpoints.

Modules: ``fake`` (server, bearer tokens, envelope and paging, switches), ``store`` (data,
serialisation, Subscribed Events log), ``routes`` (API endpoints), ``oauth`` (authorization code
flow), ``seed`` (what Kantata users do: log, submit, approve, reject, edit or delete approved
time, invoice, complete milestones; the demo month).
"""

from .fake import FakeKantata, KantataError

__all__ = ["FakeKantata", "KantataError"]
