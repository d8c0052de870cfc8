"""What the readiness check and the engagement builder read from Odoo, looked up once per batch
of deals: the backend's mappings, pricelists, currencies, products, prices, tax checks, and the
names of the people who can fix a problem."""

from odoo import _, api, models

from ..engine import pricing
from ..engine.readiness import Mappings

# Names listed in a message before "and N others".
NAMED_FIXERS = 3


class ConnectorCrmEngagementMappings(models.AbstractModel):
    _inherit = "connector.crm.engagement"

    @api.model
    def _mappings(self, backend):
        """The backend's mappings as the pure readiness check reads them; every lookup is
        cached for the life of the object (one batch of deals)."""
        names = backend._crm_deal_field_names()
        value_maps = backend.crm_value_map_ids

        def table(kind):
            return {line.remote_value: line for line in value_maps if line.kind == kind}

        products_by_id = {
            line.remote_id: line for line in backend.crm_product_map_ids if line.remote_id
        }
        products_by_code = {
            line.remote_code: line for line in backend.crm_product_map_ids if line.remote_code
        }

        def product(line):
            mapped = products_by_id.get(line.get("product_ref")) or products_by_code.get(
                line.get("product_code")
            )
            if not mapped:
                return None
            return mapped.product_id.id, mapped.billing_model or None

        billing_terms = table("billing_model")

        def periodic_defaults(line, deal):
            """The product mapping's term; its frequency, else the retainer period of the
            line's (or deal's) billing model mapping."""
            mapped = products_by_id.get(line.get("product_ref")) or products_by_code.get(
                line.get("product_code")
            )
            defaults = mapped._crm_periodic_defaults() if mapped else {}
            if not defaults.get("frequency"):
                terms = billing_terms.get(line.get("billing_model")) or billing_terms.get(
                    deal.get("billing_model")
                )
                if terms and terms.retainer_period:
                    defaults["frequency"] = terms.retainer_period
            return defaults

        currency_problems = {}

        def currency_ok(code, company_id):
            key = (code, company_id)
            if key not in currency_problems:
                company = self.env["res.company"].browse(company_id)
                currency_problems[key] = self._pricelist_problem(code, company, backend)
            return currency_problems[key]

        tracking = {}

        def creates_project(product_id):
            if product_id not in tracking:
                product = self.env["product.product"].browse(product_id)
                tracking[product_id] = product.service_tracking in (
                    "project_only",
                    "task_in_project",
                )
            return tracking[product_id]

        treatments = {
            value: {position.company_id.id: position.id for position in line.fiscal_position_ids}
            for value, line in table("tax_treatment").items()
        }
        companies = backend.company_ids | backend.company_id
        return Mappings(
            crm_name=backend._crm_label(),
            field_labels={key: name for key, name in names.items() if name},
            legal_entities={k: v.target_company_id.id for k, v in table("legal_entity").items()},
            tax_treatments=treatments,
            billing_models={k: v.billing_model for k, v in table("billing_model").items()},
            templates={k: v.template_project_id.id for k, v in table("project_template").items()},
            products=product,
            currency_ok=currency_ok,
            default_billing_model=backend.crm_default_billing_model or None,
            default_template=backend.crm_default_template_id.id or None,
            creates_project=creates_project,
            mapped_fields={key for key, name in names.items() if name},
            default_company_id=backend.company_id.id,
            default_tax_treatment=(backend.crm_default_tax_treatment or "").strip() or None,
            line_price=self._line_price_function(),
            periodic_defaults=periodic_defaults,
            currency_digits=self._currency_digits_function(),
            tax_warning=self._tax_warning_function(backend),
            backend_name=backend.name,
            company_names={company.id: company.name for company in companies},
            fixers=self._fixers(backend),
        )

    # Who can fix what ---------------------------------------------------------------------------

    @api.model
    def _fixers(self, backend):
        """Who can fix each kind of problem, as the messages of deals needing attention name
        them: the connector operator reading them is often not allowed to fix it."""
        managers = self._connector_managers(backend)
        if backend.crm_mapping_contact_id:
            mappings = _("ask %s (Connector Manager)", backend.crm_mapping_contact_id.name)
        elif managers:
            mappings = _("Connector Managers can: %s", managers)
        else:
            mappings = _("a Connector Manager can")
        crm = backend._crm_label()
        return {
            "mappings": mappings,
            "backend": mappings,
            "crm": _("the deal's owner or a %s administrator can", crm),
            "products": _("Sales administrators can"),
            "currencies": _("Accounting administrators can"),
        }

    @api.model
    def _connector_managers(self, backend, limit=NAMED_FIXERS):
        """The names of the Connector Managers of the backend's company (``limit`` of them)."""
        group = self.env.ref("connector_base.group_connector_manager")
        users = group.sudo().users.filtered(
            lambda user: user.active and not user.share and backend.company_id in user.company_ids
        )
        names = sorted(users.mapped("name"))
        if len(names) > limit:
            return _(
                "%(names)s and %(count)s others",
                names=", ".join(names[:limit]),
                count=len(names) - limit,
            )
        return ", ".join(names)

    # Currencies and pricelists ------------------------------------------------------------------

    @api.model
    def _currency(self, code, company):
        if not code:
            return company.currency_id
        return (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )

    @api.model
    def _pricelist(self, code, company):
        currency = self._currency(code, company)
        return self.env["product.pricelist"].search(
            [("currency_id", "=", currency.id), ("company_id", "in", (company.id, False))],
            order="company_id, sequence, id",
            limit=1,
        )

    @api.model
    def _pricelist_problem(self, code, company, backend=None):
        who = _("Accounting administrators can")
        currency = self._currency(code, company)
        if not currency:
            return _(
                "currency %(code)s is unknown in Odoo: activate it (Accounting > Configuration > "
                "Currencies; %(who)s), then retry.",
                code=code,
                who=who,
            )
        if not currency.active:
            return _(
                "currency %(code)s is not active in Odoo: activate it (Accounting > "
                "Configuration > Currencies; %(who)s), then retry.",
                code=code,
                who=who,
            )
        # In the company's currency Odoo needs no pricelist (the default when pricelists are
        # not enabled); another currency is only reachable through a pricelist.
        if currency != company.currency_id and not self._pricelist(code, company):
            return _(
                "no pricelist in %(currency)s for %(company)s: enable pricelists (Sales > "
                "Configuration > Settings) and create one in %(currency)s (Sales > Products > "
                "Pricelists; Sales administrators can), then retry.",
                currency=currency.name,
                company=company.name,
            )
        return None

    # Prices -------------------------------------------------------------------------------------

    @api.model
    def _currency_digits_function(self):
        """(company id, currency code) -> decimals of the deal's currency."""
        digits = {}

        def currency_digits(company_id, code):
            key = (code, company_id)
            if key not in digits:
                company = self.env["res.company"].browse(company_id)
                currency = self._currency(code, company) or company.currency_id
                digits[key] = currency.decimal_places
            return digits[key]

        return currency_digits

    @api.model
    def _line_price_function(self):
        """(deal line, company id, currency code) -> (unit price, discount) giving the CRM's
        line total with Odoo's decimal accuracies and the deal currency's rounding."""
        precision = self.env["decimal.precision"]
        price_digits = precision.precision_get("Product Price")
        discount_digits = precision.precision_get("Discount")
        currencies = {}

        def line_price(line, company_id, code):
            key = (code, company_id)
            if key not in currencies:
                company = self.env["res.company"].browse(company_id)
                currencies[key] = self._currency(code, company) or company.currency_id
            currency = currencies[key]
            return pricing.odoo_price(
                line.get("quantity") or 0.0,
                line.get("price_unit") or 0.0,
                line.get("amount"),
                percent=line.get("discount") or 0.0,
                per_unit=line.get("discount_amount") or 0.0,
                price_digits=price_digits,
                discount_digits=discount_digits,
                round_amount=currency.round,
            )

        return line_price

    # Taxes --------------------------------------------------------------------------------------

    @api.model
    def _tax_warning_function(self, backend):
        """(fiscal position id, company id, deal, product ids) -> a warning when the tax
        treatment's fiscal position replaces none of the products' sales taxes on a sale to a
        customer in another country than the company: a cross-border sale (reverse charge,
        export) invoiced with the domestic tax."""
        Partner = self.env["res.partner"]

        def tax_warning(position_id, company_id, deal, product_ids):
            if not position_id:
                return None
            account = deal.get("account") or {}
            country = Partner._crm_country(account.get("country"))
            company = self.env["res.company"].browse(company_id)
            home = company.country_id or company.account_fiscal_country_id
            if not country or not home or country == home:
                return None
            position = self.env["account.fiscal.position"].browse(position_id)
            taxes = (
                self.env["product.product"]
                .browse(product_ids)
                .taxes_id.filtered(lambda tax: tax.company_id == company)
            )
            if not taxes or position.map_tax(taxes) != taxes:
                return None
            return _(
                "Tax treatment '%(treatment)s' maps to fiscal position '%(position)s' of "
                "%(company)s, which replaces none of the sales taxes of this contract's products "
                "(%(taxes)s), although the customer is in %(country)s and %(company)s in "
                "%(home)s: this cross-border sale is taxed as a domestic one. Check the fiscal "
                "position's tax mapping (Accounting > Configuration > Fiscal Positions; "
                "Accounting administrators can) or the tax treatment mapping (Connectors > "
                "Configuration > Backends > %(backend)s, tab Mappings; %(who)s), then correct "
                "the taxes of this contract before invoicing.",
                treatment=deal.get("tax_treatment") or backend.crm_default_tax_treatment,
                position=position.name,
                company=company.name,
                taxes=", ".join(taxes.mapped("name")),
                country=country.name,
                home=home.name,
                backend=backend.name,
                who=self._fixers(backend)["mappings"],
            )

        return tax_warning
