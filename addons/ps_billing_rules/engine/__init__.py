"""Pure billing logic (no Odoo import): periods, rates, caps, retainers, recognition, schedules,
invoice line grouping and proportional splits. Connectors call these too (see readme/CONFIGURE.md)."""
