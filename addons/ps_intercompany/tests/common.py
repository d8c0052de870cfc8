"""Three companies of a group (EU in EUR, US in USD, UK in GBP), each with its own chart, taxes,
fiscal positions and exchange rates (deliberately not consistent across companies, as in real
life), consultants with effective-dated cost rates, a project in each receiving company and
three agreements: EU -> US cost plus 10 % (Analysts 7.5 %) charged in USD, UK -> US transfer
rate card in GBP, US -> EU cost plus 0 % (at cost) charged in USD."""

from datetime import date

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

D = date
MARCH = (D(2026, 3, 1), D(2026, 3, 31))
APRIL = (D(2026, 4, 1), D(2026, 4, 30))


class IntercompanyCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.eur = cls.env.ref("base.EUR")
        cls.usd = cls.env.ref("base.USD")
        cls.gbp = cls.env.ref("base.GBP")
        (cls.eur | cls.usd | cls.gbp).active = True
        cls.eu = cls._company("IC Test EU", cls.eur, "base.de")
        cls.us = cls._company("IC Test US", cls.usd, "base.us")
        cls.uk = cls._company("IC Test UK", cls.gbp, "base.uk")
        cls.companies = cls.eu | cls.us | cls.uk
        cls.env.user.company_ids |= cls.companies
        cls.env = cls.env(
            context=dict(cls.env.context, allowed_company_ids=[cls.us.id, cls.eu.id, cls.uk.id])
        )
        # Each company's own rate table (units of the currency per unit of the company's own);
        # its own currency at 1 (shared demo rates must not leak in).
        for company in (cls.eu, cls.us, cls.uk):
            cls._rate(company, company.currency_id, 1.0)
        cls._rate(cls.us, cls.eur, 0.9)  # 1 EUR = 1.1111 USD in the US books
        cls._rate(cls.us, cls.gbp, 0.8)  # 1 GBP = 1.25 USD
        cls._rate(cls.eu, cls.usd, 1.08)  # 1 EUR = 1.08 USD in the EU books
        cls._rate(cls.eu, cls.gbp, 0.85)
        cls._rate(cls.uk, cls.usd, 1.27)  # 1 GBP = 1.27 USD in the UK books
        cls._rate(cls.uk, cls.eur, 1.17)
        cls.accounts = {company: cls._ic_accounts(company) for company in cls.companies}
        cls.hour = cls.env.ref("uom.product_uom_hour")
        cls.unit = cls.env.ref("uom.product_uom_unit")
        sale_taxes = (
            cls.eu.account_sale_tax_id | cls.us.account_sale_tax_id | cls.uk.account_sale_tax_id
        )
        purchase_taxes = (
            cls.eu.account_purchase_tax_id
            | cls.us.account_purchase_tax_id
            | cls.uk.account_purchase_tax_id
        )
        cls.service = cls.env["product.product"].create(
            {
                "name": "Intercompany consulting (test)",
                "type": "service",
                "company_id": False,
                "uom_id": cls.hour.id,
                "uom_po_id": cls.hour.id,
                "taxes_id": [Command.set(sale_taxes.ids)],
                "supplier_taxes_id": [Command.set(purchase_taxes.ids)],
            }
        )
        cls.expense_product = cls.env["product.product"].create(
            {
                "name": "Intercompany expenses (test)",
                "type": "service",
                "company_id": False,
                "uom_id": cls.unit.id,
                "uom_po_id": cls.unit.id,
                "taxes_id": [Command.set(sale_taxes.ids)],
                "supplier_taxes_id": [Command.set(purchase_taxes.ids)],
            }
        )
        # Cross-border B2B: no sales tax in the provider, no purchase tax in the receiver.
        cls.fp_sale = {c: cls._position(c, c.account_sale_tax_id, "IC sale") for c in cls.companies}
        cls.fp_purchase = {
            c: cls._position(c, c.account_purchase_tax_id, "IC purchase") for c in cls.companies
        }
        cls.senior = cls.env["hr.job"].create({"name": "IC Senior"})
        cls.analyst = cls.env["hr.job"].create({"name": "IC Analyst"})
        cls.eva = cls._employee("Eva EU Senior", cls.eu, cls.senior, [(D(2026, 1, 1), 80.0)])
        cls.ana = cls._employee(
            "Ana EU Analyst", cls.eu, cls.analyst, [(D(2026, 1, 1), 61.37), (D(2026, 3, 16), 64.0)]
        )
        cls.nik = cls._employee("Nik EU no cost", cls.eu, cls.senior, [])
        cls.uma = cls._employee("Uma UK Senior", cls.uk, cls.senior, [(D(2026, 1, 1), 70.0)])
        cls.sam = cls._employee("Sam US", cls.us, cls.senior, [(D(2026, 1, 1), 100.0)])
        cls.us_project = cls.env["project.project"].create(
            {"name": "US client project", "company_id": cls.us.id, "allow_timesheets": True}
        )
        cls.us_project_2 = cls.env["project.project"].create(
            {"name": "US second project", "company_id": cls.us.id, "allow_timesheets": True}
        )
        cls.eu_project = cls.env["project.project"].create(
            {"name": "EU rollout", "company_id": cls.eu.id, "allow_timesheets": True}
        )
        cls.uk_card = cls.env["ps.rate.card"].create(
            {
                "name": "UK transfer rates",
                "level": "company",
                "company_id": cls.uk.id,
                "currency_id": cls.gbp.id,
                "line_ids": [
                    Command.create({"job_id": cls.senior.id, "rate": 120.0}),
                    Command.create(
                        {"employee_id": cls.uma.id, "rate": 135.0, "date_from": D(2026, 3, 20)}
                    ),
                ],
            }
        )
        cls.eu_us = cls._agreement(
            cls.eu,
            cls.us,
            "EU-US",
            markup_percent=10.0,
            currency_id=cls.usd.id,
            markup_ids=[Command.create({"job_id": cls.analyst.id, "markup_percent": 7.5})],
        )
        cls.uk_us = cls._agreement(
            cls.uk,
            cls.us,
            "UK-US",
            pricing_method="rate_card",
            rate_card_id=cls.uk_card.id,
            currency_id=cls.gbp.id,
        )
        cls.us_eu = cls._agreement(
            cls.us, cls.eu, "US-EU", markup_percent=0.0, currency_id=cls.usd.id
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "ps_intercompany.group_company_id", cls.us.id
        )
        cls.controller = new_test_user(
            cls.env,
            login="ic_controller",
            groups="base.group_user,ps_intercompany.group_ic_user,account.group_account_manager,base.group_multi_company",
            company_id=cls.us.id,
            company_ids=[Command.set(cls.companies.ids)],
        )

    # ------------------------------------------------------------------------------------------

    @classmethod
    def _company(cls, name, currency, country):
        company = cls.env["res.company"].create(
            {"name": name, "currency_id": currency.id, "country_id": cls.env.ref(country).id}
        )
        cls.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        company.currency_id = currency
        return company

    @classmethod
    def _rate(cls, company, currency, rate):
        cls.env["res.currency.rate"].create(
            {
                "name": D(2026, 1, 1),
                "currency_id": currency.id,
                "company_id": company.id,
                "rate": rate,
            }
        )

    @classmethod
    def _ic_accounts(cls, company):
        Account = cls.env["account.account"].with_company(company)

        def account(code, name, kind, reconcile=False):
            return Account.create(
                {
                    "code": code,
                    "name": name,
                    "account_type": kind,
                    "reconcile": reconcile,
                    "company_ids": [Command.set(company.ids)],
                }
            )

        return {
            "revenue": account("700900", "IC revenue", "income"),
            "cost": account("600900", "IC cost", "expense"),
            "receivable": account("120900", "IC receivable", "asset_receivable", True),
            "payable": account("220900", "IC payable", "liability_payable", True),
            "other_expense": account("600901", "General expenses", "expense"),
        }

    @classmethod
    def _position(cls, company, tax, name):
        return cls.env["account.fiscal.position"].create(
            {
                "name": name,
                "company_id": company.id,
                "tax_ids": [Command.create({"tax_src_id": tax.id, "tax_dest_id": False})],
            }
        )

    @classmethod
    def _employee(cls, name, company, job, costs):
        employee = cls.env["hr.employee"].create(
            {"name": name, "company_id": company.id, "job_id": job.id, "hourly_cost": 0.0}
        )
        for day, cost in costs:
            cls.env["ps.cost.rate"].create(
                {
                    "employee_id": employee.id,
                    "company_id": company.id,
                    "date_from": day,
                    "cost": cost,
                }
            )
        return employee

    @classmethod
    def _agreement(cls, provider, receiver, name, **values):
        p, r = cls.accounts[provider], cls.accounts[receiver]
        return cls.env["ps.ic.agreement"].create(
            {
                "name": name,
                "provider_company_id": provider.id,
                "receiver_company_id": receiver.id,
                "date_from": D(2026, 1, 1),
                "product_id": cls.service.id,
                "expense_product_id": cls.expense_product.id,
                "revenue_account_id": p["revenue"].id,
                "receivable_account_id": p["receivable"].id,
                "cost_account_id": r["cost"].id,
                "payable_account_id": r["payable"].id,
                "provider_fiscal_position_id": cls.fp_sale[provider].id,
                "receiver_fiscal_position_id": cls.fp_purchase[receiver].id,
                **values,
            }
        )

    # ------------------------------------------------------------------------------------------

    def log(self, employee, project, hours, day, approved=True, **values):
        return self.env["account.analytic.line"].create(
            {
                "name": values.pop("name", f"{employee.name} {day}"),
                "employee_id": employee.id,
                "project_id": project.id,
                "unit_amount": hours,
                "date": day,
                "ps_approval_state": "approved" if approved else "draft",
                **values,
            }
        )

    def run_recharge(self, period=MARCH, companies=None, invoice_date=None):
        run = self.env["ps.ic.recharge.run"].create(
            {
                "name": "Test recharge",
                "date_from": period[0],
                "date_to": period[1],
                "invoice_date": invoice_date or period[1],
                "company_ids": [Command.set((companies or self.companies).ids)],
            }
        )
        run.action_run_now()
        return run

    def recharge_of(self, run, agreement):
        return run.recharge_ids.filtered(lambda r: r.agreement_id == agreement)

    def skipped(self, run, reason):
        return run.line_ids.filtered(
            lambda line: line.line_type == "skip" and line.reason == reason
        )

    def mirror(self, invoice):
        return self.env["account.move"].search([("auto_invoice_id", "=", invoice.id)])
