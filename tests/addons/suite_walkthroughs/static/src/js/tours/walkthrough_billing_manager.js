/** @odoo-module */

import { registry } from "@web/core/registry";
import { openMenu, screenshot } from "./walkthrough_steps";

// README, "Billing manager": approve the time waiting, close last month.
registry.category("web_tour.tours").add("walkthrough_billing_manager", {
    steps: () => [
        // 1. Approve Chloe's line waiting for approval.
        ...openMenu("Invoicing", "Service Billing", "Time to approve"),
        {
            content: "Chloe's line waits for approval",
            trigger: ".o_data_row:contains('Chloe'):contains('Submitted')",
        },
        screenshot("billing-manager-time-to-approve"),
        {
            content: "Select it",
            trigger: ".o_data_row:contains('Chloe'):contains('Submitted') .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Approve",
            trigger: ".o_control_panel_actions button[name='action_ps_approve'], .o_list_buttons button[name='action_ps_approve']",
            run: "click",
        },
        {
            content: "Nothing is left to approve",
            trigger: ".o_view_nocontent, .o_list_table:not(:has(.o_data_row:contains('Submitted')))",
        },

        // 2. Close last month.
        ...openMenu("Invoicing", "Service Billing", "Close a period"),
        screenshot("billing-manager-close-period", ".modal .o_field_widget[name='period_end']"),
        {
            content: "Close period",
            trigger: ".modal button[name='action_close']",
            run: "click",
        },
        {
            content: "The wizard reports what it posted",
            trigger: ".modal:has(.modal-title:contains('Close a period')) .o_field_widget[name='result']:contains('WIP accrual')",
            timeout: 30000,
        },
        screenshot("billing-manager-period-closed"),
        {
            content: "Close the wizard",
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        ...openMenu("Invoicing", "Service Billing", "Revenue recognition"),
        {
            content: "The recognition of Initrode's fixed fee (Umbrella's retainer once invoiced)",
            trigger: ".o_data_row:contains('Initrode')",
        },
        screenshot("billing-manager-revenue-recognition"),
        ...openMenu("Invoicing", "Service Billing", "WIP accruals"),
        {
            content: "The WIP accrual list",
            trigger: ".o_list_view, .o_view_nocontent",
        },
    ],
});
