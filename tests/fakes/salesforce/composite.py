"""sObject collections and composite requests, with all-or-none rollback."""

import json
import re
from urllib.parse import parse_qs, urlsplit

from .errors import SalesforceError, _not_found
from .schema import (
    _API_PATH,
    _COLLECTION_LIMIT,
    _COMPOSITE_LIMIT,
    _HALTED,
    _OBJECT_BY_PREFIX,
    _ROLLED_BACK,
)


def _resolve_references(value, outputs):
    """Composite ``@{refId.path}`` references, e.g. ``@{newAccount.id}``."""
    if isinstance(value, dict):
        return {key: _resolve_references(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_references(item, outputs) for item in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def lookup(match):
        steps = re.findall(r"[^.\[\]]+|\[\d+\]", match[1])
        current = outputs
        try:
            for step in steps:
                current = current[int(step[1:-1])] if step.startswith("[") else current[step]
        except (KeyError, IndexError, TypeError, ValueError):
            return match[0]
        return str(current)

    return re.sub(r"@\{([^}]+)\}", lookup, value)


class CompositeMixin:
    """Several operations in one call."""

    # Collections and composite -------------------------------------------------------------------

    def _collection(self, method, sobject, ext_field, raw_body, params):
        """sObject collections: one result per record, in order; allOrNone rolls back."""
        if method == "DELETE":
            items = [item for item in params.get("ids", "").split(",") if item]
            all_or_none = params.get("allOrNone", "").lower() == "true"
        else:
            self._allow(method, "POST", "PATCH")
            body = self._json(raw_body)
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "records must be a JSON array")
            items, all_or_none = body["records"], bool(body.get("allOrNone"))
        if len(items) > _COLLECTION_LIMIT:
            raise SalesforceError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        if sobject is not None:
            sobject = self._sobject(sobject)
            ext_field = self._field(sobject, ext_field) if sobject else None
            if sobject is None or ext_field is None:
                raise _not_found()
            self._allow(method, "PATCH")
        savepoint = self._savepoint()
        results = []
        for item in items:
            try:
                results.append(self._collection_item(method, item, sobject, ext_field))
            except SalesforceError as error:
                known_id = item if isinstance(item, str) else None
                if isinstance(item, dict):
                    known_id = item.get("id") or item.get("Id")
                results.append(
                    {"id": known_id, "success": False, "errors": [error.collection_error()]}
                )
        if all_or_none and not all(result["success"] for result in results):
            self._rollback(savepoint)
            for result in results:
                if result["success"]:
                    result.update(success=False, errors=[dict(_ROLLED_BACK)])
                    if method == "POST" or result.get("created"):
                        result["id"] = None
        self._release(savepoint)
        return results

    def _collection_item(self, method, item, sobject, ext_field):
        if method == "DELETE":
            self._api_delete("DELETE", self._type_of_id(item), item)
            return {"id": item, "success": True, "errors": []}
        if not isinstance(item, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
        fields = {
            key: value for key, value in item.items() if key not in ("attributes", "id", "Id")
        }
        record_type = (item.get("attributes") or {}).get("type")
        if sobject is not None:  # upsert by external id
            value = next((v for k, v in fields.items() if k.lower() == ext_field.lower()), None)
            if value is None:
                raise SalesforceError(
                    400, "MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field]
                )
            fields = {k: v for k, v in fields.items() if k.lower() != ext_field.lower()}
            matches = self._find_by(sobject, ext_field, value)
            if len(matches) > 1:
                raise SalesforceError(
                    300,
                    "DUPLICATE_EXTERNAL_ID",
                    f"{ext_field} duplicates value on records with ids: {', '.join(matches)}",
                    [ext_field],
                )
            if matches:
                self._api_update("PATCH", sobject, matches[0], fields)
                return {"id": matches[0], "success": True, "errors": [], "created": False}
            record_id = self._api_create("PATCH", sobject, {**fields, ext_field: value})
            return {"id": record_id, "success": True, "errors": [], "created": True}
        if method == "POST":
            target = self._sobject(record_type or "")
            if target is None:
                raise SalesforceError(400, "INVALID_TYPE", "sObject type not specified or unknown")
            return {"id": self._api_create("POST", target, fields), "success": True, "errors": []}
        record_id = item.get("id") or item.get("Id")
        if not record_id:
            raise SalesforceError(
                400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"]
            )
        target = self._sobject(record_type) if record_type else self._type_of_id(record_id)
        if target is None:
            raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        self._api_update("PATCH", target, record_id, fields)
        return {"id": record_id, "success": True, "errors": []}

    def _type_of_id(self, record_id):
        sobject = _OBJECT_BY_PREFIX.get(str(record_id)[:3])
        if sobject is None:
            raise SalesforceError(400, "MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        return sobject

    def _composite(self, body, version):
        """POST .../composite: subrequests share one API call; allOrNone rolls everything back."""
        requests_ = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(requests_, list) or not requests_:
            raise SalesforceError(400, "JSON_PARSER_ERROR", "compositeRequest must be a JSON array")
        if len(requests_) > _COMPOSITE_LIMIT:
            raise SalesforceError(
                400,
                "INVALID_API_INPUT",
                f"Maximum number of subrequests exceeded: {_COMPOSITE_LIMIT}",
            )
        all_or_none = bool(body.get("allOrNone"))
        savepoint = self._savepoint()
        outputs, results, failed = {}, [], None
        for index, sub in enumerate(requests_):
            reference = sub.get("referenceId")
            if failed is not None and all_or_none:
                results.append(self._halted(reference))
                continue
            url = _resolve_references(sub.get("url", ""), outputs)
            payload = _resolve_references(sub.get("body"), outputs)
            parts = urlsplit(url)
            match = _API_PATH.fullmatch(parts.path)
            if match is None:
                status, headers, out = 404, {}, _not_found().body()
            else:
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                raw = json.dumps(payload).encode() if payload is not None else b""
                status, headers, out = self._dispatch_safe(
                    sub.get("method", "GET").upper(), match[1], match[2] or "", query, raw
                )
            results.append(
                {
                    "body": out,
                    "httpHeaders": headers,
                    "httpStatusCode": status,
                    "referenceId": reference,
                }
            )
            if status < 300:
                outputs[reference] = out
            elif failed is None:
                failed = index
        if all_or_none and failed is not None:
            self._rollback(savepoint)
            results = [
                result if index == failed else self._halted(result["referenceId"])
                for index, result in enumerate(results)
            ]
        self._release(savepoint)
        return {"compositeResponse": results}

    @staticmethod
    def _halted(reference):
        return {"body": _HALTED, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference}

    # Transactions --------------------------------------------------------------------------------

    def _savepoint(self):
        owner = self._journal is None
        if owner:
            self._journal = []
        return len(self._journal), len(self.writes), owner

    def _rollback(self, savepoint):
        mark, writes, _owner = savepoint
        while len(self._journal) > mark:
            self._journal.pop()()
        del self.writes[writes:]

    def _release(self, savepoint):
        if savepoint[2]:
            self._journal = None
