/** @odoo-module */

import { registry } from "@web/core/registry";

// A screenshot of the page for the README walkthrough (connector_base/tests/screenshots.py saves
// it when the tour runs under its browser; otherwise the line is only logged).
function screenshot(name, trigger = "body") {
    return {
        content: `Screenshot ${name}`,
        trigger,
        run: async () => {
            await new Promise((resolve) => setTimeout(resolve, 400));
            console.log(`screenshot:${name}`);
            await new Promise((resolve) => setTimeout(resolve, 600));
        },
    };
}

// An admin opens the demo Salesforce backend, tests the connection to the (fake) org, opens the
// deal that needs attention, maps its unknown product on the backend and retries the deal.
registry.category("web_tour.tours").add("connector_crm_fix_mapping_and_retry_tour", {
    steps: () => [
        {
            content: "The demo Salesforce backend is open",
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains('Demo: Salesforce (fake server)')",
        },
        {
            content: "Test the connection",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_test_connection']",
            run: "click",
        },
        {
            content: "The org answered: who the connector is logged in as",
            trigger:
                ".o_notification:has(.o_notification_bar.bg-success):contains('Connection OK'):contains('connected as integration@example.com')",
        },
        screenshot("admin-crm-backend-connected"),
        {
            // Six smart buttons: at 1366 px wide the CRM ones are under "More".
            content: "Show the other smart buttons",
            trigger: ".o_form_view .o-form-buttonbox .o_button_more",
            run: "click",
        },
        {
            content: "One deal needs attention: open the list",
            trigger:
                ".o_dropdown_more button[name='action_crm_open_attention']:has(.o_stat_value:contains('1'))",
            run: "click",
        },
        {
            content: "Open the job of the deal with the unmapped product",
            trigger:
                ".o_list_view .o_data_row:contains('crm.engagement.create'):contains('NEW-SKU') td[name='operation']",
            run: "click",
        },
        {
            content: "The job says what is missing",
            trigger:
                ".o_form_view .alert-danger:contains('has no product mapping'):contains('NEW-SKU')",
        },
        screenshot("admin-crm-deal-needs-attention"),
        {
            content: "Go to its backend",
            trigger: ".o_form_view .o_field_widget[name='backend_id'] a.o_form_uri",
            run: "click",
        },
        {
            content: "Open the Mappings tab",
            trigger: ".o_form_view .o_notebook .nav-link[name='crm_mappings']",
            run: "click",
        },
        {
            content: "Add a product mapping",
            trigger:
                ".o_form_view .o_field_widget[name='crm_product_map_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "The CRM's product code",
            trigger:
                ".o_field_widget[name='crm_product_map_ids'] .o_selected_row td[name='remote_code'] input",
            run: "edit NEW-SKU",
        },
        {
            content: "The CRM's product name",
            trigger:
                ".o_field_widget[name='crm_product_map_ids'] .o_selected_row td[name='remote_name'] input",
            run: "edit Data migration add-on",
        },
        {
            content: "Sold in Odoo as the Implementation service",
            trigger:
                ".o_field_widget[name='crm_product_map_ids'] .o_selected_row .o_field_widget[name='product_id'] input",
            run: "edit Implementation",
        },
        {
            content: "Pick it",
            trigger:
                ".o_field_widget[name='product_id'] .o-autocomplete--dropdown-menu li:contains('[IMPL] Implementation')",
            run: "click",
        },
        {
            content: "Save the backend",
            trigger: ".o_form_view .o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The mapping is saved",
            trigger:
                ".o_form_view .o_form_saved .o_field_widget[name='crm_product_map_ids'] .o_data_row:not(.o_selected_row):contains('NEW-SKU'):contains('[IMPL] Implementation')",
        },
        screenshot("admin-crm-product-mapping"),
        {
            content: "Back to the job",
            trigger: ".o_breadcrumb .breadcrumb-item.o_back_button:contains('crm.engagement.create')",
            run: "click",
        },
        {
            content: "Retry it",
            trigger:
                ".o_form_view .o_statusbar_buttons button[name='action_retry']:contains('Retry')",
            run: "click",
        },
        {
            content: "It is queued again",
            trigger:
                ".o_notification:has(.o_notification_bar.bg-success):contains('1 job(s) queued again')",
        },
        {
            content: "The job waits for the queue runner",
            trigger:
                ".o_form_view .o_statusbar_status .o_arrow_button_current[data-value='pending']",
        },
    ],
});
