/** @odoo-module */

import { onWillDestroy } from "@odoo/owl";
import { registry } from "@web/core/registry";
import {
    ProgressBarField,
    progressBarField,
} from "@web/views/fields/progress_bar/progress_bar_field";

const NOTIFICATION = "ps_billing_run_progress";
const POLL_MS = 3000;

/**
 * A billing run's progress bar that moves while the user looks: the billing cron notifies the
 * run's user on Odoo's bus after each chunk, and while the run is queued or running the form
 * also reloads itself every few seconds (for users the bus does not reach).
 */
export class BillingRunProgressField extends ProgressBarField {
    setup() {
        super.setup();
        this.busService = this.env.services.bus_service;
        this.onProgress = (payload) => {
            if (payload && payload.run_id === this.props.record.resId) {
                this.reload();
            }
        };
        this.busService?.subscribe(NOTIFICATION, this.onProgress);
        this.timer = setInterval(() => {
            if (["queued", "running"].includes(this.props.record.data.state)) {
                this.reload();
            }
        }, POLL_MS);
        onWillDestroy(() => {
            this.busService?.unsubscribe(NOTIFICATION, this.onProgress);
            clearInterval(this.timer);
        });
    }

    async reload() {
        const record = this.props.record;
        if (this.reloading || !record.resId || (await record.isDirty())) {
            return;
        }
        this.reloading = true;
        try {
            await record.load();
        } finally {
            this.reloading = false;
        }
    }
}

registry.category("fields").add("ps_billing_run_progress", {
    ...progressBarField,
    component: BillingRunProgressField,
});
