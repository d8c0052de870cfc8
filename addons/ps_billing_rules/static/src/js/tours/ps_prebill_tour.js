/** @odoo-module */

import { registry } from "@web/core/registry";

// A finance user opens the pre-bill review of a demo contract, writes a line down with a
// reason, generates the draft invoice and sees the realization change.
registry.category("web_tour.tours").add("ps_prebill_write_down_tour", {
    steps: () => [
        {
            content: "The review lists the contract's billable items at 100% realization",
            trigger: ".o_form_view .o_field_widget[name='realization']:contains('100')",
        },
        {
            content: "Open the Senior Consultant's line",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('Benedict Senior') td[name='adjusted_amount']",
            run: "click",
        },
        {
            content: "Write it down",
            trigger: ".o_field_one2many[name='line_ids'] .o_selected_row td[name='adjusted_amount'] input",
            run: "edit 1000",
        },
        {
            content: "Give the reason",
            trigger: ".o_field_one2many[name='line_ids'] .o_selected_row td[name='reason'] input",
            run: "edit Scope overrun agreed with the customer",
        },
        {
            content: "Save the review",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Realization went down",
            trigger: ".o_form_view .o_field_widget[name='realization']:not(:contains('100'))",
        },
        {
            content: "Generate the draft invoice",
            trigger: ".o_form_view button[name='action_generate_invoice']",
            run: "click",
        },
        {
            content: "The draft invoice opens",
            trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Draft')",
        },
    ],
});
