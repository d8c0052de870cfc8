"""Object endpoints: list, read, create, update, archive, and the batch endpoints."""

import json
from urllib.parse import urlencode

from .errors import HubSpotError
from .schema import (
    ASSOCIATION_TYPE_IDS,
    DEFAULT_PROPERTIES,
    OBJECT_TYPES,
    READ_ONLY_PROPERTIES,
    _integer,
    _iso,
)
from .store import _Record


class ObjectsMixin:
    """``/crm/v3/objects/{type}`` and ``.../batch/{action}``."""

    @staticmethod
    def _json(request) -> dict:
        try:
            body = request.json()
        except ValueError as error:
            raise HubSpotError(400, f"Invalid input JSON: {error}", "VALIDATION_ERROR") from None
        if not isinstance(body, dict):
            raise HubSpotError(400, "Invalid input JSON: an object is expected", "VALIDATION_ERROR")
        return body

    @staticmethod
    def _property_names(request) -> list[str]:
        """``properties=a,b`` and/or repeated ``properties=a&properties=b``."""
        values = request.query_lists.get("properties", [])
        return [name for value in values for name in value.split(",") if name]

    def _names(self, object_type, requested) -> list[str]:
        return list(dict.fromkeys([*DEFAULT_PROPERTIES[object_type], *requested]))

    def _output(self, object_type, record, requested=(), associations=()) -> dict:
        result = self._serialize(record, self._names(object_type, requested))
        linked = {}
        for to_type in associations:
            to_ids = self._associated(object_type, record.id, to_type)
            if to_ids:  # HubSpot leaves out association types without any association
                kind = f"{OBJECT_TYPES[object_type][0]}_to_{OBJECT_TYPES[to_type][0]}"
                linked[to_type] = {"results": [{"id": i, "type": kind} for i in to_ids]}
        if linked:
            result["associations"] = linked
        return result

    def _association_types(self, request) -> list[str]:
        names = [n for v in request.query_lists.get("associations", []) for n in v.split(",") if n]
        return [self._type(name) for name in names]

    def _find(self, object_type, value, id_property=None, archived=False):
        """An object by id, or by a unique property when ``id_property`` is given."""
        store = self._objects[object_type]
        if id_property and id_property != "hs_object_id":
            for record in store.values():
                if record.properties.get(id_property) == str(value) and record.archived == archived:
                    return record
            return None
        record = store.get(str(value))
        return record if record is not None and record.archived == archived else None

    def _reject(self, object_type, properties) -> list[dict]:
        """The per-property errors a write of ``properties`` gets (reject_properties, read-only)."""
        errors = []
        for name in properties:
            if name in READ_ONLY_PROPERTIES:
                message = f"{name} is a read only property; its value cannot be set."
                code = "READ_ONLY_VALUE"
            elif name in self.reject_properties:
                message = f"Property value {properties[name]!r} is not valid for {name}."
                code = "INVALID_OPTION"
            else:
                continue
            errors.append(
                {"message": message, "code": code, "context": {"propertyName": [name]}, "in": name}
            )
        return errors

    @staticmethod
    def _validation_message(errors) -> str:
        details = [
            {"isValid": False, "message": e["message"], "error": e["code"], "name": e["in"]}
            for e in errors
        ]
        return f"Property values were not valid: {json.dumps(details)}"

    def _validate_write(self, object_type, properties) -> None:
        if not isinstance(properties, dict):
            raise HubSpotError(400, "properties must be an object", "VALIDATION_ERROR")
        errors = self._reject(object_type, properties)
        if errors:
            raise HubSpotError(
                400, self._validation_message(errors), "VALIDATION_ERROR", errors=errors
            )

    def _association_inputs(self, object_type, associations) -> list[tuple[str, str]]:
        """``[(to_type, to_id)]`` from a create body's ``associations``, validated up front."""
        links = []
        for association in associations or []:
            try:
                to_id = str(association["to"]["id"])
                type_id = int(association["types"][0]["associationTypeId"])
            except (KeyError, IndexError, TypeError, ValueError):
                raise HubSpotError(400, "Invalid association input", "VALIDATION_ERROR") from None
            to_type = next(
                (
                    to
                    for (source, to), known in ASSOCIATION_TYPE_IDS.items()
                    if source == object_type and known == type_id
                ),
                None,
            )
            if to_type is None or self._find(to_type, to_id) is None:
                message = f"Invalid association: type {type_id} to {to_id} from {object_type}"
                raise HubSpotError(400, message, "VALIDATION_ERROR")
            links.append((to_type, to_id))
        return links

    def _create_logged(self, object_type, properties, links) -> _Record:
        record = self._create(object_type, properties)
        for to_type, to_id in links:
            self._link(object_type, record.id, to_type, to_id)
        self.writes.append(("POST", object_type, record.id, properties))
        return record

    def _update_logged(self, object_type, record, properties) -> None:
        self._apply(object_type, record, properties)
        self.writes.append(("PATCH", object_type, record.id, properties))

    def _list(self, request, object_type):
        object_type = self._type(object_type)
        limit = min(_integer(request.query.get("limit"), 10, "limit", minimum=1), 100)
        after = _integer(request.query.get("after"), 0, "after")
        archived = request.query.get("archived", "false").lower() == "true"
        requested = self._property_names(request)
        associations = self._association_types(request)
        page = []
        next_id = None
        for record in self._objects[object_type].values():  # ids increase with insertion
            if record.archived != archived or int(record.id) < after:
                continue
            if len(page) == limit:
                next_id = record.id
                break
            page.append(self._output(object_type, record, requested, associations))
        body = {"results": page}
        if next_id is not None:
            link = f"{self.url}{request.path}?{urlencode({'after': next_id, 'limit': limit})}"
            body["paging"] = {"next": {"after": next_id, "link": link}}
        return 200, body

    def _read(self, request, object_type, object_id):
        object_type = self._type(object_type)
        archived = request.query.get("archived", "false").lower() == "true"
        record = self._find(object_type, object_id, request.query.get("idProperty"), archived)
        if record is None:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")
        requested = self._property_names(request)
        return 200, self._output(object_type, record, requested, self._association_types(request))

    def _create_one(self, request, object_type):
        object_type = self._type(object_type)
        body = self._json(request)
        properties = body.get("properties") or {}
        self._validate_write(object_type, properties)
        links = self._association_inputs(object_type, body.get("associations"))
        record = self._create_logged(object_type, properties, links)
        return 201, self._output(object_type, record, list(properties))

    def _update_one(self, request, object_type, object_id):
        object_type = self._type(object_type)
        record = self._find(object_type, object_id, request.query.get("idProperty"))
        if record is None:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")
        properties = self._json(request).get("properties") or {}
        self._validate_write(object_type, properties)
        self._update_logged(object_type, record, properties)
        return 200, self._output(object_type, record, list(properties))

    def _delete_one(self, request, object_type, object_id):
        object_type = self._type(object_type)
        record = self._find(object_type, object_id)
        if record is not None:  # HubSpot answers 204 for unknown ids too
            self._archive(record)
            self.writes.append(("DELETE", object_type, record.id, {}))
        return 204, None

    def _batch(self, request, object_type, action):
        object_type = self._type(object_type)
        body = self._json(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise HubSpotError(400, "inputs must be a list", "VALIDATION_ERROR")
        if len(inputs) > 100:
            raise HubSpotError(
                400, f"Too many inputs: {len(inputs)}, the limit is 100", "VALIDATION_ERROR"
            )
        started = _iso(self.clock())
        if action == "read":
            results, errors = self._batch_read(request, object_type, body, inputs)
            status = 200
        elif action == "create":
            results, errors = self._batch_create(object_type, inputs), []
            status = 201
        else:
            results, errors = self._batch_write(request, object_type, action, body, inputs)
            status = 200
        answer = {"status": "COMPLETE", "results": results, "startedAt": started}
        answer["completedAt"] = _iso(self.clock())
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
            status = 207
        return status, answer

    def _batch_read(self, request, object_type, body, inputs):
        archived = request.query.get("archived", "false").lower() == "true"
        id_property = body.get("idProperty")
        requested = body.get("properties") or []
        results, missing = [], []
        for item in inputs:
            record = self._find(object_type, item.get("id"), id_property, archived)
            if record is None:
                missing.append(str(item.get("id")))
            elif all(r["id"] != record.id for r in results):
                results.append(self._output(object_type, record, requested))
        if not missing:
            return results, []
        label = OBJECT_TYPES[object_type][0].upper()
        message = (
            f"Could not get some {label} objects, they may be deleted or not exist. "
            "Check that ids are valid."
        )
        return results, [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": message,
                "context": {"ids": missing},
            }
        ]

    def _batch_create(self, object_type, inputs):
        prepared = []
        for item in inputs:
            properties = item.get("properties") or {}
            self._validate_write(object_type, properties)  # all or nothing
            prepared.append(
                (properties, self._association_inputs(object_type, item.get("associations")))
            )
        return [
            self._output(
                object_type, self._create_logged(object_type, properties, links), list(properties)
            )
            for properties, links in prepared
        ]

    def _batch_write(self, request, object_type, action, body, inputs):
        """batch/update and batch/upsert: validated first, then applied; 207 mode if enabled."""
        query_id_property = request.query.get("idProperty") or body.get("idProperty")
        keys = [
            (item.get("idProperty") or query_id_property, str(item.get("id"))) for item in inputs
        ]
        if action == "upsert" and any(not id_property for id_property, _ in keys):
            raise HubSpotError(400, "batch/upsert needs an idProperty", "VALIDATION_ERROR")
        if len(set(keys)) != len(keys):
            raise HubSpotError(400, "Duplicate IDs found in batch input", "VALIDATION_ERROR")
        planned, errors = [], []
        for item, (id_property, value) in zip(inputs, keys, strict=True):
            properties = item.get("properties") or {}
            record = self._find(object_type, value, id_property)
            if record is None and action == "update":
                error = {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Object {value} not found",
                    "context": {"ids": [value]},
                }
            elif problems := self._reject(object_type, properties):
                error = {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": self._validation_message(problems),
                    "errors": problems,
                    "context": {"ids": [value]},
                }
            else:
                planned.append((record, id_property, value, properties))
                continue
            if not self.batch_207:  # without the 207 mode one bad input fails the whole batch
                status = 404 if error["category"] == "OBJECT_NOT_FOUND" else 400
                extra = {key: error[key] for key in ("errors", "context") if key in error}
                raise HubSpotError(status, error["message"], error["category"], **extra)
            errors.append(error)
        results = []
        for record, id_property, value, properties in planned:
            if record is None:
                record = self._create_logged(object_type, {**properties, id_property: value}, [])
                output = {**self._output(object_type, record, list(properties)), "new": True}
            else:
                self._update_logged(object_type, record, properties)
                output = self._output(object_type, record, list(properties))
                if action == "upsert":
                    output["new"] = False
            results.append(output)
        return results, errors
