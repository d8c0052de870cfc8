"""Demo data of a small consultancy, dated relative to today so that a fresh demo database always
has work to review and bill: a T&M contract, a fixed-fee implementation with milestones and
installments, a support retainer, approved (and some submitted) time of three roles."""

from datetime import timedelta

from odoo import Command, api, fields, models

from ..engine import periods
from ..engine.constants import FIXED_FEE, MILESTONE, RETAINER, TM


class PsBillingDemo(models.AbstractModel):
    _name = "ps.billing.demo"
    _description = "Billing demo data"

    @api.model
    def _populate(self):
        env = self.env
        company = env.company
        ref = env.ref
        today = fields.Date.context_today(self)
        last_month_end = periods.month_start(today) - timedelta(days=1)
        last_month_start = periods.month_start(last_month_end)
        self._configure_accounting(company)

        tm_product = ref("ps_billing_rules.product_demo_consulting")
        fixed_product = ref("ps_billing_rules.product_demo_implementation")
        milestone_product = ref("ps_billing_rules.product_demo_rollout")
        retainer_product = ref("ps_billing_rules.product_demo_support")
        ada = ref("ps_billing_rules.employee_demo_partner")
        ben = ref("ps_billing_rules.employee_demo_senior")
        cleo = ref("ps_billing_rules.employee_demo_analyst")

        def contract(partner, lines, **values):
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": p.id,
                                "product_uom_qty": q,
                                "price_unit": price,
                                "ps_billing_model": model,
                                **extra,
                            }
                        )
                        for p, q, price, model, extra in lines
                    ],
                    **values,
                }
            )
            order.action_confirm()
            return order

        def log(employee, hours, day, line, name, approve=True, task=None):
            timesheet = env["account.analytic.line"].create(
                {
                    "name": name,
                    "employee_id": employee.id,
                    "unit_amount": hours,
                    "date": day,
                    "project_id": line.order_id.project_id.id,
                    "task_id": task.id if task else False,
                    "so_line": line.id,
                }
            )
            if approve:
                timesheet.action_ps_approve()
            else:
                timesheet.action_ps_submit()
            return timesheet

        # 1. Time and materials: a data-platform assessment for Globex, billed monthly.
        globex = ref("ps_billing_rules.partner_demo_globex")
        assessment = contract(
            globex,
            [(tm_product, 200, 180.0, TM, {})],
            name="Demo: Globex data-platform assessment (T&M)",
            client_order_ref="GLX-PO-2026-118",
            ps_cap_amount=30000.0,
            ps_timesheet_detail=True,
        )
        line = assessment.order_line
        work = [
            (ada, 2.0, "Kick-off with the CIO"),
            (ben, 7.5, "Current-state interviews"),
            (cleo, 8.0, "Data inventory"),
            (ben, 6.0, "Architecture review"),
            (cleo, 7.0, "Source system profiling"),
            (ada, 1.5, "Steering committee"),
            (ben, 8.0, "Target architecture"),
            (cleo, 6.5, "Data quality findings"),
        ]
        for index, (employee, hours, what) in enumerate(work):
            log(employee, hours, last_month_start + timedelta(days=2 + 3 * index), line, what)
        log(cleo, 4.0, today - timedelta(days=2), line, "Roadmap draft", approve=False)

        # 2. Fixed fee with installments and milestones: an ERP implementation for Initrode.
        initrode = ref("ps_billing_rules.partner_demo_initrode")
        service_start = last_month_start - timedelta(days=31)
        implementation = contract(
            initrode,
            [
                (
                    fixed_product,
                    1,
                    48000.0,
                    FIXED_FEE,
                    {
                        "ps_service_start": service_start,
                        "ps_service_end": service_start + timedelta(days=180),
                        "ps_installment_ids": [
                            Command.create(
                                {"name": "Signature", "date": service_start, "percentage": 30}
                            ),
                            Command.create(
                                {
                                    "name": "Design sign-off",
                                    "date": service_start + timedelta(days=60),
                                    "percentage": 30,
                                }
                            ),
                            Command.create(
                                {
                                    "name": "Go-live",
                                    "date": service_start + timedelta(days=150),
                                    "percentage": 40,
                                }
                            ),
                        ],
                    },
                ),
                (milestone_product, 1, 24000.0, MILESTONE, {}),
            ],
            name="Demo: Initrode ERP implementation (fixed fee, milestones)",
            client_order_ref="INI-7731",
        )
        rollout = implementation.order_line.filtered(lambda sol: sol.ps_billing_model == MILESTONE)
        project = implementation.project_id
        project.milestone_ids.filtered(lambda m: m.sale_line_id == rollout).unlink()
        design, _pilot, _go_live = env["project.milestone"].create(
            [
                {
                    "name": "Design approved",
                    "project_id": project.id,
                    "sale_line_id": rollout.id,
                    "quantity_percentage": 0.3,
                },
                {
                    "name": "Pilot site live",
                    "project_id": project.id,
                    "sale_line_id": rollout.id,
                    "quantity_percentage": 0.3,
                },
                {
                    "name": "All sites live",
                    "project_id": project.id,
                    "sale_line_id": rollout.id,
                    "quantity_percentage": 0.4,
                },
            ]
        )
        design.write({"is_reached": True})
        design.reached_date = last_month_start + timedelta(days=20)
        fixed_line = implementation.order_line.filtered(
            lambda sol: sol.ps_billing_model == FIXED_FEE
        )
        fixed_line.ps_budget_hours = 320
        for index in range(6):
            log(
                ben,
                6.0,
                last_month_start + timedelta(days=1 + 4 * index),
                fixed_line,
                "Configuration",
            )

        # 3. A support retainer for Umbrella: 20 h a month, overage at 170/h, capped rollover.
        umbrella = ref("ps_billing_rules.partner_demo_umbrella")
        support = contract(
            umbrella,
            [
                (
                    retainer_product,
                    12,
                    3200.0,
                    RETAINER,
                    {
                        "ps_retainer_included": 20,
                        "ps_retainer_start": last_month_start,
                        "ps_overage_rate": 170.0,
                        "ps_rollover_rule": "capped",
                        "ps_rollover_cap": 10,
                    },
                )
            ],
            name="Demo: Umbrella managed support (retainer, 12 months)",
        )
        support_line = support.order_line
        for index, hours in enumerate((4.0, 6.5, 5.0, 3.0, 7.5)):
            log(
                cleo if index % 2 else ben,
                hours,
                last_month_start + timedelta(days=3 + 5 * index),
                support_line,
                "Support tickets",
            )

        # Disputed work on the Globex assessment: held, the review and the run say why.
        disputed = env["project.task"].create(
            {"name": "Change request CR-12 (disputed)", "project_id": assessment.project_id.id}
        )
        log(
            cleo,
            4.0,
            last_month_start + timedelta(days=25),
            line,
            "CR-12 data mapping",
            task=disputed,
        )
        env["ps.billing.hold"].create(
            {
                "scope": "task",
                "task_id": disputed.id,
                "reason": "Customer disputes the scope of CR-12: hold until the steering committee decides.",
            }
        )

    @api.model
    def _configure_accounting(self, company):
        """Deferred revenue, WIP accounts and the journal of recognition entries."""
        if not company.chart_template:
            return
        Account = self.env["account.account"]

        def account(code, name, account_type):
            return Account.search([("code", "=", code)], limit=1) or Account.create(
                {"code": code, "name": name, "account_type": account_type}
            )

        company.write(
            {
                "ps_deferred_revenue_account_id": account(
                    "253100", "Deferred services revenue", "liability_current"
                ).id,
                "ps_unbilled_receivable_account_id": account(
                    "121900", "Unbilled receivables (WIP)", "asset_current"
                ).id,
                "ps_wip_revenue_account_id": account(
                    "400900", "Accrued services revenue", "income"
                ).id,
                "ps_billing_journal_id": self.env["account.journal"]
                .search([("type", "=", "general"), ("company_id", "=", company.id)], limit=1)
                .id,
                "ps_wip_accrual": True,
            }
        )
