"""Search endpoints: filters, sorts, paging capped at 10,000 results."""

import re
from fnmatch import fnmatchcase

from .errors import HubSpotError
from .schema import _DATE_PROPERTIES, _OPERATORS, _as_string, _epoch_ms, _integer, _number


class SearchMixin:
    """``POST /crm/v3/objects/{type}/search``."""

    def _search(self, request, object_type):
        object_type = self._type(object_type)
        body = self._json(request)
        groups = body.get("filterGroups") or []
        self._check_filters(groups)
        limit = _integer(body.get("limit"), 10, "limit")
        offset = _integer(body.get("after"), 0, "after")
        if limit > 200:
            message = f"limit must be between 0 and 200 (got {limit}): page size is capped at 200"
            raise HubSpotError(400, message, "VALIDATION_ERROR")
        if offset >= self.search_cap:
            message = (
                f"Search results are limited to {self.search_cap} per query; after={offset} is "
                "past that limit. Narrow the query (e.g. hs_lastmodifieddate GTE the last value "
                "seen) and search again."
            )
            raise HubSpotError(400, message, "VALIDATION_ERROR")
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            raise HubSpotError(400, "Only one sort is supported", "VALIDATION_ERROR")
        query = str(body.get("query") or "").casefold()
        matched = [
            record
            for record in self._objects[object_type].values()
            if not record.archived
            and (not groups or any(self._group_matches(object_type, record, g) for g in groups))
            and (not query or self._query_matches(record, query))
        ]
        if sorts:
            matched = self._sorted(matched, sorts[0])
        requested = body.get("properties") or []
        page = matched[offset : min(offset + limit, self.search_cap)]
        result = {
            "total": len(matched),
            "results": [self._output(object_type, record, requested) for record in page],
        }
        if limit and offset + limit < len(matched):
            result["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, result

    def _check_filters(self, groups) -> None:
        if len(groups) > 5:
            raise HubSpotError(400, "Too many filterGroups (max 5)", "VALIDATION_ERROR")
        total = 0
        for group in groups:
            filters = group.get("filters") or []
            if len(filters) > 10:
                raise HubSpotError(
                    400, "Too many filters in a filterGroup (max 10)", "VALIDATION_ERROR"
                )
            total += len(filters)
            for search_filter in filters:
                operator = search_filter.get("operator", "EQ")
                if operator not in _OPERATORS or not search_filter.get("propertyName"):
                    message = (
                        f"Invalid filter {search_filter!r}: needs propertyName and an operator"
                    )
                    raise HubSpotError(400, message, "VALIDATION_ERROR")
                needs = {
                    "BETWEEN": ("value", "highValue"),
                    "IN": ("values",),
                    "NOT_IN": ("values",),
                }
                missing = [
                    key
                    for key in needs.get(operator, () if "PROPERTY" in operator else ("value",))
                    if search_filter.get(key) is None
                ]
                if missing:
                    message = f"Filter {search_filter!r} with operator {operator} needs {missing}"
                    raise HubSpotError(400, message, "VALIDATION_ERROR")
        if total > 25:
            raise HubSpotError(400, "Too many filters (max 25 in all groups)", "VALIDATION_ERROR")

    def _group_matches(self, object_type, record, group) -> bool:
        return all(self._matches(object_type, record, f) for f in group.get("filters") or [])

    @staticmethod
    def _query_matches(record, query) -> bool:
        searchable = ("name", "dealname", "domain", "email", "firstname", "lastname", "hs_sku")
        return any(query in (record.properties.get(name) or "").casefold() for name in searchable)

    @staticmethod
    def _comparable(name, stored, given):
        """Both sides as the same kind: epoch ms for dates, numbers, else case-folded text."""
        given = _as_string(given)
        if name in _DATE_PROPERTIES or name.endswith("_date"):
            left, right = _epoch_ms(stored), _epoch_ms(given)
            if left is not None and right is not None:
                return left, right
        left, right = _number(stored), _number(given)
        if left is not None and right is not None:
            return left, right
        return stored.casefold(), given.casefold()

    def _matches(self, object_type, record, search_filter) -> bool:
        name = search_filter["propertyName"]
        operator = search_filter.get("operator", "EQ")
        if name.startswith("associations."):  # e.g. line items of a deal: associations.deal EQ id
            linked = self._associated(object_type, record.id, self._type(name.split(".", 1)[1]))
            values = [str(v) for v in search_filter.get("values") or [search_filter.get("value")]]
            found = bool(linked) if "PROPERTY" in operator else bool(set(linked) & set(values))
            return found if operator in ("EQ", "IN", "HAS_PROPERTY") else not found
        stored = record.properties.get(name)
        if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return (stored is not None) == (operator == "HAS_PROPERTY")
        if operator in ("IN", "NOT_IN"):
            found = stored is not None and any(
                left == right
                for left, right in (
                    self._comparable(name, stored, v) for v in search_filter["values"]
                )
            )
            return found == (operator == "IN")
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(search_filter["value"]).casefold()
            text = (stored or "").casefold()
            if "*" in token:
                found = fnmatchcase(text, token)
            else:
                found = token == text or token in re.split(r"[\s,;.@/_-]+", text)
            return found == (operator == "CONTAINS_TOKEN")
        if stored is None:
            return operator == "NEQ"
        left, right = self._comparable(name, stored, search_filter["value"])
        if operator == "BETWEEN":
            high = self._comparable(name, stored, search_filter["highValue"])[1]
            try:
                return right <= left <= high
            except TypeError:
                return False
        compare = {
            "EQ": lambda a, b: a == b,
            "NEQ": lambda a, b: a != b,
            "LT": lambda a, b: a < b,
            "LTE": lambda a, b: a <= b,
            "GT": lambda a, b: a > b,
            "GTE": lambda a, b: a >= b,
        }[operator]
        try:
            return compare(left, right)
        except TypeError:  # a number against text: no match, as HubSpot would not match either
            return False

    @staticmethod
    def _sorted(records, sort) -> list:
        """One sort, ties broken by id (records arrive in id order and sorting is stable)."""
        if isinstance(sort, str):  # "-createdate" shorthand
            name, descending = sort.lstrip("-"), sort.startswith("-")
        else:
            name, descending = sort.get("propertyName"), sort.get("direction") == "DESCENDING"
        values = [record.properties.get(name) for record in records]
        if name in _DATE_PROPERTIES or name.endswith("_date"):
            keys = [None if v is None else _epoch_ms(v) for v in values]
        elif all(_number(v) is not None for v in values if v is not None):
            keys = [None if v is None else _number(v) for v in values]
        else:
            keys = [None if v is None else v.casefold() for v in values]
        pairs = sorted(
            zip(keys, records, strict=True),
            key=lambda pair: (pair[0] is not None, pair[0] if pair[0] is not None else 0),
            reverse=descending,  # reverse keeps ties in input order: ids stay ascending
        )
        return [record for _, record in pairs]
