"""Python-side data API: tests change the org as a Salesforce user would."""

from .schema import money


class DataMixin:
    """``add_*``, ``update``, ``delete``, ``get``, ``records``."""

    # Python-side data API ------------------------------------------------------------------------

    def _helper_fields(self, sobject, fields):
        """Canonical names for helper keyword fields; unknown ``__c`` fields are declared."""
        out = {}
        for key, value in fields.items():
            name = self._field(sobject, key)
            if name is None:
                if not key.endswith("__c"):
                    raise KeyError(f"{sobject} has no field {key!r} (custom fields end with __c)")
                field_type = "currency" if isinstance(value, (int, float)) else "string"
                self.add_field(sobject, key, "boolean" if isinstance(value, bool) else field_type)
                name = key
            out[name] = self._coerce(sobject, name, value)
        self._check_references(sobject, out)
        return out

    def _canonical_sobject(self, sobject):
        canonical = self._sobject(sobject)
        if canonical is None:
            raise KeyError(f"unknown sObject {sobject!r}")
        return canonical

    def add_account(self, **fields) -> str:
        with self._lock:
            fields.setdefault("Name", f"Account {self._counter + 1}")
            return self._insert("Account", self._helper_fields("Account", fields))

    def add_contact(self, account_id, **fields) -> str:
        with self._lock:
            fields.setdefault("LastName", "Contact")
            fields = self._helper_fields("Contact", {"AccountId": account_id, **fields})
            return self._insert("Contact", fields)

    def add_product(self, name, code=None, *, list_price=0.0, **fields) -> str:
        """A Product2 and its standard price book entry (``list_price``)."""
        with self._lock:
            fields = {"Name": name, "ProductCode": code, "IsActive": True, **fields}
            product_id = self._insert("Product2", self._helper_fields("Product2", fields))
            entry = {
                "Pricebook2Id": self.standard_pricebook_id,
                "Product2Id": product_id,
                "UnitPrice": float(list_price),
                "IsActive": True,
            }
            self._insert("PricebookEntry", entry)
            return product_id

    def add_opportunity(
        self,
        account_id,
        *,
        name,
        stage="Closed Won",
        amount=None,
        close_date="2026-11-02",
        lines=(),
        contact_ids=(),
        **fields,
    ) -> str:
        """An opportunity with its line items and contact roles (the first contact is primary).

        ``lines`` are dicts with ``product_id``, ``quantity``, ``unit_price`` and optionally
        ``discount`` (percent), ``description``, ``service_date`` and any field by its API name.
        ``amount`` defaults to the sum of the lines' TotalPrice.
        """
        aliases = {
            "product_id": "Product2Id",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "discount": "Discount",
            "description": "Description",
            "service_date": "ServiceDate",
        }
        with self._lock:
            rows = []
            for line in lines:
                row = {aliases.get(key, key): value for key, value in line.items()}
                row.setdefault("Quantity", 1.0)
                row.setdefault("UnitPrice", 0.0)
                if row.get("Product2Id") not in self._live["Product2"]:
                    raise KeyError(f"unknown product {row.get('Product2Id')!r}")
                rows.append(self._helper_fields("OpportunityLineItem", row))
            if amount is None and rows:
                amount = money(
                    sum(
                        money(
                            row["Quantity"]
                            * row["UnitPrice"]
                            * (1 - (row.get("Discount") or 0) / 100)
                        )
                        for row in rows
                    )
                )
            values = {
                "AccountId": account_id,
                "Name": name,
                "StageName": stage,
                "CloseDate": close_date,
                "Amount": amount,
                **fields,
            }
            if rows:
                values.update(HasOpportunityLineItem=True, Pricebook2Id=self.standard_pricebook_id)
            opportunity_id = self._insert("Opportunity", self._helper_fields("Opportunity", values))
            for position, row in enumerate(rows, start=1):
                row = {"OpportunityId": opportunity_id, "SortOrder": position, **row}
                self._insert("OpportunityLineItem", row, touch_parent=False)
            for position, contact_id in enumerate(contact_ids):
                role = {
                    "OpportunityId": opportunity_id,
                    "ContactId": contact_id,
                    "IsPrimary": position == 0,
                    "Role": "Decision Maker",
                }
                self._insert(
                    "OpportunityContactRole", self._helper_fields("OpportunityContactRole", role)
                )
            return opportunity_id

    def add_line_item(self, opportunity_id, *, product_id, quantity, unit_price, **fields) -> str:
        """A product line added to an existing opportunity (its Amount and stamp move)."""
        with self._lock:
            if product_id not in self._live["Product2"]:
                raise KeyError(f"unknown product {product_id!r}")
            row = {
                "OpportunityId": opportunity_id,
                "Product2Id": product_id,
                "Quantity": quantity,
                "UnitPrice": unit_price,
                **fields,
            }
            return self._insert(
                "OpportunityLineItem", self._helper_fields("OpportunityLineItem", row)
            )

    def update(self, sobject, record_id, **fields) -> None:
        """Change a record "in Salesforce": bumps SystemModstamp and LastModifiedDate.

        Explicit ``SystemModstamp``/``LastModifiedDate`` values win over the bump.
        """
        with self._lock:
            sobject = self._canonical_sobject(sobject)
            self._modify(sobject, record_id, self._helper_fields(sobject, fields))

    def touch(self, sobject, record_id) -> None:
        """A system change: only SystemModstamp moves (LastModifiedDate does not)."""
        with self._lock:
            self._modify(self._canonical_sobject(sobject), record_id, {}, bump=("SystemModstamp",))

    def delete(self, sobject, record_id) -> None:
        """Delete (with Salesforce's cascade); the deleted endpoint reports it from now on."""
        with self._lock:
            self._delete(self._canonical_sobject(sobject), record_id)

    def get(self, sobject, record_id) -> dict:
        """A copy of the stored record (deleted records too, with IsDeleted true)."""
        with self._lock:
            sobject = self._canonical_sobject(sobject)
            record = self._table(sobject).get(record_id) or self._deleted[sobject].get(record_id)
            if record is None:
                raise KeyError(f"no {sobject} {record_id}")
            return dict(record)

    def records(self, sobject) -> list[dict]:
        """Copies of the live records, in creation order."""
        with self._lock:
            return [
                dict(record) for record in self._table(self._canonical_sobject(sobject)).values()
            ]
