"""A local fake of the HubSpot CRM API (v3 objects, v4 associations, OAuth, webhooks) for tests.

Contract: ../shared/reference/external-apis.md, section 2: all property values are strings, list
paging with ``paging.next.after``, search capped at 10,000 results and 200 per page, batch
endpoints with a 207 mode, 429 answers with ``X-HubSpot-RateLimit-*`` headers, and a webhook
sender signing with the v3 algorithm. It runs on :class:`FakeHttpServer`, whose failure switches
(``fail_next``, ``fail_rate``, ``delay_next``, ``malformed_next``) stay available as ``.server``::

    with FakeHubSpot() as hubspot:
        ids = hubspot.seed_demo()
        headers = {"Authorization": f"Bearer {hubspot.private_app_token}"}
        deals = requests.get(f"{hubspot.url}/crm/v3/objects/deals", headers=headers).json()

Time comes from ``clock`` (token expiry, modification stamps, the 10 s rate-limit window), so
tests can move it instead of sleeping.
"""

from .errors import HubSpotError
from .schema import ASSOCIATION_TYPE_IDS, CUSTOM_PIPELINE_ID, CUSTOM_STAGES, OBJECT_TYPES
from .server import FakeHubSpot

__all__ = [
    "ASSOCIATION_TYPE_IDS",
    "CUSTOM_PIPELINE_ID",
    "CUSTOM_STAGES",
    "OBJECT_TYPES",
    "FakeHubSpot",
    "HubSpotError",
]
