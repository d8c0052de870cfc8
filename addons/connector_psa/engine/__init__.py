"""Pure Python core of connector_psa (no Odoo import): PSA clients and shared records."""
