from datetime import date

from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user


class BillingCase(TransactionCase):
    """A consultancy: three roles with company rates, a customer, service products for every
    billing model, and helpers to sign contracts and log approved time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        # The company's own sale tax: 15 %, with its tax account (a tax without one would post
        # its amount on the revenue line's account, deferred revenue included).
        cls.tax = cls.company.account_sale_tax_id
        assert cls.tax.amount == 15.0, "the tests expect the generic chart's 15 % sale tax"
        cls.deferred_account = cls.env["account.account"].create(
            {
                "name": "Deferred revenue (test)",
                "code": "299001",
                "account_type": "liability_current",
            }
        )
        cls.company.ps_deferred_revenue_account_id = cls.deferred_account
        cls.uom_hour = cls.env.ref("uom.product_uom_hour")
        cls.uom_unit = cls.env.ref("uom.product_uom_unit")

        def service(
            name, invoice_policy, service_type, tracking="project_only", price=100.0, uom=None
        ):
            return cls.env["product.product"].create(
                {
                    "name": name,
                    "type": "service",
                    "invoice_policy": invoice_policy,
                    "service_type": service_type,
                    "service_tracking": tracking,
                    "list_price": price,
                    "uom_id": (uom or cls.uom_hour).id,
                    "uom_po_id": (uom or cls.uom_hour).id,
                    "taxes_id": [Command.set(cls.tax.ids)],
                }
            )

        cls.product_tm = service("Consulting (T&M)", "delivery", "timesheet")
        cls.product_fixed = service(
            "Implementation (fixed fee)", "order", "manual", uom=cls.uom_unit
        )
        cls.product_milestone = service(
            "Rollout (milestones)", "delivery", "milestones", uom=cls.uom_unit
        )
        cls.product_retainer = service("Support retainer", "order", "timesheet", uom=cls.uom_unit)

        cls.job_partner = cls.env["hr.job"].create({"name": "Partner"})
        cls.job_senior = cls.env["hr.job"].create({"name": "Senior Consultant"})
        cls.job_analyst = cls.env["hr.job"].create({"name": "Analyst"})
        cls.ada = cls.env["hr.employee"].create(
            {"name": "Ada Partner", "job_id": cls.job_partner.id, "hourly_cost": 90}
        )
        cls.ben = cls.env["hr.employee"].create(
            {"name": "Ben Senior", "job_id": cls.job_senior.id, "hourly_cost": 60}
        )
        cls.cleo = cls.env["hr.employee"].create(
            {"name": "Cleo Analyst", "job_id": cls.job_analyst.id, "hourly_cost": 35}
        )

        cls.company_card = cls.env["ps.rate.card"].create(
            {
                "name": "Standard 2026",
                "level": "company",
                "currency_id": cls.currency.id,
                "line_ids": [
                    Command.create({"job_id": cls.job_partner.id, "rate": 300.0}),
                    Command.create({"job_id": cls.job_senior.id, "rate": 200.0}),
                    Command.create({"job_id": cls.job_analyst.id, "rate": 120.0}),
                ],
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "Initech", "is_company": True})
        cls.billing_user = new_test_user(
            cls.env,
            login="billing_user",
            groups="base.group_user,ps_billing_rules.group_billing_user",
        )
        cls.billing_manager = new_test_user(
            cls.env,
            login="billing_manager",
            groups="base.group_user,ps_billing_rules.group_billing_manager",
        )

    # ------------------------------------------------------------------------------------------

    def make_contract(self, lines, partner=None, **values):
        """A confirmed contract; ``lines``: (product, quantity, price, billing model, extra values)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                            "ps_billing_model": model,
                            **(extra or {}),
                        }
                    )
                    for product, qty, price, model, extra in lines
                ],
                **values,
            }
        )
        order.action_confirm()
        return order

    def log(self, employee, hours, day, sale_line, approved=True, **values):
        project = sale_line.order_id.project_id or sale_line.project_id
        line = self.env["account.analytic.line"].create(
            {
                "name": values.pop("name", f"Work {day}"),
                "employee_id": employee.id,
                "unit_amount": hours,
                "date": day,
                "project_id": project.id,
                "so_line": sale_line.id,
                **values,
            }
        )
        if approved:
            line.action_ps_approve()
        return line

    def bill(self, orders, period_end, invoice_date=None, respect_cycle=True):
        run = self.env["ps.billing.run"].create(
            {
                "name": "Test run",
                "period_end": period_end,
                "invoice_date": invoice_date or period_end,
                "respect_cycle": respect_cycle,
                "order_ids": [Command.set(orders.ids)],
            }
        )
        run.action_run_now()
        return run

    def skipped(self, run, reason=None):
        lines = run.line_ids.filtered(lambda line: line.line_type == "skip")
        return lines.filtered(lambda line: line.reason == reason) if reason else lines


D = date
TODAY = fields.Date.today
