"""Seeds: a small consultancy's deals (demo, tests) and bulk deals (load tests)."""

from .schema import CUSTOM_PIPELINE_ID, CUSTOM_STAGES


class SeedMixin:
    """seed_demo and seed_bulk."""

    def seed_demo(self) -> dict:
        """A small consultancy CRM: 4 customers, 5 products, closed-won deals of every billing
        model, one open deal and one won deal whose line item has an unmapped SKU (NEW-SKU)."""
        ids = {}
        customers = [
            ("globex", "Globex Corporation", "globex.com", "United States", "New York", "10001"),
            ("initech", "Initech GmbH", "initech.de", "Germany", "Berlin", "10115"),
            ("umbrella", "Umbrella Health SAS", "umbrella-health.fr", "France", "Lyon", "69002"),
            ("stark", "Stark Retail B.V.", "starkretail.nl", "Netherlands", "Amsterdam", "1012"),
        ]
        people = {
            "globex": [("Hank", "Scorpio", "CEO"), ("Mindy", "Simmons", "Procurement manager")],
            "initech": [("Bill", "Lumbergh", "Vice president")],
            "umbrella": [("Alice", "Marcus", "CIO"), ("Jill", "Valentine", "Project manager")],
            "stark": [("Pepper", "Potts", "COO")],
        }
        for key, name, domain, country, city, zip_code in customers:
            ids[f"company_{key}"] = self.add_company(
                name=name,
                domain=domain,
                phone="+1 212 555 0100" if key == "globex" else "+33 1 70 00 00 00",
                address=f"1 {name.split()[0]} Street",
                city=city,
                zip=zip_code,
                country=country,
                industry="COMPUTER_SOFTWARE",
            )
            for first, last, title in people[key]:
                ids[f"contact_{key}_{first.lower()}"] = self.add_contact(
                    ids[f"company_{key}"],
                    firstname=first,
                    lastname=last,
                    email=f"{first.lower()}.{last.lower()}@{domain}",
                    phone="+1 212 555 0199",
                    jobtitle=title,
                )
        products = [
            ("impl", "Implementation", "IMPL", "15000.00"),
            ("cons_h", "Consulting hours", "CONS-H", "150.00"),
            ("sup_ret", "Support retainer", "SUP-RET", "2000.00"),
            ("train", "Training day", "TRAIN", "1200.00"),
            ("new_sku", "Design workshop", "NEW-SKU", "3500.00"),
        ]
        for key, name, sku, price in products:
            ids[f"product_{key}"] = self.add_product(name, sku=sku, price=price)

        def line(product, quantity, price, **extra):
            return {
                "product_id": ids[f"product_{product}"],
                "quantity": quantity,
                "price": price,
                **extra,
            }

        us = {"legal_entity": "Acme Consulting US", "deal_currency_code": "USD"}
        eu = {"legal_entity": "Acme Consulting EU", "deal_currency_code": "EUR"}
        deals = [
            ("globex_erp", "Globex - ERP implementation", "globex", "hank", "2026-01-15", {
                **us, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "po_number": "PO-GLX-1001",
                "line_items": [line("impl", "1", "45000.00"), line("train", "2", "1200.00")],
            }),
            ("globex_tm", "Globex - Consulting T&M", "globex", "mindy", "2026-02-03", {
                **us, "billing_model": "Time and Materials",
                "project_template": "Standard Implementation", "tax_treatment": "Domestic",
                "cap_amount": "30000.00", "line_items": [line("cons_h", "200", "150.00")],
            }),
            ("initech_support", "Initech - Support 2026", "initech", "bill", "2026-01-05", {
                **eu, "billing_model": "Retainer", "project_template": "Support",
                "tax_treatment": "EU reverse charge", "po_number": "PO-INI-77",
                "line_items": [line("sup_ret", "1", "2000.00", hs_recurring_billing_period="P12M",
                                    recurringbillingfrequency="monthly")],
            }),
            ("umbrella_rollout", "Umbrella - Rollout", "umbrella", "alice", "2026-03-10", {
                **eu, "billing_model": "Milestones", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "po_number": "PO-UMB-2026-04",
                "line_items": [line("impl", "1", "60000.00", name="Implementation - 3 milestones"),
                               line("train", "3", "1200.00", discount="100.00")],
            }),
            ("stark_mixed", "Stark - Implementation and support", "stark", "pepper", "2026-04-01", {
                **eu, "billing_model": "Mixed", "project_template": "Standard Implementation",
                "tax_treatment": "EU reverse charge", "cap_amount": "80000.00",
                "line_items": [line("impl", "1", "25000.00", billing_model="Fixed Fee"),
                               line("cons_h", "100", "140.00", billing_model="Time and Materials"),
                               line("sup_ret", "1", "1500.00", billing_model="Retainer")],
            }),
            # In the custom pipeline: won only by hs_is_closed_won, its stage is not "closedwon".
            ("initech_training", "Initech - Training programme", "initech", "bill", "2026-05-20", {
                **eu, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "EU reverse charge", "pipeline": CUSTOM_PIPELINE_ID,
                "dealstage": CUSTOM_STAGES["won"], "line_items": [line("train", "2", "1200.00")],
            }),
            ("open", "Globex - Phase 2", "globex", "hank", "2026-12-15", {
                **us, "billing_model": "Time and Materials",
                "project_template": "Standard Implementation", "tax_treatment": "Domestic",
                "dealstage": "contractsent", "line_items": [line("cons_h", "80", "150.00")],
            }),
            ("new_sku", "Umbrella - Design workshop", "umbrella", "jill", "2026-06-30", {
                **eu, "billing_model": "Fixed Fee", "project_template": "Standard Implementation",
                "tax_treatment": "Domestic", "line_items": [line("new_sku", "1", "3500.00")],
            }),
        ]  # fmt: skip
        for key, name, company, contact, closedate, values in deals:
            deal_id = self.add_deal(
                dealname=name,
                company_id=ids[f"company_{company}"],
                contact_ids=[ids[f"contact_{company}_{contact}"]],
                closedate=f"{closedate}T00:00:00Z",
                **values,
            )
            ids[f"deal_{key}"] = deal_id
            for number, line_id in enumerate(self.associated_ids("deals", deal_id, "line_items")):
                ids[f"deal_{key}_line{number + 1}"] = line_id
        return ids

    def seed_bulk(
        self, n_deals, lines_per_deal=3, *, companies=True, **deal_properties
    ) -> list[str]:
        """``n_deals`` closed-won deals with consulting-hours lines, for paging and load tests;
        one company per ten deals (``companies=False``: none)."""
        with self._lock:
            product_id = next(
                (
                    record.id
                    for record in self._objects["products"].values()
                    if record.properties.get("hs_sku") == "CONS-H"
                ),
                None,
            ) or self.add_product("Consulting hours", sku="CONS-H", price="150.00")
            deal_ids = []
            company_id = None
            for number in range(n_deals):
                if companies and number % 10 == 0:
                    company_id = self.add_company(
                        name=f"Bulk Customer {number // 10 + 1:05d}",
                        domain=f"bulk-{number // 10 + 1}.example.com",
                    )
                lines = [
                    {"product_id": product_id, "quantity": str(index + 1), "price": "150.00"}
                    for index in range(lines_per_deal)
                ]
                values = {"dealname": f"Bulk deal {number + 1:05d}", **deal_properties}
                deal_ids.append(self.add_deal(line_items=lines, company_id=company_id, **values))
            return deal_ids
