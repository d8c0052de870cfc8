/** @odoo-module */

import { registry } from "@web/core/registry";

const { DateTime } = luxon;

// A controller runs a month's recharge (the month before last: the demo recharged last month
// already), posts it (the receivers' bills are mirrored) and opens the reconciliation of that
// month: every company pair ties.
function monthBeforeLast() {
    const month = DateTime.now().minus({ months: 2 });
    return [
        month.startOf("month").toFormat("MM/dd/yyyy"),
        month.endOf("month").toFormat("MM/dd/yyyy"),
    ];
}

registry.category("web_tour.tours").add("ps_ic_month_recharge_tour", {
    steps: () => [
        {
            content: "Start of the month to recharge",
            trigger: ".o_field_widget[name='date_from'] input",
            run: `edit ${monthBeforeLast()[0]}`,
        },
        {
            content: "End of the month",
            trigger: ".o_field_widget[name='date_to'] input",
            run: `edit ${monthBeforeLast()[1]}`,
        },
        {
            content: "Run the recharge",
            trigger: "button[name='action_start']",
            run: "click",
        },
        {
            content: "The run is done and lists its recharges",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Done')",
        },
        {
            content: "Post the draft invoices (their bills are mirrored in the receivers)",
            trigger: ".o_form_view button[name='action_post_invoices']",
            run: "click",
        },
        {
            content: "Nothing left to post",
            trigger: ".o_form_view .o_field_widget[name='draft_count']:contains('0')",
        },
        {
            content: "Open the month's reconciliation",
            trigger: ".o_form_view button[name='action_open_reconciliation']",
            run: "click",
        },
        {
            content: "Every pair ties, at a glance",
            trigger: ".o_breadcrumb:contains('pairs tie')",
        },
        {
            content: "Each pair is shown tied",
            trigger: ".o_list_view .o_data_row .o_field_widget[name='state']:contains('Tied')",
        },
        {
            content: "Drill into a pair",
            trigger: ".o_list_view .o_data_row:first td[name='company_b_id']",
            run: "click",
        },
        {
            content: "The pair's documents are matched to their mirrors",
            trigger: ".o_form_view .alert-success:contains('matched to its mirror')",
        },
    ],
});
