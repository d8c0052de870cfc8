"""TRANSITION: the adapter of backend types whose addon has no adapter class yet.

It forwards to the hook methods such addons override on connector.backend (see
models/connector_backend_legacy.py). Remove both once connector_crm maps its types to adapters.
"""

from .base import BackendAdapter


class LegacyHooksAdapter(BackendAdapter):
    def test_connection(self):
        return self.backend._connector_test_connection()

    def webhook_verify(self, method, url, headers, body, now):
        return self.backend._webhook_verify(method, url, headers, body, now)

    def webhook_events(self, payload, headers):
        return self.backend._webhook_events(payload, headers)

    def pull(self, stream, job):
        puller = getattr(self.backend, f"_pull_{stream.code}", None)
        if puller is None:
            return super().pull(stream, job)
        return puller(stream, job)

    def after_failure(self, job_row, state, message):
        return self.backend._connector_after_failure(job_row, state, message)
