"""The demo group's three legal entities: Acme Consulting US (the main company, USD), EU (EUR)
and UK (GBP), each with its own chart of accounts, sales tax and a fiscal position for
cross-border B2B services that replaces the sales tax by a 0 % tax with its legal mention.

Connectors map the CRM's legal entities to these companies and their tax treatments to these
fiscal positions; intercompany recharges run between them. Records get XML ids
(``ps_billing_rules.demo_company_eu``, ``demo_tax_sale_eu``, ``demo_fiscal_position_b2b_eu``...)
so that the demo data of other addons can refer to them."""

import logging

from odoo import Command, api, models

MODULE = "ps_billing_rules"
# code -> name, currency, country, sales tax rate and label, cross-border B2B treatment.
ENTITIES = {
    "us": {
        "name": "Acme Consulting US",
        "currency": "base.USD",
        "country": "base.us",
        "sale_tax": (15.0, "Sales tax 15%"),
        "b2b": ("Export of services (no US sales tax)", "Export of services: no sales tax."),
    },
    "eu": {
        "name": "Acme Consulting EU",
        "currency": "base.EUR",
        "country": "base.de",
        "sale_tax": (19.0, "VAT 19%"),
        "b2b": (
            "EU B2B reverse charge",
            "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive "
            "2006/112/EC).",
        ),
    },
    "uk": {
        "name": "Acme Consulting UK",
        "currency": "base.GBP",
        "country": "base.uk",
        "sale_tax": (20.0, "VAT 20%"),
        "b2b": (
            "Outside the scope of UK VAT (B2B abroad)",
            "Services supplied to a business customer outside the UK: outside the scope of UK VAT.",
        ),
    },
}


CHART_LOGGER = "odoo.addons.account.models.chart_template"


class PsDemoCompanies(models.AbstractModel):
    _name = "ps.demo.companies"
    _description = "Demo legal entities (US, EU, UK)"

    @api.model
    def _setup(self):
        """Create the EU and UK companies next to the main one, load a chart of accounts in each,
        set their taxes and fiscal positions, and let the administrator work in all three."""
        ChartTemplate = self.env["account.chart.template"]
        companies = self.env["res.company"]
        for code, entity in ENTITIES.items():
            company = self._company(code, entity)
            if not company.chart_template:
                # Demo data loads before the registry is marked loaded: account warns that modules
                # installed later might miss the chart; none of ours extends it. Without Odoo's
                # own demo invoices (install_demo), which would blur the suite's story.
                chart_logger = logging.getLogger(CHART_LOGGER)
                level = chart_logger.level
                chart_logger.setLevel(logging.ERROR)
                try:
                    ChartTemplate.try_loading("generic_coa", company, install_demo=False)
                finally:
                    chart_logger.setLevel(level)
            # The generic chart sets its own currency (USD): the entity's comes back after it.
            company.currency_id = self.env.ref(entity["currency"])
            self._taxes_and_positions(code, entity, company)
            self.env["ps.billing.demo"].with_company(company)._configure_accounting(company)
            companies |= company
        # The administrator switches between the three (as Odoo's own demo companies, the
        # superuser too); other demo users stay in the main one.
        (self.env.ref("base.user_root") | self.env.ref("base.user_admin")).write(
            {"company_ids": [Command.link(company.id) for company in companies]}
        )
        self._add_company_taxes(self.env["product.template"].search([("taxes_id", "!=", False)]))
        return True

    @api.model
    def _company(self, code, entity):
        currency = self.env.ref(entity["currency"])
        currency.active = True
        if code == "us":
            company = self.env.ref("base.main_company")
            company.write({"name": entity["name"], "currency_id": currency.id})
            company.partner_id.country_id = self.env.ref(entity["country"])
        else:
            company = self.env.ref(f"{MODULE}.demo_company_{code}", raise_if_not_found=False)
            if not company:
                company = self.env["res.company"].create(
                    {
                        "name": entity["name"],
                        "currency_id": currency.id,
                        "country_id": self.env.ref(entity["country"]).id,
                    }
                )
        self._xmlid(f"demo_company_{code}", company)
        return company

    @api.model
    def _taxes_and_positions(self, code, entity, company):
        Tax = self.env["account.tax"].with_company(company)
        rate, label = entity["sale_tax"]
        sale_tax = company.account_sale_tax_id
        if sale_tax:
            sale_tax.write({"name": label, "amount": rate, "invoice_label": label})
            sale_tax.tax_group_id.name = label
        zero = Tax.search(
            [*Tax._check_company_domain(company), ("name", "=", entity["b2b"][0])], limit=1
        ) or Tax.create(
            {
                "name": entity["b2b"][0],
                "amount": 0.0,
                "type_tax_use": "sale",
                "company_id": company.id,
                "tax_group_id": sale_tax.tax_group_id.id,
                "invoice_label": "0%",
            }
        )
        position = self.env["account.fiscal.position"].search(
            [("company_id", "=", company.id), ("name", "=", entity["b2b"][0])], limit=1
        ) or self.env["account.fiscal.position"].create(
            {
                "name": entity["b2b"][0],
                "company_id": company.id,
                "note": entity["b2b"][1],
                "tax_ids": [Command.create({"tax_src_id": sale_tax.id, "tax_dest_id": zero.id})]
                if sale_tax
                else [],
            }
        )
        self._xmlid(f"demo_tax_sale_{code}", sale_tax)
        self._xmlid(f"demo_tax_b2b_{code}", zero)
        self._xmlid(f"demo_fiscal_position_b2b_{code}", position)

    @api.model
    def _add_company_taxes(self, templates):
        """Give products that have a sales tax in one demo company the default sales tax of the
        others (what loading a chart does for the products that exist at that moment)."""
        companies = self.env["res.company"].search([]).filtered("account_sale_tax_id")
        for company in companies:
            missing = templates.sudo().filtered(
                lambda t, c=company: (
                    t.taxes_id
                    and not t.taxes_id.filtered_domain(t.taxes_id._check_company_domain(c))
                )
            )
            missing._force_default_sale_tax(company)
        return True

    @api.model
    def _xmlid(self, name, record):
        if record:
            self.env["ir.model.data"]._update_xmlids(
                [{"xml_id": f"{MODULE}.{name}", "record": record, "noupdate": True}]
            )
