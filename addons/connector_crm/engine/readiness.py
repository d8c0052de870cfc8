"""Is a won deal ready to become an engagement? Every problem, with where to fix it and who can.

Nothing is created for a deal that is not ready: the job stops with all the problems listed
(the field, the deal, how to fix it and who may), and a retry after the fix creates the
engagement. A warning does not stop the deal: the engagement is created and the warning is shown
on the contract for review.

Optional CRM fields: a deal field the backend does not map (no CRM field name) is not an error.
Without a legal entity field, deals go to the backend's default company; without a tax treatment
field, to the backend's default tax treatment or, with none, to Odoo's own fiscal position rules
(the customer's country and VAT number); without a project template field, to the default
template; without billing model fields, each product mapping's or the backend's default billing
model applies.
"""

from dataclasses import dataclass, field

from . import periodic

MAPPINGS_MENU = "Connectors > Configuration > Backends{backend}, tab Mappings"


@dataclass
class Mappings:
    """What the backend's mapping tables say, as plain lookups (filled by the Odoo model)."""

    crm_name: str  # "Salesforce" / "HubSpot"
    field_labels: dict  # normalized key -> remote field name shown to users
    legal_entities: dict  # remote value -> company id
    # remote value -> fiscal position: False/None (none: the customer's own taxes), an id (the
    # same everywhere) or {company id: fiscal position id} (each legal entity's own position)
    tax_treatments: dict
    billing_models: dict  # remote value -> ps billing model ("tm", "fixed", ...)
    templates: dict  # remote value -> project template id
    products: callable  # line -> (product id, default billing model or None) or None
    currency_ok: callable  # (currency code or None, company id) -> error text or None
    default_billing_model: str | None = None
    default_template: int | None = None
    creates_project: callable = None  # product id -> bool
    # Deal fields mapped to a CRM field (None: all of them, as before optional fields).
    mapped_fields: set | None = None
    default_company_id: int | None = None  # legal entity when no CRM field carries it
    default_tax_treatment: str | None = None  # a tax treatment value used when the deal has none
    # (line, company id, currency code) -> (unit price, discount) giving the CRM's line total in
    # Odoo, or None when no Odoo precision can (engine/pricing.py)
    line_price: callable = None
    # (fiscal position id or False, company id, deal, product ids) -> warning text or None
    tax_warning: callable = None
    # (line, deal) -> the product mapping's periodic defaults {"frequency", "term_source",
    # "term_months"} or None (engine/periodic.py)
    periodic_defaults: callable = None
    # (company id, currency code) -> decimals of the deal's currency (fees are rounded to them)
    currency_digits: callable = None
    backend_name: str | None = None
    company_names: dict = field(default_factory=dict)  # company id -> name, for messages
    # Who can fix each kind of problem, named in the messages (filled by the model).
    fixers: dict = field(default_factory=dict)

    def mapped(self, key) -> bool:
        return self.mapped_fields is None or key in self.mapped_fields

    def who(self, kind) -> str:
        defaults = {
            "mappings": "a Connector Manager can",
            "crm": f"the deal's owner or a {self.crm_name} admin can",
            "products": "a Sales administrator can",
            "currencies": "an Accounting administrator can",
            "backend": "a Connector Manager can",
        }
        return self.fixers.get(kind) or defaults[kind]

    def mappings_menu(self) -> str:
        return MAPPINGS_MENU.format(backend=f" > {self.backend_name}" if self.backend_name else "")


@dataclass
class Readiness:
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    company_id: int | None = None
    fiscal_position_id: int | bool | None = None
    template_id: int | None = None
    lines: list = field(default_factory=list)  # (deal line, product id, billing model)
    prices: dict = field(default_factory=dict)  # deal line id -> (unit price, discount)
    # deal line id -> periodic.LineTerms of the lines billed per period
    periodic: dict = field(default_factory=dict)
    # Warnings on the contract's terms (shown on the contract for review, like tax warnings).
    term_warnings: list = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def check(deal: dict, maps: Mappings) -> Readiness:
    result = Readiness()
    where = f"{maps.crm_name} deal '{deal.get('name')}' ({deal.get('id')})"
    crm = maps.crm_name

    def label(key):
        return maps.field_labels.get(key) or key

    def missing(key, what, alternative=None):
        other = f", or {alternative} ({maps.who('backend')})" if alternative else ""
        result.problems.append(
            f"{label(key)} is empty on {where}: {what} in {crm} ({maps.who('crm')}){other}, "
            "then retry."
        )

    def unmapped(key, value, table):
        result.problems.append(
            f"{label(key)} '{value}' on {where} has no mapping: add it to the backend's {table} "
            f"mapping ({maps.mappings_menu()}; {maps.who('mappings')}), then retry."
        )

    if not deal.get("account") or not deal["account"].get("id"):
        result.problems.append(
            f"{where} has no account/company: link it to one in {crm} ({maps.who('crm')}), "
            "then retry."
        )
    _legal_entity(deal, maps, result, missing, unmapped, where)
    _tax_treatment(deal, maps, result, missing, unmapped, where)
    _template(deal, maps, result, missing, unmapped, where)
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
    _lines(deal, maps, result, unmapped, where, deal_model)
    if result.ready and result.periodic:
        _deal_amount(deal, maps, result, where)
    if result.ready and maps.tax_warning and result.company_id is not None:
        warning = maps.tax_warning(
            result.fiscal_position_id, result.company_id, deal, [p for _l, p, _m in result.lines]
        )
        if warning:
            result.warnings.append(warning)
    return result


def _legal_entity(deal, maps, result, missing, unmapped, where):
    value = deal.get("legal_entity")
    if not maps.mapped("legal_entity"):
        if maps.default_company_id:
            result.company_id = maps.default_company_id
        else:
            result.problems.append(
                f"No legal entity for {where}: the backend maps no CRM field for it and has no "
                f"default company: set the backend's Company ({maps.who('backend')}), then retry."
            )
    elif not value:
        missing("legal_entity", "set the legal entity")
    elif value not in maps.legal_entities:
        unmapped("legal_entity", value, "legal entity")
    else:
        result.company_id = maps.legal_entities[value]


def _tax_treatment(deal, maps, result, missing, unmapped, where):
    value = deal.get("tax_treatment") or maps.default_tax_treatment
    if not value:
        if maps.mapped("tax_treatment"):
            missing(
                "tax_treatment",
                "set the tax treatment",
                "choose a default tax treatment on the backend's Deals tab",
            )
        else:
            # No CRM field and no default: Odoo's own fiscal position rules (the customer's
            # country and VAT number) decide, as on any sale order.
            result.fiscal_position_id = None
        return
    if value not in maps.tax_treatments:
        unmapped("tax_treatment", value, "tax treatment")
        return
    positions = maps.tax_treatments[value]
    if not isinstance(positions, dict):
        result.fiscal_position_id = positions or False
        return
    if not positions:
        result.fiscal_position_id = False
    elif result.company_id in positions:
        result.fiscal_position_id = positions[result.company_id]
    elif result.company_id is not None:
        company = maps.company_names.get(result.company_id) or f"company {result.company_id}"
        result.problems.append(
            f"Tax treatment '{value}' of {where} has no fiscal position of {company}, the legal "
            f"entity the deal is signed by (only of other companies): add {company}'s fiscal "
            f"position to that tax treatment's mapping ({maps.mappings_menu()}; "
            f"{maps.who('mappings')}), then retry."
        )


def _template(deal, maps, result, missing, unmapped, where):
    value = deal.get("project_template")
    if value and value in maps.templates:
        result.template_id = maps.templates[value]
    elif value:
        unmapped("project_template", value, "project template")
    elif maps.default_template:
        result.template_id = maps.default_template
    elif maps.mapped("project_template"):
        missing(
            "project_template",
            "set the project template",
            "choose a default project template on the backend's Deals tab",
        )
    else:
        result.problems.append(
            f"No project template for {where}: the backend maps no CRM field for it and has no "
            f"default project template: choose one on the backend's Deals tab "
            f"({maps.who('backend')}), then retry."
        )


def _lines(deal, maps, result, unmapped, where, deal_model):
    lines = deal.get("lines") or []
    if not lines:
        result.problems.append(
            f"{where} has no products: add at least one product line in {maps.crm_name} "
            f"({maps.who('crm')}), then retry."
        )
    creates_project = False
    for line in lines:
        mapped = maps.products(line)
        label = line.get("product_code") or line.get("product_ref") or line.get("name")
        if not mapped:
            result.problems.append(
                f"Product '{label}' ({line.get('name')}) on {where} has no product mapping: map "
                f"it to an Odoo service product ({maps.mappings_menu()} > Products, or "
                f"Connectors > CRM > Product mappings; {maps.who('mappings')}), then retry."
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
            result.problems.append(_no_billing_model(line, label, where, maps))
            continue
        priced = line
        if periodic.is_periodic(line, model):
            terms = _periodic_terms(line, label, model, maps, result, where, deal)
            if terms is None:
                continue
            result.periodic[line.get("id")] = terms
            # The Odoo line sells the whole term: its subtotal is the term's total.
            priced = dict(line, quantity=terms.quantity, amount=terms.amount)
        if maps.line_price is not None and result.company_id is not None:
            price = maps.line_price(priced, result.company_id, deal.get("currency"))
            if price is None:
                result.problems.append(
                    f"Line '{line.get('name')}' on {where}: its amount {priced.get('amount')} "
                    f"({priced.get('quantity')} x {line.get('price_unit')}, less its discount) "
                    "cannot be reproduced by an Odoo unit price and discount with the decimals "
                    "Odoo keeps: round the line's price or discount in "
                    f"{maps.crm_name} ({maps.who('crm')}), or raise the decimal accuracy of "
                    "'Product Price' or 'Discount' (Settings > Technical > Decimal Accuracy; an "
                    "Odoo administrator can), then retry."
                )
                continue
            result.prices[line.get("id")] = price
        if maps.creates_project and maps.creates_project(product_id):
            creates_project = True
        result.lines.append((line, product_id, model))
    if result.lines and maps.creates_project and not creates_project:
        result.problems.append(
            f"No product of {where} creates a project: set 'Create on Order' to a project on at "
            f"least one mapped service product (Sales > Products > Products, tab Sales; "
            f"{maps.who('products')}), then retry."
        )


def _deal_amount(deal, maps, result, where):
    """A deal with periodic lines whose amount is not the contract's total: the CRM may state
    the deal amount per period or per year (HubSpot's default deal amount can be set to MRR,
    ARR or ACV instead of the total contract value), or a line's term may not be what was
    sold. The contract is made from the lines; the difference is shown for review."""
    amount = deal.get("amount")
    if amount is None:
        return
    digits = 2
    if maps.currency_digits and result.company_id is not None:
        digits = maps.currency_digits(result.company_id, deal.get("currency"))
    total = 0.0
    for line, _product, _model in result.lines:
        terms = result.periodic.get(line.get("id"))
        if terms:
            total += terms.amount
        elif line.get("amount") is not None:
            total += line["amount"]
        else:
            total += (line.get("quantity") or 0.0) * (line.get("price_unit") or 0.0)
    if round(abs(total - amount), digits) >= 10**-digits:
        periods = ", ".join(
            f"'{line.get('name')}' {terms.periods} x {terms.terms.fee_per_period:.{digits}f}"
            for line, _p, _m in result.lines
            if (terms := result.periodic.get(line.get("id")))
        )
        result.term_warnings.append(
            f"The amount of {where} is {amount:.{digits}f}, but its lines sell "
            f"{total:.{digits}f} over their terms ({periods}): check the terms of the periodic "
            f"lines in {maps.crm_name} and on this contract before invoicing ({maps.who('crm')})."
        )


def _periodic_terms(line, label, model, maps, result, where, deal):
    """The line's periodic terms, or None with the problem recorded (a periodic line whose term
    cannot be determined never becomes a contract line that bills without an end)."""
    defaults = maps.periodic_defaults(line, deal) if maps.periodic_defaults else None
    digits = 2
    if maps.currency_digits and result.company_id is not None:
        digits = maps.currency_digits(result.company_id, deal.get("currency"))
    try:
        return periodic.line_terms(line, defaults, digits)
    except periodic.TermError as exc:
        kind = "a retainer" if model in periodic.PERIODIC_MODELS else "recurring"
        result.problems.append(
            f"Line '{line.get('name')}' on {where} is {kind}, billed per period, but {exc}: "
            + periodic.what_to_set(
                maps.crm_name,
                label,
                maps.who("crm"),
                f"{maps.mappings_menu()} > Products; {maps.who('mappings')}",
            )
            + ", then retry. Without a term the contract would bill a fee every period with "
            "no end."
        )
        return None


def _no_billing_model(line, label, where, maps):
    ways = []
    deal_field = maps.mapped("billing_model") and maps.field_labels.get("billing_model")
    line_field = maps.mapped("line_billing_model") and maps.field_labels.get("line_billing_model")
    if deal_field:
        ways.append(f"set {deal_field} on the deal")
    if line_field:
        ways.append(f"set {line_field} on the line")
    if ways:
        ways[-1] += f" in {maps.crm_name} ({maps.who('crm')})"
    ways.append(
        f"give the product mapping of '{label}' a default billing model, or the backend a "
        f"default billing model ({maps.mappings_menu()}; {maps.who('mappings')})"
    )
    return (
        f"Line '{line.get('name')}' on {where} has no billing model: "
        + ", or ".join(ways)
        + ", then retry."
    )
