/** @odoo-module */

import { registry } from "@web/core/registry";

// A connector manager opens the monitoring dashboard, goes to the failed jobs of a backend
// (the "Failed" filter is applied), opens one and retries it.
registry.category("web_tour.tours").add("connector_monitoring_tour", {
    url: "/odoo/action-connector_base.action_connector_monitoring",
    steps: () => [
        {
            content: "The monitoring dashboard shows the backend with its failed jobs",
            trigger: ".o_kanban_record:contains('Tour backend')",
        },
        {
            content: "Open the failed jobs of that backend",
            trigger: ".o_kanban_record:contains('Tour backend') a.o_connector_failed",
            run: "click",
        },
        {
            content: "The list is filtered on failed jobs",
            trigger: ".o_searchview_facet:contains('Failed')",
        },
        {
            content: "Its state badge reads in full (not cut to 'Needs at…')",
            trigger: ".o_data_row:contains('test.behave') td[name='state'] .badge:contains('Needs attention')",
            run() {
                const badge = this.anchor;
                const cell = badge.closest("td");
                if (badge.scrollWidth > badge.clientWidth || cell.scrollWidth > cell.clientWidth) {
                    throw new Error(
                        `the state badge is cut: ${badge.scrollWidth}px of text in ${cell.clientWidth}px`
                    );
                }
            },
        },
        {
            content: "Open the failed job",
            trigger: ".o_data_row td:contains('test.behave')",
            run: "click",
        },
        {
            content: "Its error says what went wrong",
            trigger: ".o_form_view .alert-danger:contains('Deal 4711 has no billing model')",
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
