"""Pipelines, v4 associations and account information endpoints."""

from datetime import UTC, timedelta

from .errors import HubSpotError
from .schema import ASSOCIATION_TYPE_IDS, _integer, _iso


class AssociationsMixin:
    """Pipelines, associations v4, account details and usage."""

    def _pipelines(self, request, object_type):
        if self._type(object_type) != "deals":
            return 200, {"results": []}
        return 200, {"results": self.pipelines}

    def _pipeline(self, request, object_type, pipeline_id):
        for pipeline in self.pipelines if self._type(object_type) == "deals" else []:
            if pipeline["id"] == pipeline_id:
                return 200, pipeline
        raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")

    def _v4_to(self, from_type, from_id, to_type) -> list[dict]:
        type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type))
        kinds = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        return [
            {"toObjectId": int(to_id), "associationTypes": kinds}
            for to_id in self._associated(from_type, from_id, to_type)
        ]

    def _v4_batch_read(self, request, from_type, to_type):
        from_type, to_type = self._type(from_type), self._type(to_type)
        inputs = self._json(request).get("inputs")
        if not isinstance(inputs, list):
            raise HubSpotError(400, "inputs must be a list", "VALIDATION_ERROR")
        if len(inputs) > 1000:
            raise HubSpotError(
                400, f"Too many inputs: {len(inputs)}, the limit is 1000", "VALIDATION_ERROR"
            )
        results = []
        for item in inputs:
            from_id = str(item.get("id"))
            to = self._v4_to(from_type, from_id, to_type)
            if to:  # inputs without associations are left out, as HubSpot does
                results.append({"from": {"id": from_id}, "to": to})
        now = _iso(self.clock())
        return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def _v4_list(self, request, from_type, from_id, to_type):
        from_type, to_type = self._type(from_type), self._type(to_type)
        self._record(from_type, from_id)
        to = self._v4_to(from_type, from_id, to_type)
        limit = min(_integer(request.query.get("limit"), 500, "limit", minimum=1), 500)
        offset = _integer(request.query.get("after"), 0, "after")
        body = {"results": to[offset : offset + limit]}
        if offset + limit < len(to):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, body

    def _account_details(self, request):
        return 200, dict(self.account)

    def _api_usage(self, request):
        now = self.clock().astimezone(UTC)
        resets = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        usage = {
            "name": "api-calls-daily",
            "usageLimit": self.daily_limit,
            "currentUsage": self._daily_calls,
            "collectedAt": _iso(now),
            "fetchStatus": "SUCCESS",
            "resetsAt": _iso(resets),
        }
        return 200, {"results": [usage]}
