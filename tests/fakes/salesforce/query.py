"""SOQL execution with paging (``nextRecordsUrl``), reads and the replication endpoints."""

import re

from .errors import SalesforceError, _not_found
from .schema import _CHILDREN, _PARENTS, format_ts, parse_ts
from .soql import _matches, _Parser, _Query, _soql_error, _sort_key


class QueryMixin:
    """query, queryAll, sObject reads, deleted/updated."""

    # SOQL ----------------------------------------------------------------------------------------

    def _query(self, params, options, version, include_deleted):
        text = params.get("q")
        if not text:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        query = _Parser(text).parse()
        self._bind(query)
        records = self._execute(query, version, include_deleted)
        if query.count_only:
            return {"totalSize": records, "done": True, "records": []}
        self._cursor_counter += 1
        cursor = f"01gFAKE{self._cursor_counter:08d}"
        self._cursors[cursor] = (records, self._page_size(options))
        return self._page(cursor, 0, version)

    def _page(self, cursor, offset, version):
        records, size = self._cursors[cursor]
        end = offset + size
        body = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[offset:end],
        }
        if body["done"]:
            del self._cursors[cursor]
        else:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}-{end}"
        return body

    def _child_result(self, records, version):
        """A sub-query's result: beyond ``child_page_size`` records, the first batch with
        ``done`` false and a ``nextRecordsUrl`` for the rest, as Salesforce pages children."""
        size = self.child_page_size
        if len(records) <= size:
            return {"totalSize": len(records), "done": True, "records": records}
        self._cursor_counter += 1
        cursor = f"01gFAKE{self._cursor_counter:08d}"
        self._cursors[cursor] = (records, size)
        return {
            "totalSize": len(records),
            "done": False,
            "nextRecordsUrl": f"/services/data/v{version}/query/{cursor}-{size}",
            "records": records[:size],
        }

    def _page_size(self, options):
        """``Sforce-Query-Options: batchSize=N`` (200..2000) can only make pages smaller."""
        size = self.page_size
        match = re.search(r"batchSize=(\d+)", options or "")
        if match:
            size = min(size, max(200, min(2000, int(match[1]))))
        return size

    def _next_page(self, locator, version):
        match = re.fullmatch(r"(01gFAKE\d+)-(\d+)", locator)
        if not match or match[1] not in self._cursors:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(match[1], int(match[2]), version)

    def _bind(self, query, parent=None):
        """Resolve names against the schema (case-insensitive) and compile WHERE and ORDER BY."""
        if parent is None:
            sobject = self._sobject(query.sobject)
            if sobject is None:
                raise _soql_error(
                    "INVALID_TYPE",
                    query.text,
                    query.sobject_pos,
                    f"sObject type '{query.sobject}' is not supported. If you are attempting to "
                    "use a custom object, be sure to append the '__c' after the entity name. "
                    "Please reference your WSDL or the describe call for the appropriate names.",
                )
        else:
            relations = {name.lower(): name for name in _CHILDREN.get(parent, {})}
            relationship = relations.get(query.sobject.lower())
            if relationship is None:
                raise _soql_error(
                    "INVALID_TYPE",
                    query.text,
                    query.sobject_pos,
                    f"Didn't understand relationship '{query.sobject}' in FROM part of query "
                    "call. If you are attempting to use a custom relationship, be sure to append "
                    "the '__r' after the custom relationship name. Please reference your WSDL or "
                    "the describe call for the appropriate names.",
                )
            sobject, reference = _CHILDREN[parent][relationship]
            query.relationship = (relationship, reference)
        query.sobject = sobject
        for item in query.items:
            if isinstance(item, _Query):
                if parent is not None:
                    raise _soql_error(
                        "MALFORMED_QUERY", query.text, item.sobject_pos, "nested subqueries"
                    )
                self._bind(item, parent=sobject)
            else:
                self._bind_field(sobject, item, query.text)
        query.predicate = self._compile(sobject, query.where, query.text) if query.where else None
        for item in query.order:
            self._bind_field(sobject, item.field, query.text)
        query.sorters = [
            (
                self._getter(item.field),
                item.descending,
                0 if item.nulls_first != item.descending else 2,
            )
            for item in reversed(query.order)
        ]

    def _bind_field(self, sobject, field, text):
        *relationships, name = field.text.split(".")
        hops = []
        for relationship in relationships:
            known = {key.lower(): key for key in _PARENTS.get(sobject, {})}
            canonical = known.get(relationship.lower())
            if canonical is None:
                raise _soql_error(
                    "INVALID_FIELD",
                    text,
                    field.pos,
                    f"Didn't understand relationship '{relationship}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            reference, target = _PARENTS[sobject][canonical]
            hops.append((reference, canonical, target))
            sobject = target
        canonical_name = self._field(sobject, name)
        if canonical_name is None:
            raise _soql_error(
                "INVALID_FIELD",
                text,
                field.pos,
                f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        field.hops, field.name = tuple(hops), canonical_name

    def _getter(self, field):
        name, hops = field.name, field.hops
        if not hops:
            return lambda record: record.get(name)

        def get(record):
            for reference, _relationship, target in hops:
                parent_id = record.get(reference)
                record = self._table(target).get(parent_id) if parent_id else None
                if record is None:
                    return None
            return record.get(name)

        return get

    def _compile(self, sobject, condition, text):
        kind = condition[0]
        if kind in ("and", "or"):
            parts = [self._compile(sobject, part, text) for part in condition[1]]
            combine = all if kind == "and" else any
            return lambda record: combine(part(record) for part in parts)
        if kind == "not":
            inner = self._compile(sobject, condition[1], text)
            return lambda record: not inner(record)
        field = condition[1]
        self._bind_field(sobject, field, text)
        get = self._getter(field)
        if kind == "like":
            pattern = condition[2]
            return lambda record: (
                get(record) is not None and bool(pattern.fullmatch(str(get(record))))
            )
        if kind == "in":
            negate, values = condition[2], condition[3]

            def member(record):
                value = get(record)
                return any(_matches(value, "=", literal) for literal in values) != negate

            return member
        operator, literal = condition[2], condition[3]
        return lambda record: _matches(get(record), operator, literal)

    def _select(self, query, rows):
        """WHERE, ORDER BY, OFFSET and LIMIT over candidate rows."""
        if query.predicate is not None:
            rows = [row for row in rows if query.predicate(row)]
        else:
            rows = list(rows)
        for get, descending, null_rank in query.sorters:
            rows.sort(
                key=lambda row, get=get, rank=null_rank: _sort_key(get(row), rank),
                reverse=descending,
            )
        rows = rows[query.offset :]
        return rows if query.limit is None else rows[: query.limit]

    def _execute(self, query, version, include_deleted):
        rows = list(self._table(query.sobject).values())
        if include_deleted:
            rows += self._deleted.get(query.sobject, {}).values()
        rows = self._select(query, rows)
        if query.count_only:
            return len(rows)
        children = {}  # per subquery: parent id -> child rows, grouped once per query
        for item in query.items:
            if isinstance(item, _Query):
                groups = children[id(item)] = {}
                candidates = list(self._live[item.sobject].values())
                if include_deleted:
                    candidates += self._deleted[item.sobject].values()
                reference = item.relationship[1]
                for child in candidates:
                    groups.setdefault(child.get(reference), []).append(child)
        return [self._shape(query, row, version, children) for row in rows]

    def _shape(self, query, record, version, children):
        out = {"attributes": self._attributes(query.sobject, record["Id"], version)}
        for item in query.items:
            if isinstance(item, _Query):
                rows = self._select(item, children[id(item)].get(record["Id"], ()))
                shaped = [self._shape(item, row, version, {}) for row in rows]
                out[item.relationship[0]] = self._child_result(shaped, version) if rows else None
                continue
            node, source = out, record
            for reference, relationship, target in item.hops:
                parent_id = source.get(reference)
                parent = self._table(target).get(parent_id) if parent_id else None
                if parent is None:
                    node.setdefault(relationship, None)
                    break
                if node.get(relationship) is None:
                    node[relationship] = {
                        "attributes": self._attributes(target, parent_id, version)
                    }
                node, source = node[relationship], parent
            else:
                node[item.name] = source.get(item.name)
        return out

    # Reads and replication -----------------------------------------------------------------------

    def _read(self, sobject, record_id, fields_param, version):
        record = self._table(sobject).get(record_id)
        if record is None:
            raise _not_found()
        names = list(self._fields[sobject].values())
        if fields_param:
            names = []
            for name in fields_param.split(","):
                canonical = self._field(sobject, name.strip())
                if canonical is None:
                    raise SalesforceError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {sobject}",
                    )
                names.append(canonical)
        out = {"attributes": self._attributes(sobject, record_id, version)}
        out.update({name: record.get(name) for name in names})
        return out

    def _replication(self, sobject, action, params):
        try:
            start, end = parse_ts(params["start"]), parse_ts(params["end"])
        except (KeyError, ValueError) as error:
            raise SalesforceError(
                400, "INVALID_REPLICATION_DATE", "start and end must be valid dateTime values"
            ) from error
        if start >= end:
            raise SalesforceError(
                400,
                "INVALID_REPLICATION_DATE",
                "startDate must chronologically precede endDate by more than one minute",
            )
        if action == "updated":
            ids = [
                record["Id"]
                for record in self._live[sobject].values()
                if start <= parse_ts(record["SystemModstamp"]) <= end
            ]
            return {"ids": ids, "latestDateCovered": format_ts(end)}
        deletions = [(rid, when) for name, rid, when in self._deleted_log if name == sobject]
        earliest = self.earliest_deleted_available
        if isinstance(earliest, str):
            earliest = parse_ts(earliest)
        if earliest is None:  # nothing purged: never report a date after the caller's start
            earliest = min([start, *(when for _rid, when in deletions)])
        return {
            "deletedRecords": [
                {"id": rid, "deletedDate": format_ts(when)}
                for rid, when in deletions
                if start <= when <= end
            ],
            "earliestDateAvailable": format_ts(earliest),
            "latestDateCovered": format_ts(end),
        }
