"""Python-side data API: tests change the portal as a HubSpot user would."""

from decimal import Decimal

from .schema import _money, _number


class DataMixin:
    """add_*, update, archive, get, ids."""

    def add_company(self, **properties) -> str:
        with self._lock:
            return self._create("companies", properties).id

    def add_contact(self, company_id=None, **properties) -> str:
        with self._lock:
            contact = self._create("contacts", properties)
            if company_id is not None:
                self._link("contacts", contact.id, "companies", str(company_id))
            return contact.id

    def add_product(self, name, sku=None, price=None, **properties) -> str:
        with self._lock:
            return self._create(
                "products", {"name": name, "hs_sku": sku, "price": price, **properties}
            ).id

    def add_deal(
        self,
        *,
        dealname,
        company_id=None,
        contact_ids=(),
        dealstage="closedwon",
        pipeline="default",
        amount=None,
        closedate="2026-11-02T00:00:00Z",
        line_items=(),
        deal_currency_code=None,
        **properties,
    ) -> str:
        """A deal with its company, contacts and line items (each line item to this deal only).

        Line item dicts take ``product_id``, ``quantity``, ``price``, optional ``discount`` (per
        unit), ``name`` and ``hs_sku`` (default: the product's) and any custom property, such as
        the billing terms of a recurring line (``recurringbillingfrequency``,
        ``hs_recurring_billing_period``). The deal amount defaults to what HubSpot's default
        deal amount calculation gives: the sum of the lines' total contract values (``hs_tcv``:
        a recurring line's ``amount`` is one period's).
        """
        with self._lock:
            lines = [self._line_item_properties(line, deal_currency_code) for line in line_items]
            if amount is None and lines:
                amount = _money(
                    sum(
                        (_number(line.get("hs_tcv") or line["amount"]) for line in lines),
                        Decimal(0),
                    )
                )
            deal = self._create(
                "deals",
                {
                    "dealname": dealname,
                    "dealstage": dealstage,
                    "pipeline": pipeline,
                    "amount": amount,
                    "closedate": closedate,
                    "deal_currency_code": deal_currency_code,
                    **properties,
                },
            )
            if company_id is not None:
                self._link("deals", deal.id, "companies", str(company_id))
            for contact_id in contact_ids:
                self._link("deals", deal.id, "contacts", str(contact_id))
            for line in lines:
                self._link("deals", deal.id, "line_items", self._create("line_items", line).id)
            return deal.id

    def update(self, object_type, object_id, **properties) -> None:
        """Change an object as a HubSpot user would: stamps move, derived properties follow."""
        with self._lock:
            object_type = self._type(object_type)
            self._apply(object_type, self._record(object_type, str(object_id)), properties)

    def archive(self, object_type, object_id) -> None:
        with self._lock:
            object_type = self._type(object_type)
            self._archive(self._record(object_type, str(object_id)))

    def get(self, object_type, object_id) -> dict:
        """Every stored property of an object (not only the defaults), archived or not."""
        with self._lock:
            record = self._record(self._type(object_type), str(object_id))
            return self._serialize(record, list(record.properties))

    def ids(self, object_type, *, archived=False) -> list[str]:
        """Ids of the objects of a type, oldest first."""
        with self._lock:
            store = self._objects[self._type(object_type)]
            return [record.id for record in store.values() if record.archived == archived]

    def associated_ids(self, object_type, object_id, to_type) -> list[str]:
        with self._lock:
            return self._associated(self._type(object_type), str(object_id), self._type(to_type))
