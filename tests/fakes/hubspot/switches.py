"""Failure switches and limits: the search limit, 10-second and daily rate limits, forced 429s,
expired tokens."""

from datetime import timedelta

from .errors import HubSpotError


class SwitchesMixin:
    """Rate limits as HubSpot enforces them, and switches that provoke failures."""

    def expire_tokens(self) -> None:
        """OAuth access tokens issued so far answer 401 EXPIRED_AUTHENTICATION from now on."""
        with self._lock:
            for token in self._access_tokens.values():
                token["expired"] = True

    def rate_limit_next(self, n, *, retry_after=None, policy="TEN_SECONDLY_ROLLING") -> None:
        """The next ``n`` authenticated API calls answer 429 with ``policyName`` ``policy``."""
        with self._lock:
            self._forced_429.extend([(retry_after, policy)] * n)

    def _count_call(self) -> dict:
        now = self.clock()
        if self._window_start is None or now - self._window_start >= timedelta(seconds=10):
            self._window_start, self._window_calls = now, 0
        self._window_calls += 1
        self._daily_calls += 1
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.rate_limit_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.rate_limit_max - self._window_calls)),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(
                max(0, self.daily_limit - self._daily_calls)
            ),
        }

    def fail_searches(self, n, *, after=0, status=503) -> None:
        """Let ``after`` more searches through, then answer the next ``n`` with ``status``."""
        with self._lock:
            self._search_failures = [None] * after + [status] * n

    def _search_failure(self):
        if not self._search_failures:
            return None
        status = self._search_failures.pop(0)
        if status is None:
            return None
        return HubSpotError(status, f"fake search failure (HTTP {status})", "INTERNAL_ERROR")

    def _search_allowed(self) -> bool:
        """HubSpot's search limit: ``search_rate_limit`` searches per second per account,
        apart from the 10-second limit of every call."""
        now = self.clock()
        while self._search_calls and now - self._search_calls[0] >= timedelta(seconds=1):
            self._search_calls.popleft()
        if len(self._search_calls) >= self.search_rate_limit:
            self.search_rejections += 1
            return False
        self._search_calls.append(now)
        return True

    def _throttle(self, headers, search=False) -> None:
        if search and (failure := self._search_failure()) is not None:
            raise failure
        if self._forced_429:
            retry_after, policy = self._forced_429.pop(0)
        elif self.enforce_rate_limit and self._window_calls > self.rate_limit_max:
            retry_after, policy = None, "TEN_SECONDLY_ROLLING"
        elif search and self.enforce_search_limit and not self._search_allowed():
            # As HubSpot: no Retry-After, the client has to wait past the second itself.
            retry_after, policy = None, "SECONDLY"
        else:
            return
        if policy == "DAILY":
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
        else:
            headers["X-HubSpot-RateLimit-Remaining"] = "0"
        extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
        error = HubSpotError(
            429, f"You have reached your {policy.lower()} limit.", "RATE_LIMITS", extra
        )
        error.body.pop("category")  # the 429 body has errorType/policyName instead
        error.body.update(errorType="RATE_LIMIT", policyName=policy)
        raise error
