"""Storage of the fake org: ids, stamps, journal for rollback, derived fields, roll-ups."""

from datetime import UTC, date, timedelta

from .errors import SalesforceError, _not_found
from .schema import _CHILDREN, _ID_PREFIXES, _id_suffix, format_ts, money, parse_ts


class StoreMixin:
    """Records in memory."""

    # Storage -------------------------------------------------------------------------------------

    def _new_id(self, sobject):
        self._counter += 1
        base = f"{_ID_PREFIXES[sobject]}Fk{self._counter:010d}"
        return base + _id_suffix(base)

    def _stamp(self):
        """Now, in milliseconds, strictly after the previous stamp so that stamps order writes.

        A clock moved backwards cannot produce older stamps than writes already made.
        """
        now = self.clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return format_ts(now)

    def _raw_set(self, sobject, record):
        table = self._live[sobject]
        old = table.get(record["Id"])
        table[record["Id"]] = record
        for (child, reference), groups in self._index.items():
            if child != sobject:
                continue
            before, after = old.get(reference) if old else None, record.get(reference)
            if before != after and before is not None:
                groups.get(before, {}).pop(record["Id"], None)
            if after is not None:
                groups.setdefault(after, {})[record["Id"]] = None

    def _raw_unset(self, sobject, record_id):
        record = self._live[sobject].pop(record_id)
        for (child, reference), groups in self._index.items():
            if child == sobject and record.get(reference) is not None:
                groups.get(record[reference], {}).pop(record_id, None)
        return record

    def _put(self, sobject, record):
        old = self._live[sobject].get(record["Id"])
        if self._journal is not None:

            def undo():
                if old is None:
                    self._raw_unset(sobject, record["Id"])
                else:
                    self._raw_set(sobject, old)

            self._journal.append(undo)
        self._raw_set(sobject, record)

    def _insert(self, sobject, fields, *, touch_parent=True):
        record_id, stamp = self._new_id(sobject), self._stamp()
        record = {
            "Id": record_id,
            "IsDeleted": False,
            "CreatedDate": stamp,
            "CreatedById": self.user_id,
            "LastModifiedDate": stamp,
            "LastModifiedById": self.user_id,
            "SystemModstamp": stamp,
        }
        if "ownerid" in self._fields[sobject]:
            record["OwnerId"] = self.user_id
        record.update(fields)
        self._derive(sobject, record, fields, created=True)
        self._put(sobject, record)
        if touch_parent:
            self._rollup(sobject, record)
        return record_id

    def _modify(self, sobject, record_id, fields, *, bump=("LastModifiedDate", "SystemModstamp")):
        old = self._live[sobject].get(record_id)
        if old is None:
            if record_id in self._deleted[sobject]:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", ["Id"])
            raise _not_found()
        stamp = self._stamp()
        record = {**old, **dict.fromkeys(bump, stamp), **fields}
        self._derive(sobject, record, fields, created=False)
        self._put(sobject, record)
        self._rollup(sobject, record, old)

    def _delete(self, sobject, record_id, *, touch_parent=True):
        record = self._live[sobject].get(record_id)
        if record is None:
            if record_id in self._deleted[sobject]:
                raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", ["Id"])
            raise _not_found()
        for child, reference in _CHILDREN.get(sobject, {}).values():  # cascade like Salesforce
            for child_id in list(self._index[(child, reference)].get(record_id, {})):
                if child_id in self._live[child]:
                    self._delete(child, child_id, touch_parent=False)
        stamp = self._stamp()
        gone = {**record, "IsDeleted": True, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        entry = (sobject, record_id, parse_ts(stamp))
        self._raw_unset(sobject, record_id)
        self._deleted[sobject][record_id] = gone
        self._deleted_log.append(entry)
        if self._journal is not None:

            def undo():
                self._deleted[sobject].pop(record_id, None)
                self._deleted_log.remove(entry)
                self._raw_set(sobject, record)

            self._journal.append(undo)
        if touch_parent:
            self._rollup(sobject, gone, record)

    def _derive(self, sobject, record, changed, created):
        """Fields Salesforce computes: stage flags, names, line prices."""
        if sobject == "Contact":
            record["Name"] = " ".join(
                part for part in (record.get("FirstName"), record.get("LastName")) if part
            )
        elif sobject == "Opportunity":
            stage = self._stage(record.get("StageName"))
            record["StageName"] = stage["ApiName"]
            record["IsClosed"], record["IsWon"] = stage["IsClosed"], stage["IsWon"]
            if "ForecastCategoryName" not in changed:
                record["ForecastCategoryName"] = stage["ForecastCategoryName"]
            record["ForecastCategory"] = stage["ForecastCategory"]
            if "Probability" not in changed and ("StageName" in changed or created):
                record["Probability"] = stage["DefaultProbability"]
            record.setdefault("HasOpportunityLineItem", False)
            if record.get("CloseDate"):
                close = date.fromisoformat(record["CloseDate"])
                record["FiscalYear"], record["FiscalQuarter"] = (
                    close.year,
                    (close.month - 1) // 3 + 1,
                )
        elif sobject == "OpportunityLineItem":
            self._derive_line(record, changed, created)
        elif sobject == "PricebookEntry":
            product = self._live["Product2"].get(record.get("Product2Id")) or {}
            record["Name"], record["ProductCode"] = product.get("Name"), product.get("ProductCode")

    def _derive_line(self, record, changed, created):
        if created or "PricebookEntryId" in changed or "Product2Id" in changed:
            entry = self._live["PricebookEntry"].get(record.get("PricebookEntryId"))
            if entry is None and record.get("Product2Id"):
                entries = self._index[("PricebookEntry", "Product2Id")].get(
                    record["Product2Id"], {}
                )
                entry = next((self._live["PricebookEntry"][eid] for eid in entries), None)
            if entry is None:
                raise SalesforceError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [PricebookEntryId]",
                    ["PricebookEntryId"],
                )
            product = self._live["Product2"][entry["Product2Id"]]
            record.update(
                PricebookEntryId=entry["Id"],
                Product2Id=product["Id"],
                ProductCode=product.get("ProductCode"),
                Name=product.get("Name"),
                ListPrice=entry.get("UnitPrice"),
            )
        quantity, price = record.get("Quantity") or 0.0, record.get("UnitPrice") or 0.0
        record["Subtotal"] = money(quantity * price)
        record["TotalPrice"] = money(quantity * price * (1 - (record.get("Discount") or 0) / 100))

    def _stage(self, name):
        lowered = (name or "").lower()
        stage = next((s for s in self.stages if s["ApiName"].lower() == lowered), None)
        if stage is None:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Stage: bad value for restricted picklist field: {name}",
                ["StageName"],
            )
        return stage

    def _rollup(self, sobject, record, old=None):
        """A line change recomputes its opportunity's Amount, which bumps its SystemModstamp."""
        if sobject != "OpportunityLineItem":
            return
        for opportunity_id in {record.get("OpportunityId"), (old or {}).get("OpportunityId")}:
            opportunity = self._live["Opportunity"].get(opportunity_id)
            if opportunity is None:
                continue
            line_ids = self._index[("OpportunityLineItem", "OpportunityId")].get(opportunity_id, {})
            lines = [self._live["OpportunityLineItem"][line_id] for line_id in line_ids]
            changes = {"HasOpportunityLineItem": bool(lines)}
            if lines:
                changes["Amount"] = money(sum(line.get("TotalPrice") or 0 for line in lines))
            self._modify("Opportunity", opportunity_id, changes)
