"""Seeds: a small consultancy's deals (demo, tests) and bulk deals (benchmarks)."""

import requests

from .schema import _DEMO_PRODUCTS


def _terms(entity, model, template="Standard Implementation", tax="Domestic", **extra):
    """The custom fields of a demo deal."""
    return {
        "Legal_Entity__c": entity,
        "Billing_Model__c": model,
        "Project_Template__c": template,
        "Tax_Treatment__c": tax,
        **extra,
    }


def _demo_line(ids, code, quantity, price, model, discount=None):
    line = {"product_id": ids[code], "quantity": quantity, "unit_price": price}
    line["Billing_Model__c"] = model
    if discount is not None:
        line["discount"] = discount
    return line


class SeedMixin:
    """seed_demo, seed_bulk, and the Flow callout a Salesforce org sends."""

    # Seeds ---------------------------------------------------------------------------------------

    def _catalogue(self):
        """The demo products by code, created when missing."""
        existing = {
            record.get("ProductCode"): record["Id"] for record in self._live["Product2"].values()
        }
        for code, name, price, unit in _DEMO_PRODUCTS:
            if code not in existing:
                existing[code] = self.add_product(
                    name, code, list_price=price, QuantityUnitOfMeasure=unit, Family="Services"
                )
        return {code: existing[code] for code, *_rest in _DEMO_PRODUCTS}

    def seed_demo(self) -> dict:
        """A small consultancy's closed deals; returns ids by readable name.

        Keys: accounts ``northwind``, ``globex``, ``initech``, ``umbrella``; contacts by first
        name in lower case; products by code (``IMPL``, ``CONS-H``, ``SUP-RET``, ``TRAIN``,
        ``NEW-SKU``); opportunities ``northwind_erp``, ``northwind_support``,
        ``globex_consulting``, ``globex_rollout``, ``initech_mixed``, ``umbrella_advisory``
        (closed won), ``umbrella_phase2`` (open) and ``initech_migration`` (closed won with the
        unmapped product code NEW-SKU).
        """
        with self._lock:
            ids = dict(self._catalogue())
            ids["NEW-SKU"] = self.add_product(
                "Data migration add-on", "NEW-SKU", list_price=8000.0, Family="Services"
            )
            address = (
                "BillingStreet",
                "BillingCity",
                "BillingState",
                "BillingPostalCode",
                "BillingCountry",
            )
            accounts = {
                "northwind": ("Northwind Traders Inc.", "CUST-1001", "Retail", "+1 415 555 0100",
                              "northwind.example.com",
                              ("500 Market Street", "San Francisco", "CA", "94105",
                               "United States")),
                "globex": ("Globex GmbH", "CUST-1002", "Manufacturing", "+49 30 5550 1200",
                           "globex.example.de",
                           ("Friedrichstrasse 68", "Berlin", None, "10117", "Germany")),
                "initech": ("Initech Ltd", "CUST-1003", "Financial Services", "+44 20 7946 0300",
                            "initech.example.co.uk",
                            ("1 Canada Square", "London", None, "E14 5AB", "United Kingdom")),
                "umbrella": ("Umbrella Health Inc.", "CUST-1004", "Healthcare", "+1 617 555 0400",
                             "umbrella-health.example.com",
                             ("200 Boylston Street", "Boston", "MA", "02116", "United States")),
            }  # fmt: skip
            for key, (name, number, industry, phone, domain, lines) in accounts.items():
                ids[key] = self.add_account(
                    Name=name,
                    AccountNumber=number,
                    Industry=industry,
                    Phone=phone,
                    Website=f"https://{domain}",
                    **dict(zip(address, lines, strict=True)),
                )
            contacts = (
                ("northwind", "Nancy", "Davolio", "Chief Financial Officer"),
                ("northwind", "Andrew", "Fuller", "VP Operations"),
                ("globex", "Greta", "Keller", "Head of Finance"),
                ("globex", "Jonas", "Weber", "IT Director"),
                ("initech", "Peter", "Gibbons", "Programme Manager"),
                ("umbrella", "Alice", "Abernathy", "Chief Operating Officer"),
            )
            for account, first, last, title in contacts:
                _name, _number, _industry, phone, domain, _address = accounts[account]
                ids[first.lower()] = self.add_contact(
                    ids[account],
                    FirstName=first,
                    LastName=last,
                    Title=title,
                    Email=f"{first.lower()}.{last.lower()}@{domain}",
                    Phone=phone,
                )
            us, eu, uk = "Acme Consulting US", "Acme Consulting EU", "Acme Consulting UK"
            fixed, tm = "Fixed Fee", "Time and Materials"
            # key: (account, name, close date, contacts, deal fields, lines)
            # A line is (product code, quantity, unit price, line billing model[, discount]).
            deals = {
                "northwind_erp": (
                    "northwind", "Northwind - ERP implementation", "2026-03-16", ("nancy", "andrew"),
                    _terms(us, fixed, PO_Number__c="PO-NW-2026-001"),
                    (("IMPL", 1, 60000.0, fixed), ("TRAIN", 3, 1200.0, fixed)),
                ),
                "northwind_support": (
                    "northwind", "Northwind - Support 2026", "2026-04-01", ("nancy",),
                    _terms(us, "Retainer", "Support", PO_Number__c="PO-NW-2026-014"),
                    (("SUP-RET", 12, 2500.0, "Retainer"),),
                ),
                "globex_consulting": (
                    "globex", "Globex - Process consulting", "2026-05-20", ("greta", "jonas"),
                    _terms(eu, tm, tax="EU reverse charge", PO_Number__c="4500012345",
                           Cap_Amount__c=30000.0),
                    (("CONS-H", 200, 150.0, tm, 5.0),),
                ),
                "globex_rollout": (
                    "globex", "Globex - Rollout phase 2", "2026-06-30", ("jonas",),
                    _terms(eu, "Milestones", tax="EU reverse charge", PO_Number__c="4500012388"),
                    (("IMPL", 1, 45000.0, "Milestones"), ("TRAIN", 2, 1200.0, fixed)),
                ),
                "initech_mixed": (
                    "initech", "Initech - Implementation and coaching", "2026-07-15", ("peter",),
                    _terms(uk, "Mixed", PO_Number__c="INI-77812", Cap_Amount__c=45000.0),
                    (("IMPL", 1, 30000.0, fixed), ("CONS-H", 80, 140.0, tm),
                     ("TRAIN", 2, 1100.0, fixed)),
                ),
                "umbrella_advisory": (
                    "umbrella", "Umbrella - Data platform advisory", "2026-09-01", ("alice",),
                    _terms(us, tm, Cap_Amount__c=20000.0),
                    (("CONS-H", 120, 160.0, tm),),
                ),
                "umbrella_phase2": (  # still open
                    "umbrella", "Umbrella - Phase 2", "2026-12-15", ("alice",),
                    _terms(us, tm, stage="Proposal"),
                    (("CONS-H", 100, 160.0, tm),),
                ),
                "initech_migration": (  # NEW-SKU: a product code the connector has not mapped
                    "initech", "Initech - Data migration", "2026-10-05", ("peter",),
                    _terms(uk, fixed, PO_Number__c="INI-78020"),
                    (("NEW-SKU", 1, 8000.0, fixed),),
                ),
            }  # fmt: skip
            for key, (account, name, close_date, people, fields, lines) in deals.items():
                ids[key] = self.add_opportunity(
                    ids[account],
                    name=name,
                    close_date=close_date,
                    contact_ids=[ids[person] for person in people],
                    lines=[_demo_line(ids, *line) for line in lines],
                    **fields,
                )
            return ids

    def seed_bulk(
        self, n_deals, lines_per_deal=3, *, close_date="2026-11-02", **deal_fields
    ) -> list[str]:
        """Many closed-won deals fast (benchmarks): one account per 10 deals, demo products.

        ``deal_fields`` go to every deal (``stage``, ``amount`` or any field by API name).
        """
        with self._lock:
            catalogue = list(self._catalogue().values())
            prices = [price for _code, _name, price, _unit in _DEMO_PRODUCTS]
            accounts = [
                self.add_account(Name=f"Bulk Customer {number:05d}", AccountNumber=f"BULK-{number}")
                for number in range(1, (n_deals + 9) // 10 + 1)
            ]
            ids = []
            for index in range(n_deals):
                lines = [
                    {
                        "product_id": catalogue[(index + position) % len(catalogue)],
                        "quantity": float(1 + (index + position) % 5),
                        "unit_price": prices[(index + position) % len(catalogue)],
                    }
                    for position in range(lines_per_deal)
                ]
                ids.append(
                    self.add_opportunity(
                        accounts[index // 10],
                        name=f"Bulk deal {index + 1:06d}",
                        close_date=close_date,
                        lines=lines,
                        **deal_fields,
                    )
                )
            return ids

    # Outbound ------------------------------------------------------------------------------------

    def flow_callout(self, url, secret, body: dict, header="X-Connector-Flow-Secret"):
        """What a Salesforce Flow HTTP callout to our webhook sends: JSON and a shared secret."""
        headers = {header: secret, "User-Agent": f"SFDC-Callout/{self.api_version}"}
        return requests.post(url, json=body, headers=headers, timeout=10)
