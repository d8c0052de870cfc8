"""Storage of the fake portal: records, stamps, derived properties, associations."""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .errors import HubSpotError
from .schema import (
    _TYPE_ALIASES,
    FREQUENCY_MONTHS,
    RECURRING_DERIVED,
    _as_string,
    _iso,
    _iso_months,
    _money,
    _number,
)


class _Record:
    __slots__ = ("archived", "archived_at", "created_at", "id", "properties", "updated_at")

    def __init__(self, object_id, properties, stamp):
        self.id = object_id
        self.properties = properties
        self.created_at = self.updated_at = stamp
        self.archived = False
        self.archived_at = None


class StoreMixin:
    """Records in memory."""

    def _type(self, name) -> str:
        try:
            return _TYPE_ALIASES[str(name).lower()]
        except KeyError:
            raise HubSpotError(
                400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR"
            ) from None

    def _record(self, object_type, object_id) -> _Record:
        try:
            return self._objects[object_type][object_id]
        except KeyError:
            raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND") from None

    def _stamp(self) -> datetime:
        """``clock()`` to the millisecond, at least 1 ms after the previous write."""
        now = self.clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _create(self, object_type, properties) -> _Record:
        stamp = self._stamp()
        record = _Record(str(next(self._ids)), {}, stamp)
        values = {name: _as_string(value) for name, value in properties.items()}
        values.setdefault("createdate", _iso(stamp))
        record.properties = {name: value for name, value in values.items() if value is not None}
        record.properties["hs_object_id"] = record.id
        self._objects[object_type][record.id] = record
        self._derive(object_type, record, properties, stamp)
        return record

    def _apply(self, object_type, record, properties) -> None:
        stamp = self._stamp()
        for name, value in properties.items():
            value = _as_string(value)
            if value is None or value == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = value
        self._derive(object_type, record, properties, stamp)

    def _archive(self, record) -> None:
        record.archived = True
        record.archived_at = record.updated_at = self._stamp()

    def _derive(self, object_type, record, written, stamp) -> None:
        """Modification stamps and the read-only properties HubSpot calculates on every write."""
        props = record.properties
        record.updated_at = stamp
        stamp_property = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        props[stamp_property] = _iso(stamp)
        if object_type == "deals":
            metadata = self._stage_metadata(props.get("pipeline"), props.get("dealstage"))
            closed = bool(metadata) and metadata["isClosed"] == "true"
            won = closed and float(metadata["probability"]) >= 1.0
            props["hs_is_closed"] = "true" if closed else "false"
            props["hs_is_closed_won"] = "true" if won else "false"
            props["hs_is_closed_lost"] = "true" if closed and not won else "false"
            if metadata:
                props["hs_deal_stage_probability"] = metadata["probability"]
            else:
                props.pop("hs_deal_stage_probability", None)
        elif object_type == "line_items":
            pricing = {"quantity", "price", "discount", "hs_discount_percentage"}
            if "amount" not in written and pricing & set(written) and props.get("price"):
                props.update(self._line_pricing(props))
            props.update(self._line_terms(props))
            for name in RECURRING_DERIVED:
                if props.get(name) is None:
                    props.pop(name, None)

    @staticmethod
    def _line_pricing(props) -> dict:
        """What HubSpot calculates on a line item: the total before discount, the total discount
        and the net ``amount``. ``discount`` is an amount off per unit; ``hs_discount_percentage``
        a percentage of the line's total (the discount rounded to the cent), which wins when a
        line has both (its editor keeps one discount type per line)."""
        quantity = _number(props.get("quantity") or "1") or Decimal(0)
        price = _number(props["price"]) or Decimal(0)
        total = quantity * price
        percentage = _number(props.get("hs_discount_percentage") or "")
        if percentage:
            discount = (total * percentage / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        else:
            discount = quantity * (_number(props.get("discount") or "0") or Decimal(0))
        return {
            "hs_pre_discount_amount": _money(total),
            "hs_total_discount": _money(discount),
            "amount": _money(total - discount),
        }

    @staticmethod
    def _line_terms(props) -> dict:
        """What HubSpot calculates from a line item's billing terms. A recurring line item
        (``recurringbillingfrequency`` set) is priced per billing period: ``amount`` is one
        period's; its term (``hs_recurring_billing_period``, an ISO period such as ``P12M``)
        gives ``hs_term_in_months`` and ``hs_recurring_billing_number_of_payments``, and its
        total contract value ``hs_tcv`` is ``amount`` x the payments. A one-time line item's
        ``hs_tcv`` is its ``amount``; a recurring one without a term (auto-renewing) has none."""
        amount = _number(props.get("amount") or "")
        frequency = props.get("recurringbillingfrequency")
        derived = dict.fromkeys(RECURRING_DERIVED)
        if not frequency:
            derived["hs_tcv"] = _money(amount) if amount is not None else None
            return derived
        length = FREQUENCY_MONTHS.get(frequency)
        months = _iso_months(props.get("hs_recurring_billing_period"))
        payments = _number(props.get("hs_recurring_billing_number_of_payments") or "")
        if months is None and payments and length:
            months = int(payments) * length
        if months is None or not length:
            return derived
        payments = max(months // length, 1)
        derived["hs_term_in_months"] = str(months)
        derived["hs_recurring_billing_number_of_payments"] = str(payments)
        if amount is not None:
            derived["hs_tcv"] = _money(amount * payments)
            derived["hs_mrr"] = _money(amount / length)
            derived["hs_acv"] = _money(amount * min(payments, 12 // length or 1))
        return derived

    def _line_item_properties(self, line, currency) -> dict:
        line = dict(line)
        product_id = line.pop("product_id", None)
        if product_id is not None:
            product = self._record("products", str(product_id)).properties
            line["hs_product_id"] = str(product_id)
            line.setdefault("name", product.get("name"))
            line.setdefault("hs_sku", product.get("hs_sku"))
            line.setdefault("price", product.get("price"))
            for name in ("recurringbillingfrequency", "hs_recurring_billing_period"):
                if product.get(name):  # a product's billing terms are its line items' default
                    line.setdefault(name, product[name])
        line.setdefault("name", "Line item")
        line.setdefault("quantity", "1")
        if currency:
            line.setdefault("hs_line_item_currency_code", currency)
        values = {name: _as_string(value) for name, value in line.items()}
        if values.get("amount") is None and values.get("price") is not None:
            values.update(self._line_pricing(values))
        values.update(self._line_terms(values))
        return {name: value for name, value in values.items() if value is not None}

    def _stage_metadata(self, pipeline_id, stage_id):
        candidates = [p for p in self.pipelines if p["id"] == pipeline_id] or self.pipelines
        for pipeline in candidates:
            for stage in pipeline["stages"]:
                if stage["id"] == stage_id:
                    return stage["metadata"]
        return None

    def _link(self, from_type, from_id, to_type, to_id) -> None:
        """Associate both ways; a line item belongs to one deal, so a new deal replaces the old."""
        self._record(to_type, to_id)  # 404 when the target does not exist
        if from_type == "line_items" and to_type == "deals":
            for deal_id in list(self._links.get((from_type, from_id), {}).get("deals", {})):
                self._links[("deals", deal_id)]["line_items"].pop(from_id, None)
                self._links[(from_type, from_id)]["deals"].pop(deal_id, None)
        elif from_type == "deals" and to_type == "line_items":
            self._link(to_type, to_id, from_type, from_id)  # the line item side does the checks
            return
        self._links.setdefault((from_type, from_id), {}).setdefault(to_type, {})[to_id] = None
        self._links.setdefault((to_type, to_id), {}).setdefault(from_type, {})[from_id] = None

    def _associated(self, from_type, from_id, to_type) -> list[str]:
        return sorted(self._links.get((from_type, from_id), {}).get(to_type, {}), key=int)

    def _serialize(self, record, names) -> dict:
        properties = {name: record.properties.get(name) for name in names}
        result = {
            "id": record.id,
            "properties": properties,
            "createdAt": _iso(record.created_at),
            "updatedAt": _iso(record.updated_at),
            "archived": record.archived,
        }
        if record.archived_at:
            result["archivedAt"] = _iso(record.archived_at)
        return result
