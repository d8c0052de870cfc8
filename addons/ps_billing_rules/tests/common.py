from datetime import date

from odoo import Command
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

    def fixed_fee(
        self,
        total,
        installments,
        start=date(2026, 9, 1),
        end=date(2026, 12, 31),
        order_values=None,
        **terms,
    ):
        """A confirmed fixed-fee contract of ``total`` with ``installments``: (name, date, %)."""
        return self.make_contract(
            [
                (
                    self.product_fixed,
                    1,
                    total,
                    "fixed_fee",
                    {
                        "ps_service_start": start,
                        "ps_service_end": end,
                        "ps_installment_ids": [
                            Command.create({"name": name, "date": day, "percentage": pct})
                            for name, day, pct in installments
                        ],
                        **terms,
                    },
                )
            ],
            **(order_values or {}),
        )

    def retainer(self, quantity=12, price=3000.0, order_values=None, **terms):
        """A confirmed monthly hours retainer from 1 September 2026 (20 h included, overage at
        180/h), ``quantity`` x ``price``."""
        values = {
            "ps_retainer_unit": "hours",
            "ps_retainer_included": 20,
            "ps_retainer_period": "monthly",
            "ps_retainer_start": date(2026, 9, 1),
            "ps_overage_rate": 180.0,
            **terms,
        }
        return self.make_contract(
            [(self.product_retainer, quantity, price, "retainer", values)], **(order_values or {})
        )

    # Odoo's own wizards, used the way a controller uses them ------------------------------

    def create_invoice_wizard(self, orders, **values):
        """Odoo's "Create Invoice" (sale.advance.payment.inv) on ``orders``; returns the
        invoices it created."""
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=orders.ids)
            .create({"advance_payment_method": "delivered", **values})
        )
        before = orders.invoice_ids
        wizard.create_invoices()
        return orders.invoice_ids - before

    def reverse(self, invoice, modify=False, **values):
        """Odoo's credit note wizard (account.move.reversal): "Reverse" (a draft credit note
        for the whole invoice) or, with ``modify``, "Reverse and create a new draft". Returns
        the credit note, or the new draft."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "controller test", **values})
        )
        if modify:
            wizard.modify_moves()
        else:
            wizard.refund_moves()
        return wizard.new_move_ids

    def partial_credit(self, invoice, amount, day=date(2026, 11, 5)):
        """A posted credit note of ``amount`` (untaxed) on ``invoice``, not tied to its lines."""
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goodwill",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.set(self.tax.ids)],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        return refund


class TimeAndMaterialsCase(BillingCase):
    """A confirmed time-and-materials contract (100 h at 150, PO-4711) of Initech."""

    def setUp(self):
        super().setUp()
        self.order = self.make_contract(
            [(self.product_tm, 100, 150.0, "tm", {})], client_order_ref="PO-4711"
        )
        self.line = self.order.order_line


class AccountingCase(BillingCase):
    """BillingCase with the recognition and WIP journal set, and balances per contract."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.company.ps_billing_journal_id = cls.journal
        cls.revenue = cls.product_fixed.categ_id.property_account_income_categ_id
        cls.Recognition = cls.env["ps.recognition.line"]

    def balance(self, account, up_to, order, currency=False):
        """Balance of ``account`` (company currency, or in the invoice currency with
        ``currency``) from ``order``'s invoices and recognition entries (demo data may post other
        contracts' entries on the same account)."""
        moves = order.invoice_ids | self.Recognition.search([("order_id", "=", order.id)]).move_id
        moves |= moves.reversal_move_ids
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", account.id),
                ("parent_state", "=", "posted"),
                ("date", "<=", up_to),
                ("move_id", "in", moves.ids),
            ]
        )
        return sum(lines.mapped("amount_currency" if currency else "balance"))

    def close(self, order, period_end):
        """Close the period for the company; keep what concerns ``order`` (demo data may hold
        other deferred contracts)."""
        created, messages = self.Recognition._close_period(self.company, period_end)
        return created.filtered(lambda rec: rec.order_id == order), messages
