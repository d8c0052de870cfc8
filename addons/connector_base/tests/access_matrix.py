"""Expected access of each group to each model and button of the suite (test_access_matrix.py).

Rights: r read, w write, c create, d delete; a group not listed has none ("----").
Buttons: the outcome per group, pressed on a record of the model (see the test); a group not
listed is "denied". "no record": the database holds no record to press it on (no demo data, no
fixture: connector_base's own in the test, or an addon's ``tests/access_fixtures.py``).
"""

# (key, group xmlid): a test user is made per group, with Internal User besides (not for portal).
GROUPS = [
    ("portal", "base.group_portal"),
    ("employee", "base.group_user"),
    ("connector_user", "connector_base.group_connector_user"),
    ("connector_manager", "connector_base.group_connector_manager"),
    ("billing_user", "ps_billing_rules.group_billing_user"),
    ("billing_manager", "ps_billing_rules.group_billing_manager"),
    ("salesman", "sales_team.group_sale_salesman"),
    ("project_user", "project.group_project_user"),
    ("settings_admin", "base.group_system"),
    ("ic_user", "ps_intercompany.group_ic_user"),
    ("ic_manager", "ps_intercompany.group_ic_manager"),
]
NO_RIGHTS = "----"
DENIED = "denied"
NO_RECORD = "no record"

EXPECTED_ACCESS = {
    "connector.audit.erasure.wizard": {"connector_manager": "rwcd"},
    "connector.audit.log": {"connector_user": "r---", "connector_manager": "r---"},
    "connector.backend": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.binding": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.crm.conflict": {"connector_user": "rw--", "connector_manager": "rw--"},
    "connector.crm.deal.version": {
        "connector_user": "r---",
        "connector_manager": "r---",
        "billing_user": "rw--",
        "billing_manager": "rw--",
        "salesman": "r---",
    },
    "connector.crm.field.rule": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.crm.mapping.import": {"connector_manager": "rwcd"},
    "connector.crm.product.map": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.crm.value.map": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.crm.version.reject": {"billing_manager": "rwcd"},
    "connector.job": {"connector_user": "r---", "connector_manager": "r---"},
    "connector.job.attempt": {"connector_user": "r---", "connector_manager": "r---"},
    "connector.job.lease": {},
    "connector.job.payload.wizard": {"connector_manager": "rwcd"},
    "connector.psa.category.map": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.psa.company.map": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.psa.correction": {
        "connector_user": "r---",
        "connector_manager": "r---",
        "billing_user": "r---",
        "billing_manager": "r---",
    },
    "connector.psa.correction.resolve": {"billing_user": "rwcd", "billing_manager": "rwcd"},
    "connector.psa.person": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.psa.rate.discrepancy": {"billing_user": "r---", "billing_manager": "r---"},
    "connector.psa.task.map": {"connector_user": "rwc-", "connector_manager": "rwcd"},
    "connector.secret": {},
    "connector.stream": {"connector_user": "r---", "connector_manager": "rwcd"},
    "connector.stream.reset.wizard": {"connector_manager": "rwcd"},
    "ps.billing.hold": {
        "billing_user": "rwc-",
        "billing_manager": "rwc-",
        "salesman": "r---",
        "project_user": "r---",
    },
    "ps.billing.installment": {
        "billing_user": "rwcd",
        "billing_manager": "rwcd",
        "salesman": "rwcd",
    },
    "ps.billing.run": {"billing_user": "rwc-", "billing_manager": "rwc-"},
    "ps.billing.run.line": {"billing_user": "r---", "billing_manager": "r---"},
    "ps.billing.run.wizard": {"billing_user": "rwcd", "billing_manager": "rwcd"},
    "ps.cost.rate": {"billing_user": "r---", "billing_manager": "rwcd"},
    "ps.ic.agreement": {"ic_user": "r---", "ic_manager": "rwcd"},
    "ps.ic.agreement.markup": {"ic_user": "r---", "ic_manager": "rwcd"},
    "ps.ic.elimination.report": {"ic_user": "r---", "ic_manager": "r---"},
    "ps.ic.netting": {"ic_user": "rwc-", "ic_manager": "rwc-"},
    "ps.ic.netting.line": {"ic_user": "r---", "ic_manager": "r---"},
    "ps.ic.netting.wizard": {"ic_user": "rwcd", "ic_manager": "rwcd"},
    # Invoicing users (billing groups) see which recharge an intercompany invoice belongs to.
    "ps.ic.recharge": {
        "billing_user": "r---",
        "billing_manager": "r---",
        "ic_user": "rw--",
        "ic_manager": "rw--",
    },
    "ps.ic.recharge.entry": {"ic_user": "r---", "ic_manager": "r---"},
    "ps.ic.recharge.line": {
        "billing_user": "r---",
        "billing_manager": "r---",
        "ic_user": "r---",
        "ic_manager": "r---",
    },
    "ps.ic.recharge.run": {"ic_user": "rwc-", "ic_manager": "rwcd"},
    "ps.ic.recharge.run.line": {"ic_user": "r---", "ic_manager": "r---"},
    "ps.ic.recharge.wizard": {"ic_user": "rwcd", "ic_manager": "rwcd"},
    "ps.ic.reconcile.wizard": {"ic_user": "rwcd", "ic_manager": "rwcd"},
    "ps.ic.reconciliation": {"ic_user": "rwc-", "ic_manager": "rwcd"},
    "ps.ic.reconciliation.line": {"ic_user": "rw--", "ic_manager": "rw--"},
    "ps.kpi.dashboard": {"billing_user": "rwcd", "billing_manager": "rwcd"},
    "ps.kpi.dashboard.line": {"billing_user": "rwcd", "billing_manager": "rwcd"},
    "ps.kpi.fact": {
        "billing_user": "r---",
        "billing_manager": "r---",
        "ic_user": "r---",
        "ic_manager": "r---",
    },
    "ps.period.close.wizard": {"billing_user": "r---", "billing_manager": "rwcd"},
    "ps.prebill": {"billing_user": "rwc-", "billing_manager": "rwc-"},
    "ps.prebill.line": {"billing_user": "rwcd", "billing_manager": "rwcd"},
    "ps.rate.card": {"billing_user": "r---", "billing_manager": "rwcd", "salesman": "r---"},
    "ps.rate.card.line": {"billing_user": "r---", "billing_manager": "rwcd", "salesman": "r---"},
    "ps.recognition.line": {"billing_user": "r---", "billing_manager": "rwc-"},
    "ps.retainer.ledger": {"billing_user": "r---", "billing_manager": "r---", "salesman": "r---"},
    "ps.retainer.period": {"billing_user": "rwc-", "billing_manager": "rwc-", "salesman": "r---"},
    "ps.wip.accrual": {"billing_user": "r---", "billing_manager": "rwc-"},
    "ps.wip.report": {"billing_user": "r---", "billing_manager": "r---"},
}

BUTTONS = {
    # Pressed on the demo's Globex time waiting for approval (ps_billing_rules' access
    # fixtures): Billing Managers approve any time; others only that of their own projects.
    ("account.analytic.line", "action_ps_approve"): {"billing_manager": "ok"},
    ("account.analytic.line", "action_ps_reset_to_draft"): {"billing_manager": "ok"},
    ("account.analytic.line", "action_ps_submit"): {"billing_manager": "ok"},
    ("connector.audit.erasure.wizard", "action_erase"): {"connector_manager": "ok"},
    ("connector.backend", "action_activate"): {"connector_manager": "ok"},
    ("connector.backend", "action_clear_secrets"): {"connector_manager": "ok"},
    ("connector.backend", "action_confirm_environment"): {"connector_manager": "ok"},
    ("connector.backend", "action_crm_connect"): {"connector_manager": "refused"},
    ("connector.backend", "action_crm_export_mappings"): {"connector_manager": "ok"},
    ("connector.backend", "action_crm_import_mappings"): {"connector_manager": "ok"},
    ("connector.backend", "action_crm_open_attention"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_crm_open_conflicts"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    # Engagements are sale orders: for users who may read both the backend and sale orders (the
    # matrix's connector groups have no Sales rights).
    ("connector.backend", "action_crm_open_engagements"): {},
    ("connector.backend", "action_open_failed_jobs"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_open_pending_jobs"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_open_streams"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_pause"): {"connector_manager": "ok"},
    ("connector.backend", "action_psa_connect"): {"connector_manager": "refused"},
    ("connector.backend", "action_psa_open_attention"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_psa_open_corrections"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_psa_open_lines"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_psa_open_people"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_psa_open_projects"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.backend", "action_psa_provision_all"): {"connector_manager": "ok"},
    ("connector.backend", "action_reset_health"): {"connector_manager": "ok"},
    ("connector.backend", "action_test_connection"): {"connector_manager": "ok"},
    ("connector.binding", "action_open_record"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.crm.conflict", "action_keep_odoo"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("connector.crm.conflict", "action_open_record"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    # Taking the CRM's value writes it on the Odoo record as the user: they need the right to
    # edit it (a contact here), which the matrix's connector groups do not have.
    ("connector.crm.conflict", "action_take_crm"): {},
    ("connector.crm.deal.version", "action_approve"): {"billing_manager": "ok"},
    ("connector.crm.deal.version", "action_mark_handled"): {"billing_manager": "ok"},
    ("connector.crm.deal.version", "action_reject"): {"billing_manager": "ok"},
    ("connector.crm.mapping.import", "action_import"): {"connector_manager": "ok"},
    ("connector.crm.version.reject", "action_reject"): {"billing_manager": "ok"},
    ("connector.job", "action_cancel"): {"connector_user": "ok", "connector_manager": "ok"},
    ("connector.job", "action_edit_payload"): {"connector_manager": "ok"},
    ("connector.job", "action_open_result"): {"connector_user": "ok", "connector_manager": "ok"},
    ("connector.job", "action_psa_open_person"): {
        "connector_user": "refused",
        "connector_manager": "refused",
    },
    ("connector.job", "action_retry"): {"connector_user": "ok", "connector_manager": "ok"},
    ("connector.job.payload.wizard", "action_save_and_retry"): {"connector_manager": "ok"},
    ("connector.psa.correction", "action_open_invoice"): NO_RECORD,
    ("connector.psa.correction", "action_resolve"): NO_RECORD,
    ("connector.psa.correction.resolve", "action_confirm"): NO_RECORD,
    ("connector.psa.person", "action_create_employee"): NO_RECORD,
    ("connector.psa.person", "action_link"): NO_RECORD,
    ("connector.psa.person", "action_retry_waiting"): NO_RECORD,
    ("connector.psa.person", "action_unlink_employee"): NO_RECORD,
    ("connector.stream", "action_pull_now"): {"connector_manager": "ok"},
    ("connector.stream", "action_reset_cursor"): {"connector_manager": "ok"},
    ("connector.stream.reset.wizard", "action_reset"): {"connector_manager": "ok"},
    ("hr.employee", "action_view_connector_bindings"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("ps.billing.hold", "action_release"): {"billing_user": "ok", "billing_manager": "ok"},
    # ps_intercompany: the matrix users work in the main company (US); the demo records pressed
    # are the first of each model: what the US may see and do on them ("denied": a document or
    # ledger of the EU or UK, the other side of the pair).
    ("ps.ic.agreement", "action_view_recharges"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.netting", "action_cancel"): {"ic_user": "refused", "ic_manager": "refused"},
    ("ps.ic.netting", "action_post"): {},
    ("ps.ic.netting.wizard", "action_propose"): NO_RECORD,
    ("ps.ic.recharge", "action_post"): {},
    ("ps.ic.recharge", "action_recharge_again"): {},
    ("ps.ic.recharge", "action_view_bill"): {
        "billing_user": "ok",
        "billing_manager": "ok",
        "ic_user": "ok",
        "ic_manager": "ok",
    },
    ("ps.ic.recharge", "action_view_invoice"): {},
    ("ps.ic.recharge.entry", "action_open_item"): {},
    ("ps.ic.recharge.line", "action_view_items"): {
        "billing_user": "ok",
        "billing_manager": "ok",
        "ic_user": "ok",
        "ic_manager": "ok",
    },
    ("ps.ic.recharge.run", "action_open_reconciliation"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.recharge.run", "action_post_invoices"): {
        "ic_user": "refused",
        "ic_manager": "refused",
    },
    ("ps.ic.recharge.run", "action_start"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.recharge.run", "action_view_invoices"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.recharge.wizard", "action_start"): NO_RECORD,
    ("ps.ic.reconcile.wizard", "action_reconcile"): NO_RECORD,
    ("ps.ic.reconciliation", "action_propose_netting"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.reconciliation", "action_refresh"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.reconciliation", "action_view_differences"): {"ic_user": "ok", "ic_manager": "ok"},
    ("ps.ic.reconciliation.line", "action_open_provider_move"): {
        "ic_user": "ok",
        "ic_manager": "ok",
    },
    ("ps.ic.reconciliation.line", "action_open_receiver_move"): {},
    ("ps.billing.run", "action_start"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.billing.run", "action_view_invoices"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.billing.run.wizard", "action_start"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.kpi.dashboard", "action_compute"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.kpi.fact", "action_refresh"): {
        "billing_user": "ok",
        "billing_manager": "ok",
        "ic_user": "ok",
        "ic_manager": "ok",
    },
    ("ps.period.close.wizard", "action_close"): {"billing_manager": "ok"},
    ("ps.prebill", "action_generate_invoice"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.prebill", "action_refresh"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.prebill", "action_save_decisions"): {"billing_user": "ok", "billing_manager": "ok"},
    ("ps.rate.card", "action_rerate_unbilled"): {"billing_manager": "ok"},
    ("project.project", "action_view_connector_bindings"): {
        "connector_user": "ok",
        "connector_manager": "ok",
    },
    ("res.config.settings", "action_connector_rotate_encryption"): {"connector_manager": "ok"},
    ("sale.order", "action_crm_mark_reviewed"): {"billing_user": "ok", "billing_manager": "ok"},
    ("sale.order", "action_crm_view_versions"): {"billing_user": "ok", "billing_manager": "ok"},
    # Connector Users who also read the contract (no single group of the matrix does both).
    ("sale.order", "action_psa_provision"): {},
    ("sale.order", "action_ps_open_prebill"): {
        "billing_user": "refused",
        "billing_manager": "refused",
        "ic_user": "refused",
        "ic_manager": "refused",
    },
    ("sale.order", "action_ps_place_hold"): {
        "billing_user": "ok",
        "billing_manager": "ok",
        "ic_user": "ok",
        "ic_manager": "ok",
    },
    ("sale.order", "action_ps_rerate_unbilled"): {"billing_manager": "ok"},
}
