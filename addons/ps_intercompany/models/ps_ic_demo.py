"""Demo of the group's intercompany recharges on ps_billing_rules' three legal entities (Acme
Consulting US/USD, EU/EUR, UK/GBP): consultants of the EU and the UK work on a US client project
for a month (and a US consultant on an EU project), last month is recharged and mirrored, the
US revalues its GBP payable to the UK (the one difference of the reconciliation to explain), and
the EU and the US net their mutual balances. Dates are relative to the day the demo is loaded."""

from datetime import timedelta

from odoo import Command, api, fields, models

from ..engine import periods

MODULE = "ps_intercompany"
BILLING = "ps_billing_rules"
# code -> (IC revenue, IC cost, IC receivable, IC payable) account codes of the generic chart
ACCOUNT_CODES = ("401000", "601000", "121500", "211500")


class PsIcDemo(models.AbstractModel):
    _name = "ps.ic.demo"
    _description = "Intercompany demo data"

    @api.model
    def _setup(self):
        companies = {
            code: self.env.ref(f"{BILLING}.demo_company_{code}", raise_if_not_found=False)
            for code in ("us", "eu", "uk")
        }
        if not all(companies.values()) or self.env.ref(f"{MODULE}.demo_recharge_run", False):
            return False
        self = self.with_context(
            tracking_disable=True,
            mail_notrack=True,
            allowed_company_ids=[c.id for c in companies.values()],
            ps_ic_no_commit=True,  # loaded inside the module installation: no partial commit
        )
        us, eu, uk = companies["us"], companies["eu"], companies["uk"]
        self.env["ir.config_parameter"].sudo().set_param("ps_intercompany.group_company_id", us.id)
        accounts = {code: self._accounts(company) for code, company in companies.items()}
        products = self._products(companies.values())
        purchase_positions = {
            "us": self._purchase_position(us, "Intercompany services received (no US tax)"),
            "uk": self._purchase_position(uk, "Services from abroad (outside the scope of UK VAT)"),
            "eu": self._reverse_charge_position(eu),
        }
        today = fields.Date.context_today(self)
        month_from, month_to = periods.last_closed_period(today)
        valid_from = periods.month_start(month_from - timedelta(days=330))
        senior, analyst = self._job("Senior Consultant"), self._job("Analyst")
        staff = {
            "elena": self._employee("Elena Fischer", eu, senior, 85.0, valid_from),
            "jonas": self._employee("Jonas Weber", eu, analyst, 55.0, valid_from),
            "oliver": self._employee("Oliver Hughes", uk, senior, 70.0, valid_from),
            "maya": self._employee("Maya Brooks", us, senior, 95.0, valid_from),
        }
        projects = {
            "us": self._project("Globex data platform (US)", us, "demo_project_us"),
            "eu": self._project("Initech rollout (EU)", eu, "demo_project_eu"),
        }
        uk_card = self.env["ps.rate.card"].create(
            {
                "name": "UK transfer rates",
                "level": "company",
                "company_id": uk.id,
                "currency_id": uk.currency_id.id,
                "line_ids": [
                    Command.create({"job_id": senior.id, "rate": 140.0}),
                    Command.create({"job_id": analyst.id, "rate": 90.0}),
                ],
            }
        )
        usd = us.currency_id

        def agreement(xmlid, name, provider, receiver, **values):
            p, r = accounts[provider], accounts[receiver]
            record = self.env["ps.ic.agreement"].create(
                {
                    "name": name,
                    "provider_company_id": companies[provider].id,
                    "receiver_company_id": companies[receiver].id,
                    "date_from": valid_from,
                    "product_id": products["service"].id,
                    "expense_product_id": products["expense"].id,
                    "revenue_account_id": p["revenue"].id,
                    "receivable_account_id": p["receivable"].id,
                    "cost_account_id": r["cost"].id,
                    "payable_account_id": r["payable"].id,
                    "provider_fiscal_position_id": self.env.ref(
                        f"{BILLING}.demo_fiscal_position_b2b_{provider}"
                    ).id,
                    "receiver_fiscal_position_id": purchase_positions[receiver].id,
                    **values,
                }
            )
            self._xmlid(xmlid, record)
            return record

        agreement(
            "demo_agreement_eu_us",
            "EU → US consulting (cost plus)",
            "eu",
            "us",
            markup_percent=8.0,
            currency_id=usd.id,
            markup_ids=[Command.create({"job_id": analyst.id, "markup_percent": 5.0})],
        )
        agreement(
            "demo_agreement_uk_us",
            "UK → US consulting (transfer rates)",
            "uk",
            "us",
            pricing_method="rate_card",
            rate_card_id=uk_card.id,
            currency_id=uk.currency_id.id,
        )
        agreement(
            "demo_agreement_us_eu",
            "US → EU consulting (at cost, services cost method)",
            "us",
            "eu",
            markup_percent=0.0,
            currency_id=usd.id,
        )
        self._timesheets(staff, projects, month_from, month_to)
        self._expense(staff["elena"], eu, projects["us"], month_from + timedelta(days=9))
        run = self.env["ps.ic.recharge.run"].create(
            {
                "name": "Demo: last month's recharge",
                "date_from": month_from,
                "date_to": month_to,
                "invoice_date": month_to,
            }
        )
        run.action_run_now()
        run.action_post_invoices()
        self._xmlid("demo_recharge_run", run)
        self._revaluation(us, uk, accounts["us"], month_to)
        netting = self.env["ps.ic.netting"]._propose(eu, us, usd, month_to)
        netting.action_post()
        self._xmlid("demo_netting_eu_us", netting)
        self.env["ps.ic.reconciliation"]._reconcile_period(month_from, month_to)
        self.env["ps.kpi.fact"]._refresh(month_from, month_to)
        self._controller(companies.values())
        return True

    # ------------------------------------------------------------------------------------------

    @api.model
    def _xmlid(self, name, record):
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": f"{MODULE}.{name}", "record": record, "noupdate": True}]
        )

    @api.model
    def _accounts(self, company):
        Account = self.env["account.account"].with_company(company)
        result = {}
        for key, code, name, kind in zip(
            ("revenue", "cost", "receivable", "payable"),
            ACCOUNT_CODES,
            (
                "Intercompany revenue",
                "Intercompany cost",
                "Intercompany receivable",
                "Intercompany payable",
            ),
            ("income", "expense", "asset_receivable", "liability_payable"),
            strict=True,
        ):
            result[key] = Account.search(
                [("code", "=", code), ("company_ids", "in", company.id)], limit=1
            ) or Account.create(
                {
                    "code": code,
                    "name": name,
                    "account_type": kind,
                    "reconcile": kind in ("asset_receivable", "liability_payable"),
                    "company_ids": [Command.set(company.ids)],
                }
            )
        return result

    @api.model
    def _products(self, companies):
        sale = self.env["account.tax"].browse(
            [c.account_sale_tax_id.id for c in companies if c.account_sale_tax_id]
        )
        purchase = self.env["account.tax"].browse(
            [c.account_purchase_tax_id.id for c in companies if c.account_purchase_tax_id]
        )
        hour, unit = self.env.ref("uom.product_uom_hour"), self.env.ref("uom.product_uom_unit")
        products = {}
        for key, name, uom in (
            ("service", "Intercompany consulting services", hour),
            ("expense", "Intercompany expenses (at cost)", unit),
        ):
            products[key] = self.env["product.product"].create(
                {
                    "name": name,
                    "type": "service",
                    "company_id": False,
                    "sale_ok": True,
                    "purchase_ok": True,
                    "uom_id": uom.id,
                    "uom_po_id": uom.id,
                    "taxes_id": [Command.set(sale.ids)],
                    "supplier_taxes_id": [Command.set(purchase.ids)],
                }
            )
            self._xmlid(f"demo_product_{key}", products[key])
        return products

    @api.model
    def _purchase_position(self, company, name):
        tax = company.account_purchase_tax_id
        return self.env["account.fiscal.position"].create(
            {
                "name": name,
                "company_id": company.id,
                "tax_ids": [Command.create({"tax_src_id": tax.id, "tax_dest_id": False})]
                if tax
                else [],
            }
        )

    @api.model
    def _reverse_charge_position(self, company):
        """EU: services bought from abroad are reverse charged: 19 % due and deducted at once."""
        tax = company.account_purchase_tax_id
        Account = self.env["account.account"].with_company(company)
        due = Account.search([("code", "=", "251000"), ("company_ids", "in", company.id)], limit=1)
        deductible = Account.search(
            [("code", "=", "131000"), ("company_ids", "in", company.id)], limit=1
        )

        def repartition():
            return [
                Command.create({"repartition_type": "base"}),
                Command.create(
                    {"repartition_type": "tax", "factor_percent": 100, "account_id": deductible.id}
                ),
                Command.create(
                    {"repartition_type": "tax", "factor_percent": -100, "account_id": due.id}
                ),
            ]

        reverse_charge = self.env["account.tax"].create(
            {
                "name": "Reverse charge 19% (services from abroad)",
                "amount": 19.0,
                "type_tax_use": "purchase",
                "company_id": company.id,
                "tax_group_id": tax.tax_group_id.id,
                "invoice_repartition_line_ids": repartition(),
                "refund_repartition_line_ids": repartition(),
            }
        )
        return self.env["account.fiscal.position"].create(
            {
                "name": "Services from abroad (reverse charge)",
                "company_id": company.id,
                "note": "Reverse charge: VAT accounted for by the recipient (Art. 196 Directive 2006/112/EC).",
                "tax_ids": [
                    Command.create({"tax_src_id": tax.id, "tax_dest_id": reverse_charge.id})
                ]
                if tax
                else [],
            }
        )

    @api.model
    def _job(self, name):
        return self.env["hr.job"].search([("name", "=", name)], limit=1) or self.env[
            "hr.job"
        ].create({"name": name})

    @api.model
    def _employee(self, name, company, job, cost, since):
        employee = self.env["hr.employee"].create(
            {"name": name, "company_id": company.id, "job_id": job.id, "hourly_cost": cost}
        )
        self.env["ps.cost.rate"].create(
            {"employee_id": employee.id, "company_id": company.id, "date_from": since, "cost": cost}
        )
        self._xmlid(f"demo_employee_{name.split()[0].lower()}", employee)
        return employee

    @api.model
    def _project(self, name, company, xmlid):
        project = self.env["project.project"].create(
            {"name": name, "company_id": company.id, "allow_timesheets": True}
        )
        self._xmlid(xmlid, project)
        return project

    @api.model
    def _timesheets(self, staff, projects, month_from, month_to):
        # (employee, project, hours, weekdays)
        plan = (
            ("elena", "us", 6.0, (0, 1, 2, 3, 4)),
            ("jonas", "us", 4.0, (0, 1, 2, 3)),
            ("oliver", "us", 5.0, (1, 3)),
            ("maya", "eu", 3.0, (0, 2, 4)),
        )
        values, day = [], month_from
        while day <= month_to:
            for who, where, hours, weekdays in plan:
                if day.weekday() in weekdays:
                    values.append(
                        {
                            "name": f"{projects[where].name}: delivery",
                            "employee_id": staff[who].id,
                            "project_id": projects[where].id,
                            "unit_amount": hours,
                            "date": day,
                            "ps_approval_state": "approved",
                        }
                    )
            day += timedelta(days=1)
        self.env["account.analytic.line"].create(values)

    @api.model
    def _expense(self, employee, company, project, day):
        product = self.env["product.product"].search([("can_be_expensed", "=", True)], limit=1)
        if not product:
            return
        Expense = self.env["hr.expense"].with_company(company)
        expense = Expense.create(
            {
                "name": "Hotel, client workshop in New York",
                "employee_id": employee.id,
                "company_id": company.id,
                "product_id": product.id,
                "total_amount_currency": 420.0,
                "tax_ids": [Command.clear()],
                "date": day,
                "ps_ic_project_id": project.id,
            }
        )
        sheet = (
            self.env["hr.expense.sheet"]
            .with_company(company)
            .create(
                {
                    "name": "Client workshop, New York",
                    "employee_id": employee.id,
                    "company_id": company.id,
                    "expense_line_ids": [Command.set(expense.ids)],
                }
            )
        )
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()

    @api.model
    def _revaluation(self, company, other, accounts, day):
        """Month-end revaluation of the US payable in GBP, in the US books only: the difference
        a controller explains in the reconciliation."""
        exchange_journal = company.currency_exchange_journal_id
        loss = company.expense_currency_exchange_account_id
        if not exchange_journal or not loss:
            return
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "date": day,
                    "journal_id": exchange_journal.id,
                    "ref": "Month-end revaluation of the GBP payable to Acme Consulting UK",
                    "line_ids": [
                        Command.create(
                            {
                                "name": "Revaluation of the GBP payable",
                                "account_id": accounts["payable"].id,
                                "partner_id": other.partner_id.id,
                                "currency_id": other.currency_id.id,
                                "amount_currency": 0.0,
                                "balance": -18.60,
                            }
                        ),
                        Command.create(
                            {"name": "Exchange loss", "account_id": loss.id, "balance": 18.60}
                        ),
                    ],
                }
            )
        )
        move.action_post()

    @api.model
    def _controller(self, companies):
        user = self.env["res.users"].create(
            {
                "name": "Claire Controller",
                "login": "controller",
                "email": "controller@acme-consulting.example.com",
                "password": "controller",
                "company_id": self.env.ref(f"{BILLING}.demo_company_us").id,
                "company_ids": [Command.set([c.id for c in companies])],
                "groups_id": [
                    Command.link(self.env.ref("ps_intercompany.group_ic_user").id),
                    Command.link(self.env.ref("account.group_account_manager").id),
                    Command.link(self.env.ref("hr_timesheet.group_hr_timesheet_approver").id),
                    Command.link(self.env.ref("base.group_multi_company").id),
                ],
            }
        )
        self._xmlid("user_demo_controller", user)
