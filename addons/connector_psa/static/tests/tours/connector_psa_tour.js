/** @odoo-module */

import { registry } from "@web/core/registry";

// A Billing User opens the correction of time Harvest changed after Odoo billed it, sees what
// was billed and what Harvest says now, and resolves it by billing the difference in the next
// run.
registry.category("web_tour.tours").add("connector_psa_resolve_correction_tour", {
    steps: () => [
        {
            content: "The open correction of billed time is in the queue",
            trigger: ".o_list_view .o_data_row:contains('Changed after billing'):contains('Ann Lead') td[name='name']",
            run: "click",
        },
        {
            content: "It shows what was billed and what the PSA says now",
            trigger: ".o_form_view .o_field_widget[name='changes']:contains('hours: 2 → 3.5')",
        },
        {
            content: "The invoice it is on",
            trigger: ".o_form_view .o_field_widget[name='invoice_id'] a, .o_form_view .o_field_widget[name='invoice_id'] span",
        },
        {
            content: "Resolve it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_resolve']",
            run: "click",
        },
        {
            content: "Bill the difference in the next run",
            trigger: ".modal .o_field_widget[name='resolution'] input[data-value='adjust']",
            run: "click",
        },
        {
            content: "The preview says what the next run bills",
            trigger: ".modal .o_field_widget[name='preview']:contains('+1.50 h is billed by the next run')",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The correction is resolved, with its adjustment line",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
        {
            content: "The adjustment line waits for the next run",
            trigger: ".o_form_view .o_field_widget[name='adjustment_summary']:contains('+1.50 h'):contains('billed by the next run')",
        },
    ],
});
