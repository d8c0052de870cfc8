"""What changed on an already converted deal, and what may happen to the contract because of it.

Three outcomes, most restrictive wins:

* ``direct``: only dates, descriptions, PO number, name or contacts changed; applied at once
  (where field ownership lets the CRM write).
* ``approval``: value changed (amount, products, quantities, prices, discounts, billing terms,
  cap); waits for a Billing Manager.
* ``refused``: a change Odoo must not make by itself: another legal entity, currency or tax
  treatment, a quantity below what is already invoiced, a cap below what is already billed, or a
  billing model change on a line already invoiced. It becomes a needs-attention item.

Lifecycle changes (deal lost, reopened, deleted) are reported separately as ``review``: the
contract is flagged, nothing is deleted or cancelled.
"""

from dataclasses import dataclass, field

DIRECT, APPROVAL, REFUSED = "direct", "approval", "refused"
_RANK = {DIRECT: 0, APPROVAL: 1, REFUSED: 2}

DIRECT_FIELDS = {
    "name": "Name",
    "close_date": "Close date",
    "description": "Description",
    "po_number": "PO number",
    "project_template": "Project template (not applied: the project exists)",
}
VALUE_FIELDS = {"amount": "Amount", "billing_model": "Billing model", "cap_amount": "Cap"}
REFUSED_FIELDS = {
    "legal_entity": "Legal entity",
    "currency": "Currency",
    "tax_treatment": "Tax treatment",
}
LINE_VALUE_FIELDS = {
    "quantity": "Quantity",
    "price_unit": "Unit price",
    "discount": "Discount",
    "discount_amount": "Discount per unit",
    "billing_model": "Billing model",
    "product_ref": "Product",
    "product_code": "Product code",
    # Periodic lines (engine/periodic.py): what the term sells.
    "frequency": "Billing frequency",
    "term": "Term",
    "payments": "Number of payments",
}
EPSILON = 1e-6


@dataclass
class Change:
    field: str
    label: str
    old: object
    new: object
    outcome: str
    line_id: str | None = None
    reason: str | None = None

    def as_dict(self):
        return {
            "field": self.field,
            "label": self.label,
            "old": self.old,
            "new": self.new,
            "outcome": self.outcome,
            "line_id": self.line_id,
            "reason": self.reason,
        }


@dataclass
class Amendment:
    changes: list = field(default_factory=list)
    review: str | None = None  # why the contract must be reviewed (lost, reopened, deleted)

    @property
    def outcome(self) -> str | None:
        if not self.changes:
            return None
        return max((change.outcome for change in self.changes), key=_RANK.__getitem__)

    def of(self, outcome):
        return [change for change in self.changes if change.outcome == outcome]

    def summary(self) -> str:
        lines = []
        for change in self.changes:
            where = f"line {change.line_id}: " if change.line_id else ""
            text = f"{where}{change.label}: {change.old!r} → {change.new!r}"
            if change.reason:
                text += f" ({change.reason})"
            lines.append(text)
        if self.review:
            lines.append(self.review)
        return "\n".join(lines)


def _differs(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) > EPSILON
    return (a or None) != (b or None)


def lifecycle(old: dict, new: dict) -> str | None:
    if new.get("deleted"):
        return "The deal was deleted in the CRM after it became this contract."
    if old.get("is_won") and not new.get("is_won"):
        if new.get("is_closed"):
            return f"The deal was marked lost ({new.get('stage')}) after it became this contract."
        return f"The deal was reopened ({new.get('stage')}) after it became this contract."
    return None


def compare(old: dict, new: dict, invoiced: dict | None = None, billed=0.0) -> Amendment:
    """Changes from ``old`` (the snapshot the contract reflects) to ``new``.

    ``invoiced``: CRM line id -> quantity already invoiced in Odoo; ``billed``: amount already
    invoiced on the contract (a cap may not go below it).
    """
    invoiced = invoiced or {}
    amendment = Amendment(review=lifecycle(old, new))
    for name, label in DIRECT_FIELDS.items():
        if _differs(old.get(name), new.get(name)):
            amendment.changes.append(Change(name, label, old.get(name), new.get(name), DIRECT))
    old_contacts = [c.get("id") for c in old.get("contacts") or []]
    new_contacts = [c.get("id") for c in new.get("contacts") or []]
    if old_contacts != new_contacts or _contact_details(old) != _contact_details(new):
        amendment.changes.append(Change("contacts", "Contacts", old_contacts, new_contacts, DIRECT))
    for name, label in REFUSED_FIELDS.items():
        if _differs(old.get(name), new.get(name)):
            amendment.changes.append(
                Change(
                    name,
                    label,
                    old.get(name),
                    new.get(name),
                    REFUSED,
                    reason="not changed automatically on a converted deal",
                )
            )
    for name, label in VALUE_FIELDS.items():
        if _differs(old.get(name), new.get(name)):
            outcome, reason = APPROVAL, None
            if name == "cap_amount" and new.get(name) and new[name] + EPSILON < billed:
                outcome, reason = REFUSED, f"below the {billed:.2f} already invoiced"
            amendment.changes.append(
                Change(name, label, old.get(name), new.get(name), outcome, reason=reason)
            )
    amendment.changes.extend(_line_changes(old, new, invoiced))
    return amendment


def _contact_details(deal):
    return [
        (c.get("email"), c.get("first_name"), c.get("last_name"), c.get("phone"))
        for c in deal.get("contacts") or []
    ]


def _line_changes(old, new, invoiced):
    changes = []
    old_lines = {line["id"]: line for line in old.get("lines") or []}
    new_lines = {line["id"]: line for line in new.get("lines") or []}
    for line_id, line in new_lines.items():
        before = old_lines.get(line_id)
        if before is None:
            changes.append(Change("line", "Line added", None, _line_text(line), APPROVAL, line_id))
            continue
        done = invoiced.get(line_id, 0.0)
        for name, label in LINE_VALUE_FIELDS.items():
            if name == "discount_amount" and name not in before:
                continue  # a version stored before the connector read unit discounts
            if not _differs(before.get(name), line.get(name)):
                continue
            outcome, reason = APPROVAL, None
            if name == "quantity" and line.get("quantity", 0) + EPSILON < done:
                outcome, reason = REFUSED, f"below the {done:g} already invoiced"
            elif name in ("billing_model", "product_ref", "product_code") and done > EPSILON:
                outcome, reason = REFUSED, "the line is already invoiced"
            changes.append(
                Change(name, label, before.get(name), line.get(name), outcome, line_id, reason)
            )
    for line_id, line in old_lines.items():
        if line_id in new_lines:
            continue
        done = invoiced.get(line_id, 0.0)
        outcome, reason = APPROVAL, None
        if done > EPSILON:
            outcome, reason = REFUSED, f"{done:g} already invoiced"
        changes.append(
            Change("line", "Line removed", _line_text(line), None, outcome, line_id, reason)
        )
    return changes


def _line_text(line):
    return f"{line.get('name')} x {line.get('quantity'):g} at {line.get('price_unit'):g}"
