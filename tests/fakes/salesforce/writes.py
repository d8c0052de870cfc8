"""sObject writes through the API: create, update, upsert by external id, delete."""

from datetime import date, datetime

from .errors import SalesforceError, _not_found
from .schema import _NOT_WRITABLE_OBJECTS, _PARENTS, _READ_ONLY, _REQUIRED, format_ts, parse_ts


class WritesMixin:
    """Validation and writes of request bodies."""

    # API writes ----------------------------------------------------------------------------------

    def _clean(self, sobject, body):
        """Validate a request body like Salesforce: canonical names, types and writability."""
        if sobject in _NOT_WRITABLE_OBJECTS:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {sobject} does not support insert"
            )
        if not isinstance(body, dict):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        fields, read_only = {}, []
        relations = {name.lower(): name for name in _PARENTS.get(sobject, {})}
        rejected = {name.lower() for name in self.reject_fields}
        for key, value in body.items():
            if key == "attributes":
                continue
            relationship = relations.get(key.lower())
            if relationship and isinstance(value, dict):  # lookup by external id
                reference, target = _PARENTS[sobject][relationship]
                fields[reference] = self._external_reference(target, value)
                continue
            name = self._field(sobject, key)
            if name is None:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {sobject}",
                    [key],
                )
            if name.lower() in rejected or key.lower() in rejected:
                raise SalesforceError(
                    400, "INVALID_FIELD", f"Field {name} is not writable in this org", [name]
                )
            if name in _READ_ONLY or f"{sobject}.{name}" in _READ_ONLY:
                read_only.append(name)
            fields[name] = self._coerce(sobject, name, value)
        if read_only:
            raise SalesforceError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                read_only,
            )
        self._check_references(sobject, fields)
        return fields

    def _external_reference(self, sobject, value):
        if len(value) != 1 + ("attributes" in value):
            raise SalesforceError(400, "INVALID_FIELD", "Exactly one external id field expected")
        key, lookup = next((k, v) for k, v in value.items() if k != "attributes")
        field = self._field(sobject, key)
        matches = self._find_by(sobject, field, lookup) if field else []
        if len(matches) != 1:
            problem = "not found" if not matches else "matches several records"
            raise SalesforceError(
                400,
                "INVALID_FIELD",
                f"Foreign key external ID: {lookup} {problem} for field {key} in entity {sobject}",
                [key],
            )
        return matches[0]

    def _coerce(self, sobject, name, value):
        if value is None:
            return None
        kind = self._type(sobject, name)
        try:
            if isinstance(value, (dict, list)):
                raise TypeError(name)
            if kind in ("currency", "percent", "double", "int"):
                if isinstance(value, bool):
                    raise TypeError(name)
                return int(value) if kind == "int" else float(value)
            if kind == "date":
                if isinstance(value, date):
                    return value.isoformat()[:10]
                return date.fromisoformat(value).isoformat()
            if kind == "datetime":
                return format_ts(value if isinstance(value, datetime) else parse_ts(value))
            if kind == "boolean" and not isinstance(value, bool):
                raise TypeError(name)
        except (TypeError, ValueError) as error:
            raise SalesforceError(
                400,
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {kind} from value {value!r} or request may be "
                "missing a required field",
                [name],
            ) from error
        return value

    def _check_references(self, sobject, fields):
        for reference, target in _PARENTS.get(sobject, {}).values():
            value = fields.get(reference)
            if value and value not in self._table(target):
                raise SalesforceError(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"invalid cross reference id: {value}",
                    [reference],
                )

    def _api_create(self, method, sobject, body):
        fields = self._clean(sobject, body)
        missing = [name for name in _REQUIRED.get(sobject, ()) if fields.get(name) in (None, "")]
        if missing:
            raise SalesforceError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        record_id = self._insert(sobject, fields)
        self.writes.append((method, sobject, record_id, fields))
        return record_id

    def _api_update(self, method, sobject, record_id, body):
        fields = self._clean(sobject, body)
        self._modify(sobject, record_id, fields)
        self.writes.append((method, sobject, record_id, fields))

    def _api_delete(self, method, sobject, record_id):
        self._delete(sobject, record_id)
        self.writes.append((method, sobject, record_id, {}))

    def _find_by(self, sobject, field, value):
        if field == "Id":
            return [value] if value in self._table(sobject) else []
        return [
            record["Id"]
            for record in self._table(sobject).values()
            if record.get(field) is not None and str(record.get(field)) == str(value)
        ]

    def _upsert(self, sobject, field, value, body, update_only, version):
        fields = self._clean(sobject, body)
        if field in fields:
            raise SalesforceError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {field}. The external id field must not be "
                "part of the body.",
                [field],
            )
        matches = self._find_by(sobject, field, value)
        if len(matches) > 1:
            return (
                300,
                {},
                [f"/services/data/v{version}/sobjects/{sobject}/{rid}" for rid in matches],
            )
        if matches:
            self._modify(sobject, matches[0], fields)
            self.writes.append(("PATCH", sobject, matches[0], fields))
            if self.upsert_204:
                return 204, {}, None
            return 200, {}, {"id": matches[0], "success": True, "errors": [], "created": False}
        if update_only or field == "Id":
            raise _not_found()
        record_id = self._api_create("PATCH", sobject, {**fields, field: value})
        return 201, {}, {"id": record_id, "success": True, "errors": [], "created": True}
