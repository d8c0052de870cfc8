"""Pure logic of ps_intercompany (no Odoo import): transfer prices, corrections, grouping of
recharge lines, matching of documents for the reconciliation, netting proposals, periods."""
