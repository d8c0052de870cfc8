"""Sample normalized deals shared by the CRM engine's unit tests."""

import copy


def line(line_id, code, quantity, price, *, discount=0.0, model="Fixed Fee", name=None):
    return {
        "id": line_id,
        "product_ref": f"01t{code}",
        "product_code": code,
        "name": name or code,
        "quantity": float(quantity),
        "price_unit": float(price),
        "discount": discount,
        "billing_model": model,
    }


def snapshot(**overrides):
    deal = {
        "id": "006A",
        "name": "Northwind - ERP implementation",
        "stage": "Closed Won",
        "is_won": True,
        "is_closed": True,
        "close_date": "2026-03-16",
        "amount": 63600.0,
        "currency": "USD",
        "description": None,
        "po_number": "PO-NW-2026-001",
        "legal_entity": "Acme Consulting US",
        "billing_model": "Fixed Fee",
        "project_template": "Standard Implementation",
        "tax_treatment": "Domestic",
        "cap_amount": 70000.0,
        "deleted": False,
        "account": {"id": "001A", "name": "Northwind Traders Inc."},
        "contacts": [
            {"id": "003N", "first_name": "Nancy", "last_name": "Davolio", "email": "n@nw.example"},
            {"id": "003A", "first_name": "Andrew", "last_name": "Fuller", "email": "a@nw.example"},
        ],
        "lines": [line("00kA", "IMPL", 1, 60000), line("00kB", "TRAIN", 3, 1200)],
    }
    deal.update(overrides)
    return deal


def changed(**overrides):
    return snapshot(**overrides)


def with_line(deal, line_id, **values):
    deal = copy.deepcopy(deal)
    for item in deal["lines"]:
        if item["id"] == line_id:
            item.update(values)
    return deal
