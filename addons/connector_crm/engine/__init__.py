"""Pure-Python parts of connector_crm (no Odoo import): CRM clients, normalisation, rules."""
