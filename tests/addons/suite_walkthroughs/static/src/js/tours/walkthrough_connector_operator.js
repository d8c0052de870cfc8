/** @odoo-module */

import { registry } from "@web/core/registry";
import { openMenu, screenshot } from "./walkthrough_steps";

// README, "Connector operator": the monitoring dashboard, the items needing attention, cancel
// an event nobody handles, retry a dead job.
const backend = "Demo: generic event source";

registry.category("web_tour.tours").add("walkthrough_connector_operator", {
    steps: () => [
        // 1. Monitoring: one card per backend, with its health and counters.
        ...openMenu("Connectors", "Monitoring"),
        {
            content: "The demo backend's card counts its failed jobs",
            trigger: `.o_kanban_record:contains('${backend}') .o_connector_failed:contains('2')`,
        },
        screenshot("operator-monitoring"),

        // 2. Its failed jobs: the event nobody handles, the dead outbound call.
        {
            content: "Open the failed jobs",
            trigger: `.o_kanban_record:contains('${backend}') a.o_connector_failed`,
            run: "click",
        },
        {
            content: "The event waits for a person",
            trigger: ".o_data_row:contains('generic.event') td[name='state']:contains('Needs attention')",
        },
        {
            content: "The outbound call gave up",
            trigger: ".o_data_row:contains('noop') td[name='state']:contains('Dead')",
        },
        screenshot("operator-failed-jobs"),

        // 3. The event: its message says why and what to do; nobody handles it here: cancel.
        {
            content: "Open the event",
            trigger: ".o_data_row:contains('generic.event') td[name='operation']",
            run: "click",
        },
        {
            content: "The message says why and what to do",
            trigger: ".o_form_view .alert-danger:contains('contact.updated'):contains('cancel the job')",
        },
        screenshot("operator-job-needs-attention"),
        {
            content: "Cancel it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_cancel']",
            run: "click",
        },
        {
            content: "It is cancelled",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Cancelled')",
        },

        // 4. The dead call: retry it once the remote system is back.
        {
            content: "Back to the list",
            trigger: ".o_breadcrumb .breadcrumb-item:last-child a",
            run: "click",
        },
        {
            content: "Open the dead job",
            trigger: ".o_data_row:contains('noop') td[name='operation']",
            run: "click",
        },
        {
            content: "Its last error says what answered",
            trigger: ".o_form_view .alert-danger:contains('503')",
        },
        {
            content: "Retry it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_retry']",
            run: "click",
        },
        {
            content: "The job is queued again",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Pending')",
        },
    ],
});
