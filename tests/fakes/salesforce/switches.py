"""Failure switches of the fake org (the generic ones are on ``.server``)."""


class SwitchesMixin:
    """Expired sessions and the daily API limit, on demand."""

    # Failure switches ----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens stay valid)."""
        with self._lock:
            self._access_tokens.clear()

    def expire_session_after(self, n_calls: int) -> None:
        """Let ``n_calls`` more API calls pass, then expire the current tokens once."""
        with self._lock:
            self._expire_countdown = n_calls

    def limit_exceeded_next(self, n: int) -> None:
        """Answer the next ``n`` API calls with 403 ``REQUEST_LIMIT_EXCEEDED``."""
        with self._lock:
            self._limit_exceeded += n

    def expire_query_locators(self) -> None:
        """Forget every open query cursor: their nextRecordsUrl answers INVALID_QUERY_LOCATOR,
        as Salesforce does after some minutes without use."""
        with self._lock:
            self._cursors.clear()
