"""Pure billing logic (no Odoo import): periods, rate resolution, caps, retainers, recognition."""
