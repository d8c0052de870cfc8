"""A fake Salesforce org (REST API v60.0-v62.0) for connector tests and demos.

It is built on :class:`FakeHttpServer`, so the generic failure switches (``fail_next``,
``fail_rate``, ``delay_next``, ``malformed_next``) work here as well. The fake implements the
parts the Salesforce connector relies on, with Salesforce's own status codes and error bodies:

* the OAuth token endpoint (JWT bearer, client credentials, refresh token, authorization code)
  and the authorize redirect. ``instance_url`` in every token answer points back at the fake;
* SOQL ``query``/``queryAll`` through a small parser (relationship fields, child subqueries,
  WHERE/ORDER BY/LIMIT/OFFSET), paged with ``nextRecordsUrl``;
* sObject read/create/update/upsert/delete, sObject collections and composite requests;
* the ``deleted``/``updated`` replication endpoints, ``limits`` and the ``Sforce-Limit-Info``
  header;
* switches for expired sessions (401 ``INVALID_SESSION_ID``) and the daily API limit (403)::

    with FakeSalesforce() as sf:
        ids = sf.seed_demo()
        private_pem, public_pem = FakeSalesforce.generate_key_pair()
        sf.trust_public_key(public_pem)
        ... point the connector at sf.url with sf.client_id and sf.username ...

Records are plain dicts keyed by canonical field names. The Python helpers (``add_*``,
``update``, ``delete``) change data "inside Salesforce" and are not logged in ``writes``: only
writes that arrive through the API are, so tests can tell what the connector wrote."""

from .errors import SalesforceError
from .schema import DEFAULT_STAGES, format_ts, parse_ts
from .server import FakeSalesforce

__all__ = ["DEFAULT_STAGES", "FakeSalesforce", "SalesforceError", "format_ts", "parse_ts"]
