"""Field ownership between the CRM and Odoo: who wins when a mapped field changes.

Modes, per backend, object and field:

* ``crm``: the CRM owns it; its value is written to Odoo whenever it changes.
* ``odoo``: Odoo owns it; CRM changes are ignored and Odoo's value is pushed to the CRM.
* ``create_only``: set from the CRM when Odoo creates the record, never synced again.
* ``shared``: either side may change it; when both changed since the last sync and disagree,
  a conflict is raised and a person picks the value.

``synced`` remembers, per field, the value both sides agreed on at the last sync; it is how a
change is told apart from a difference.
"""

from dataclasses import dataclass, field

CRM, ODOO, CREATE_ONLY, SHARED = "crm", "odoo", "create_only", "shared"
MODES = (CRM, ODOO, CREATE_ONLY, SHARED)


def same(a, b) -> bool:
    """Equality as users see it: None and '' are equal, surrounding spaces and case of e-mail
    addresses do not matter, numbers compare by value."""
    if a in (None, "", False) and b in (None, "", False):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return str(a).strip().casefold() == str(b).strip().casefold()


@dataclass
class Decision:
    to_odoo: dict = field(default_factory=dict)  # field -> CRM value to write in Odoo
    to_crm: dict = field(default_factory=dict)  # field -> Odoo value to push to the CRM
    conflicts: list = field(default_factory=list)  # (field, odoo value, crm value)
    synced: dict = field(default_factory=dict)  # field -> agreed value after this sync


def decide(rules: dict, crm_values: dict, odoo_values: dict, synced: dict, *, creating: bool):
    """Decide what to do with one inbound record.

    ``rules``: field -> mode; ``crm_values``: the CRM's values now; ``odoo_values``: Odoo's
    values now (ignored when ``creating``); ``synced``: field -> value agreed at the last sync
    (missing: never synced). Fields without a rule are not synced at all.
    """
    decision = Decision()
    for name, mode in rules.items():
        if name not in crm_values:
            continue
        crm = crm_values[name]
        if creating:
            # Odoo has no value yet: every mode starts from the CRM's (an Odoo-owned field is
            # seeded, not blanked in the CRM by the next push).
            decision.to_odoo[name] = crm
            decision.synced[name] = crm
            continue
        odoo = odoo_values.get(name)
        known = name in synced
        base = synced.get(name)
        if mode == CRM:
            if not same(crm, odoo):
                decision.to_odoo[name] = crm
            decision.synced[name] = crm
        elif mode == ODOO:
            # Agreed only once the push has landed (the push records it): until then the
            # outbound side still sees a difference to send.
            if not same(crm, odoo):
                decision.to_crm[name] = odoo
            else:
                decision.synced[name] = odoo
        elif mode == CREATE_ONLY:
            continue
        elif mode == SHARED:
            if same(crm, odoo):
                decision.synced[name] = crm
                continue
            crm_changed = not known or not same(crm, base)
            odoo_changed = known and not same(odoo, base)
            if crm_changed and odoo_changed:
                decision.conflicts.append((name, odoo, crm))
            elif crm_changed:
                decision.to_odoo[name] = crm
                decision.synced[name] = crm
            else:
                decision.to_crm[name] = odoo
        else:
            raise ValueError(f"unknown ownership mode {mode!r}")
    return decision


def agreed_after(synced: dict, decision: Decision) -> dict:
    """The agreed values once ``decision`` is applied: fields going to the CRM are not agreed
    until their push lands (so the push still sees them as different)."""
    result = dict(synced)
    result.update(decision.synced)
    for name in decision.to_crm:
        result.pop(name, None)
    return result


def outbound(rules: dict, odoo_values: dict, synced: dict) -> tuple[dict, list]:
    """What an Odoo-side change pushes: Odoo-owned fields that differ from the last sync, and
    shared fields changed only in Odoo. Returns (fields to push, shared fields pushed)."""
    push = {}
    for name, mode in rules.items():
        if mode not in (ODOO, SHARED) or name not in odoo_values:
            continue
        if name in synced and same(odoo_values[name], synced[name]):
            continue
        push[name] = odoo_values[name]
    return push, [name for name in push if rules[name] == SHARED]
