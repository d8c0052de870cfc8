"""Pure-Python core of the connectors (no Odoo imports): errors, retries, secrets, HTTP, metrics."""
