"""REST entry points: session and limit gate, dispatch, limits, describe, schema helpers."""

import json
from urllib.parse import unquote

from .errors import SalesforceError, _not_found
from .schema import (
    _CHILDREN,
    _COLLECTION_LIMIT,
    _ID_PREFIXES,
    _NOT_WRITABLE_OBJECTS,
    _READ_ONLY,
    _REQUIRED,
    _VERSIONS,
    _field_type,
)


class ApiMixin:
    """Routing of ``/services/data/vNN.0/...``."""

    # REST entry points ---------------------------------------------------------------------------

    def _handle_versions(self, request):
        """The versions list needs no session and does not count against the API limit."""
        versions = dict(_VERSIONS)
        versions.setdefault(self.api_version, f"v{self.api_version}")
        return (
            200,
            {},
            [
                {"label": label, "url": f"/services/data/v{version}", "version": version}
                for version, label in sorted(versions.items(), key=lambda item: float(item[0]))
            ],
        )

    def _handle_api(self, request):
        version, path = request.match[1], request.match[2] or ""
        with self._lock:
            status, headers, body = self._gate(request)
            if status is None:
                status, headers, body = self._dispatch_safe(
                    request.method, version, path, request.query, request.body, request.headers
                )
            headers = {
                **headers,
                "Sforce-Limit-Info": f"api-usage={self.api_usage}/{self.api_limit}",
            }
        return status, headers, body

    def _gate(self, request):
        """Session and limit checks of every API call; counts the calls that pass."""
        if self._expire_countdown is not None:
            if self._expire_countdown <= 0:
                self._expire_countdown = None
                self._access_tokens.clear()
            else:
                self._expire_countdown -= 1
        if not self._token_valid(request.headers):
            error = SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            return 401, {}, error.body()
        if self._limit_exceeded or self.api_usage >= self.api_limit:
            self._limit_exceeded = max(0, self._limit_exceeded - 1)
            error = SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return 403, {}, error.body()
        self.api_usage += 1
        return None, {}, None

    def _dispatch_safe(self, method, version, path, query, raw_body, headers=None):
        try:
            return self._dispatch(method, version, path, query, raw_body, headers or {})
        except SalesforceError as error:
            return error.status, {}, error.body()

    def _dispatch(self, method, version, path, query, raw_body, headers):
        parts = [unquote(part) for part in path.split("/") if part]
        if not parts:
            self._allow(method, "GET")
            base = f"/services/data/v{version}"
            names = ("sobjects", "query", "queryAll", "limits", "composite")
            return 200, {}, {name: f"{base}/{name}" for name in names}
        head, count = parts[0], len(parts)
        if head == "limits" and count == 1:
            self._allow(method, "GET")
            return 200, {}, self._limits()
        if head in ("query", "queryAll"):
            self._allow(method, "GET")
            if count == 1:
                options = headers.get("Sforce-Query-Options", "")
                body = self._query(query, options, version, include_deleted=head == "queryAll")
                return 200, {}, body
            if count == 2:
                return 200, {}, self._next_page(parts[1], version)
        if head == "sobjects":
            return self._dispatch_sobjects(method, version, parts[1:], query, raw_body)
        if head == "composite":
            if count == 1:
                self._allow(method, "POST")
                return 200, {}, self._composite(self._json(raw_body), version)
            if parts[1] == "sobjects" and count in (2, 4):
                sobject, field = (parts[2], parts[3]) if count == 4 else (None, None)
                return 200, {}, self._collection(method, sobject, field, raw_body, query)
        raise _not_found()

    def _dispatch_sobjects(self, method, version, parts, query, raw_body):
        if not parts:
            self._allow(method, "GET")
            return 200, {}, self._describe_global(version)
        sobject = self._sobject(parts[0])
        if sobject is None:
            raise _not_found()
        if len(parts) == 1:
            self._allow(method, "GET", "POST")
            if method == "GET":
                return 200, {}, {"objectDescribe": self._describe(sobject), "recentItems": []}
            record_id = self._api_create("POST", sobject, self._json(raw_body))
            return 201, {}, {"id": record_id, "success": True, "errors": []}
        action = parts[1].lower()
        if len(parts) == 2 and action == "describe":
            self._allow(method, "GET")
            return 200, {}, self._describe(sobject)
        if len(parts) == 2 and action in ("deleted", "updated"):
            self._allow(method, "GET")
            return 200, {}, self._replication(sobject, action, query)
        if len(parts) == 2:
            record_id = parts[1]
            self._allow(method, "GET", "PATCH", "DELETE")
            if method == "GET":
                return 200, {}, self._read(sobject, record_id, query.get("fields"), version)
            if method == "PATCH":
                self._api_update("PATCH", sobject, record_id, self._json(raw_body))
            else:
                self._api_delete("DELETE", sobject, record_id)
            return 204, {}, None
        if len(parts) == 3:
            self._allow(method, "GET", "PATCH")
            field = self._field(sobject, parts[1])
            if field is None:
                raise _not_found()
            if method == "GET":
                matches = self._find_by(sobject, field, parts[2])
                if not matches:
                    raise _not_found()
                return 200, {}, self._read(sobject, matches[0], query.get("fields"), version)
            update_only = query.get("updateOnly", "").lower() == "true"
            return self._upsert(
                sobject, field, parts[2], self._json(raw_body), update_only, version
            )
        raise _not_found()

    @staticmethod
    def _allow(method, *allowed):
        if method not in allowed:
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
            )

    @staticmethod
    def _json(raw_body):
        if not raw_body:
            return None
        try:
            return json.loads(raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body)
        except ValueError as error:
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {error}"
            ) from error

    def _limits(self):
        remaining = max(0, self.api_limit - self.api_usage)
        return {
            "DailyApiRequests": {"Max": self.api_limit, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1000},
            "ConcurrentSyncLongRunningRequests": {"Max": 25, "Remaining": 25},
        }

    def _describe_global(self, version):
        return {
            "encoding": "UTF-8",
            "maxBatchSize": _COLLECTION_LIMIT,
            "sobjects": [
                {
                    "name": name,
                    "label": name,
                    "keyPrefix": prefix,
                    "queryable": True,
                    "createable": name not in _NOT_WRITABLE_OBJECTS,
                    "updateable": name not in _NOT_WRITABLE_OBJECTS,
                    "urls": {"sobject": f"/services/data/v{version}/sobjects/{name}"},
                }
                for name, prefix in _ID_PREFIXES.items()
            ],
        }

    def _describe(self, sobject):
        fields = []
        for name in self._fields[sobject].values():
            writable = f"{sobject}.{name}" not in _READ_ONLY and name not in _READ_ONLY
            fields.append(
                {
                    "name": name,
                    "label": name.removesuffix("__c").replace("_", " "),
                    "type": self._type(sobject, name),
                    "custom": name.endswith("__c"),
                    "externalId": name == "Odoo_Id__c",
                    "nillable": name not in _REQUIRED.get(sobject, ()),
                    "createable": writable,
                    "updateable": writable,
                }
            )
        children = [
            {"relationshipName": relationship, "childSObject": child, "field": reference}
            for relationship, (child, reference) in _CHILDREN.get(sobject, {}).items()
        ]
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": _ID_PREFIXES[sobject],
            "fields": fields,
            "childRelationships": children,
        }

    # Schema helpers ------------------------------------------------------------------------------

    def add_field(self, sobject, name, field_type="string"):
        """Declare a custom field, so that queries and writes accept it."""
        with self._lock:
            sobject = self._sobject(sobject) or sobject
            self._fields[sobject][name.lower()] = name
            self._custom_types[(sobject, name)] = field_type

    def remove_field(self, sobject, name):
        """An org without this (custom) field: queries and writes naming it are INVALID_FIELD."""
        with self._lock:
            sobject = self._sobject(sobject) or sobject
            self._fields[sobject].pop(name.lower(), None)
            self._custom_types.pop((sobject, name), None)

    def _sobject(self, name):
        lowered = name.lower()
        return next((sobject for sobject in _ID_PREFIXES if sobject.lower() == lowered), None)

    def _field(self, sobject, name):
        return self._fields[sobject].get(name.lower())

    def _type(self, sobject, name):
        return self._custom_types.get((sobject, name)) or _field_type(name)

    def _table(self, sobject):
        if sobject == "OpportunityStage":
            return {stage["Id"]: stage for stage in self.stages}
        return self._live[sobject]

    def _attributes(self, sobject, record_id, version):
        return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}
