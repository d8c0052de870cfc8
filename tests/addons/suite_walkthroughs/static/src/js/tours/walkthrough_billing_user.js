/** @odoo-module */

import { registry } from "@web/core/registry";
import { openMenu, screenshot, search } from "./walkthrough_steps";

// README, "Billing user": exactly the clicks the walkthrough describes, on the demo data.
registry.category("web_tour.tours").add("walkthrough_billing_user", {
    steps: () => [
        // 1. The Globex contract's pre-bill review: held CR-12 hours, a write-down, the draft.
        ...openMenu("Sales", "Orders", "Orders"),
        ...search("Demo"),
        {
            content: "Open the Globex contract",
            trigger: ".o_data_row:contains('Globex') td[name='name']",
            run: "click",
        },
        {
            content: "Pre-bill review",
            trigger: ".o_form_view button[name='action_ps_open_prebill']",
            run: "click",
        },
        {
            content: "Chloe's CR-12 hours are held, with the hold's reason",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('Chloe'):contains('Held')",
        },
        {
            content: "This month's line waiting for approval is not billable yet",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('Not billa')",
        },
        screenshot("billing-user-prebill-review"),
        {
            content: "Type a lower amount on a billable line",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('Benedict'):contains('7.50') td[name='adjusted_amount']",
            run: "click",
        },
        {
            content: "The amount",
            trigger: ".o_field_one2many[name='line_ids'] .o_selected_row td[name='adjusted_amount'] input",
            run: "edit 1000",
        },
        {
            content: "The reason",
            trigger: ".o_field_one2many[name='line_ids'] .o_selected_row td[name='reason'] input",
            run: "edit Scope overrun agreed with the customer",
        },
        {
            content: "Generate draft invoice",
            trigger: ".o_form_view button[name='action_generate_invoice']",
            run: "click",
        },
        {
            content: "The draft invoice opens",
            trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Draft')",
        },
        {
            content: "It carries the amount typed",
            trigger: ".o_form_view .o_field_one2many[name='invoice_line_ids'] .o_data_row:contains('1,000.00')",
        },
        screenshot("billing-user-draft-invoice"),

        // 2. A billing run in this window.
        ...openMenu("Invoicing", "Service Billing", "Run billing"),
        {
            content: "Tick Run in this window",
            trigger: ".modal .o_field_widget[name='run_now'] input",
            run: "click",
        },
        screenshot("billing-user-run-billing", ".modal .o_field_widget[name='run_now'] input:checked"),
        {
            content: "Run billing",
            trigger: ".modal button[name='action_start']",
            run: "click",
        },
        {
            content: "The report lists Initrode's draft invoice",
            trigger: ".o_form_view:contains('Initrode')",
            timeout: 30000,
        },
        {
            content: "and the held hours, left out with their reason",
            trigger: ".o_form_view:contains('CR-12')",
        },
        screenshot("billing-user-run-report"),

        // 3. Umbrella's first billing waits in the pre-bill review.
        ...openMenu("Sales", "Orders", "Orders"),
        ...search("Demo"),
        {
            content: "Open the Umbrella contract",
            trigger: ".o_data_row:contains('Umbrella') td[name='name']",
            run: "click",
        },
        {
            content: "Pre-bill review",
            trigger: ".o_form_view button[name='action_ps_open_prebill']",
            run: "click",
        },
        {
            content: "The overage of last month is listed",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('verage')",
        },
        screenshot("billing-user-retainer-review"),
        {
            content: "Generate draft invoice",
            trigger: ".o_form_view button[name='action_generate_invoice']",
            run: "click",
        },
        {
            content: "The draft invoice opens",
            trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Draft')",
        },

        // 4. The drafts, among the customer invoices.
        ...openMenu("Invoicing", "Customers", "Invoices"),
        {
            content: "The drafts are listed",
            trigger: ".o_data_row:contains('Umbrella'):contains('Draft')",
        },
        screenshot("billing-user-invoices"),

        // 5. Work in progress and the KPI dashboard.
        ...openMenu("Invoicing", "Service Billing", "Work in progress"),
        {
            content: "The held hours are still in progress",
            trigger: ".o_content:contains('Globex')",
        },
        screenshot("billing-user-work-in-progress"),
        ...openMenu("Invoicing", "Service Billing", "KPI dashboard", {
            opened: ".o_breadcrumb:contains('KPIs')",
        }),
        {
            content: "The dashboard shows this year's figures",
            trigger: ".o_form_view .o_field_widget[name='line_ids'] .o_data_row",
        },
        screenshot("billing-user-kpi-dashboard"),
        {
            content: "Done",
            trigger: ".o_form_view",
        },
    ],
});
