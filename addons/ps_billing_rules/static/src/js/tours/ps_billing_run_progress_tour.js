/** @odoo-module */

import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

// A finance user watches a queued billing run: the billing cron works through it (started here
// as Odoo's "Run manually" would) and the form moves to Done without being reloaded.
registry.category("web_tour.tours").add("ps_billing_run_progress_tour", {
    steps: () => [
        {
            content: "The run is queued, nothing done yet",
            trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Queued')",
        },
        {
            content: "The billing cron processes the queue",
            trigger: ".o_form_view .o_field_widget[name='progress']",
            run: async () => {
                const [cron] = await rpc("/web/dataset/call_kw/ir.cron/search_read", {
                    model: "ir.cron",
                    method: "search_read",
                    args: [[["cron_name", "=", "Billing: process queued billing runs"]], ["id"]],
                    kwargs: {},
                });
                await rpc("/web/dataset/call_kw/ir.cron/method_direct_trigger", {
                    model: "ir.cron",
                    method: "method_direct_trigger",
                    args: [[cron.id]],
                    kwargs: {},
                });
            },
        },
        {
            content: "The form shows the run done, without a reload",
            trigger: ".o_form_view .o_field_widget[name='state'] .o_arrow_button_current:contains('Done')",
            timeout: 20000,
        },
    ],
});
