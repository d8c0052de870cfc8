"""How a remote system plugs into connector_base: the adapter.

A connector addon writes one ``BackendAdapter`` subclass per remote system (Salesforce, HubSpot,
Harvest...) and maps its backend type to it in ``connector.backend._adapter_class()``. The generic
layer calls the adapter for everything that depends on the remote system, as plain method calls:

=========================  ===================================================================
Test connection            ``test_connection()``
HTTP                       ``http_client(**options)`` with ``classify_error(response)``
Webhook intake             ``webhook_verify(...)``, then ``webhook_events(payload, headers)``
Scheduled pulls            ``pull(stream, job)`` for the backend's streams
Jobs                       ``job_handlers()``: operation -> ``handler(job)``
After a failed job         ``after_failure(job_row, state, message)``
OAuth "Connect" button     ``authorize_url(state, redirect_uri)``, ``exchange_code(code, ...)``
=========================  ===================================================================

An adapter is a plain class, not an ORM model: it wraps one backend record (``self.backend``, in
the environment it was obtained in: the integration user when a job runs, superuser in the
webhook intake) and keeps no state between calls. See docs/adding-a-connector.md.
"""

from odoo import _
from odoo.exceptions import UserError

from ..engine.errors import BusinessError, ConnectorError
from ..engine.signatures import SignatureError


class BackendAdapter:
    """Base class of adapters: every method has a safe default saying what is missing."""

    def __init__(self, backend):
        backend.ensure_one()
        self.backend = backend
        self.env = backend.env

    def __repr__(self):
        return f"<{type(self).__name__} backend={self.backend.id}>"

    # Connection ------------------------------------------------------------------------------

    def test_connection(self) -> str:
        """Call the remote API for real; return one line describing what answered.

        Raise the connector errors (``engine.errors``): an AuthError marks the backend down.
        """
        raise ConnectorError(
            _(
                "Test connection is not implemented for backend type %s.",
                self.backend.backend_type,
            )
        )

    def http_client(self, **options):
        """The connector_base HTTP client with the backend's URL, timeouts and rate limit, the
        job's correlation id, and this adapter's ``classify_error``.

        Options: ``base_url``, ``auth`` (an ``engine.http_client.AuthProvider``),
        ``correlation_id``, ``quick_retries``.
        """
        return self.backend._http_client(classify_error=self.classify_error, **options)

    def classify_error(self, response):
        """Vendor knowledge about error answers: return a connector error for ``response`` (an
        HTTP error status), or None to let the generic mapping decide (429/5xx transient,
        401/403 auth, other 4xx business). E.g. a daily quota answered as 403 is transient."""
        return None

    # Webhooks --------------------------------------------------------------------------------

    def webhook_verify(self, method, url, headers, body, now):
        """Raise ``engine.signatures.SignatureError`` unless the request is genuine.

        ``url`` is the URL the sender called (the backend's public URL and the request path),
        ``body`` the raw bytes, ``now`` the server's unix time.
        """
        raise SignatureError(
            f"backend type {self.backend.backend_type} does not accept webhooks",
            reason="missing",
        )

    def webhook_events(self, payload, headers) -> list:
        """Turn a parsed webhook body into job specs (see connector.job._enqueue_many).

        Raise ValueError, KeyError or TypeError when the body is not a valid event: it is then
        stored whole for a person to fix and replay (the replay calls this again, with the
        event id header only). Runs in the request, before the answer: parse and queue only.
        """
        raise ValueError(f"backend type {self.backend.backend_type} does not read webhook events")

    # Pulls and jobs --------------------------------------------------------------------------

    def pull(self, stream, job):
        """Read one stream from its cursor (``stream.code`` says which), queue or apply what it
        read, and record the new position with ``stream._record_pull_result(...)``."""
        raise BusinessError(
            _(
                "Backend %(backend)s (%(adapter)s) has no puller for stream '%(code)s': install "
                "the connector addon that provides it or archive the stream.",
                backend=self.backend.name,
                adapter=type(self).__name__,
                code=stream.code,
            )
        )

    def job_handlers(self) -> dict:
        """Operation name -> ``handler(job)`` for the jobs this remote system needs.

        A handler runs as the integration user in the job's savepoint; it returns the Odoo
        record it produced (linked as the job's result), raises the connector errors, and never
        commits.
        """
        return {}

    def event_handlers(self) -> dict:
        """Generic event type -> ``handler(event, job)`` (events of the generic HMAC format)."""
        return {}

    def after_failure(self, job_row, state, message):
        """Called after a job of this backend failed (outside its rolled-back savepoint), e.g.
        to mark the backend degraded on a vendor's quota error. ``job_row`` has ``id``,
        ``operation``, ``attempts``; ``state`` is the job's new state."""
        return None

    # OAuth (optional) ------------------------------------------------------------------------

    def authorize_url(self, state, redirect_uri) -> str:
        """The remote login page of the "Connect" button (OAuth authorization code flow)."""
        raise UserError(
            _("Backend type %s has no Connect (OAuth) flow.", self.backend.backend_type)
        )

    def exchange_code(self, code, redirect_uri):
        """Exchange the authorization code of the Connect callback for tokens."""
        raise UserError(
            _("Backend type %s has no Connect (OAuth) flow.", self.backend.backend_type)
        )
