"""Is a won deal ready to become an engagement? Every problem, with where to fix it.

Nothing is created for a deal that is not ready: the job stops with all the problems listed
(the field, the deal, and how to fix it), and a retry after the fix creates the engagement.
"""

from dataclasses import dataclass, field


@dataclass
class Mappings:
    """What the backend's mapping tables say, as plain lookups (filled by the Odoo model)."""

    crm_name: str  # "Salesforce" / "HubSpot"
    field_labels: dict  # normalized key -> remote field name shown to users
    legal_entities: dict  # remote value -> company id
    tax_treatments: dict  # remote value -> fiscal position id or False (no fiscal position)
    billing_models: dict  # remote value -> ps billing model ("tm", "fixed", ...)
    templates: dict  # remote value -> project template id
    products: callable  # line -> (product id, default billing model or None) or None
    currency_ok: callable  # (currency code or None, company id) -> error text or None
    default_billing_model: str | None = None
    default_template: int | None = None
    creates_project: callable = None  # product id -> bool


@dataclass
class Readiness:
    problems: list = field(default_factory=list)
    company_id: int | None = None
    fiscal_position_id: int | bool | None = None
    template_id: int | None = None
    lines: list = field(default_factory=list)  # (deal line, product id, billing model)

    @property
    def ready(self) -> bool:
        return not self.problems


def check(deal: dict, maps: Mappings) -> Readiness:
    result = Readiness()
    where = f"{maps.crm_name} deal '{deal.get('name')}' ({deal.get('id')})"

    def missing(key, what):
        result.problems.append(f"{maps.field_labels.get(key, key)} is empty on {where}: {what}.")

    def unmapped(key, value, table):
        result.problems.append(
            f"{maps.field_labels.get(key, key)} '{value}' on {where} has no mapping: add it to "
            f"the backend's {table} mapping (Connectors > Configuration > Backends, tab Mappings), then retry."
        )

    if not deal.get("account") or not deal["account"].get("id"):
        result.problems.append(
            f"{where} has no account/company: link it to one in {maps.crm_name}."
        )
    value = deal.get("legal_entity")
    if not value:
        missing("legal_entity", f"set the legal entity in {maps.crm_name}")
    elif value not in maps.legal_entities:
        unmapped("legal_entity", value, "legal entity")
    else:
        result.company_id = maps.legal_entities[value]
    value = deal.get("tax_treatment")
    if not value:
        missing("tax_treatment", f"set the tax treatment in {maps.crm_name}")
    elif value not in maps.tax_treatments:
        unmapped("tax_treatment", value, "tax treatment")
    else:
        result.fiscal_position_id = maps.tax_treatments[value]
    value = deal.get("project_template")
    if value and value in maps.templates:
        result.template_id = maps.templates[value]
    elif value:
        unmapped("project_template", value, "project template")
    elif maps.default_template:
        result.template_id = maps.default_template
    else:
        missing("project_template", f"set the project template in {maps.crm_name}")
    deal_model = None
    if deal.get("billing_model"):
        if deal["billing_model"] in maps.billing_models:
            deal_model = maps.billing_models[deal["billing_model"]] or None  # None: per line
        else:
            unmapped("billing_model", deal["billing_model"], "billing model")
    if result.company_id is not None:
        error = maps.currency_ok(deal.get("currency"), result.company_id)
        if error:
            result.problems.append(f"{where}: {error}")
    lines = deal.get("lines") or []
    if not lines:
        result.problems.append(
            f"{where} has no products: add at least one product line in {maps.crm_name}."
        )
    creates_project = False
    for line in lines:
        mapped = maps.products(line)
        label = line.get("product_code") or line.get("product_ref") or line.get("name")
        if not mapped:
            result.problems.append(
                f"Product '{label}' ({line.get('name')}) on {where} has no product mapping: map "
                "it to an Odoo service product (Connectors > Configuration > Backends, tab Mappings > Products), "
                "then retry."
            )
            continue
        product_id, product_model = mapped
        model = None
        if line.get("billing_model"):
            if line["billing_model"] not in maps.billing_models:
                unmapped("line_billing_model", line["billing_model"], "billing model")
                continue
            model = maps.billing_models[line["billing_model"]] or None  # None: fall back
        model = model or deal_model or product_model or maps.default_billing_model
        if not model:
            result.problems.append(
                f"Line '{line.get('name')}' on {where} has no billing model: set "
                f"{maps.field_labels.get('billing_model', 'the billing model')} on the deal or "
                "the line, or a default billing model on the product mapping."
            )
            continue
        if maps.creates_project and maps.creates_project(product_id):
            creates_project = True
        result.lines.append((line, product_id, model))
    if result.lines and maps.creates_project and not creates_project:
        result.problems.append(
            f"No product of {where} creates a project: set 'Create on Order' to a project on at "
            "least one mapped service product."
        )
    return result
