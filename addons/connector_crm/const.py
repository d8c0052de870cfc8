"""Constants of connector_crm, defined once (models, adapters and tests import them here)."""

from datetime import timedelta

BACKEND_SALESFORCE = "salesforce"
BACKEND_HUBSPOT = "hubspot"
CRM_TYPES = (BACKEND_SALESFORCE, BACKEND_HUBSPOT)

# Streams of a CRM backend: code -> name (the adapters' pull() dispatches on the code).
STREAM_DEALS = "crm_deals"
STREAM_ACCOUNTS = "crm_accounts"
STREAM_CONTACTS = "crm_contacts"
STREAMS = [
    (STREAM_DEALS, "Deals"),
    (STREAM_ACCOUNTS, "Accounts / companies"),
    (STREAM_CONTACTS, "Contacts"),
]

# Job operations of the CRM adapters.
OP_DEAL_SYNC = "crm.deal.sync"
OP_ENGAGEMENT_CREATE = "crm.engagement.create"
OP_AMENDMENT_REVIEW = "crm.amendment.review"
OP_PARTNER_SYNC = "crm.partner.sync"
OP_PUSH = "crm.push"

OAUTH_STATE_TTL = timedelta(minutes=15)
CALLBACK_PATH = "/connector_crm/oauth/callback"
# The API usage shown on the backend is written at most this often (seconds) per process.
USAGE_WRITE_INTERVAL = 60.0
# In-place retries of a failed CRM call (a blip) before the job itself is retried.
QUICK_RETRIES = 2
# A pull reads one page per job and queues the next page as a job of its own: its progress is
# durable page by page, and a failure retries one page, not the whole import. The next page
# runs before the deals already queued (lower priority number).
PULL_PRIORITY = 5

# Write-back: what Odoo knows about a deal -> backend setting holding the CRM field name.
WRITEBACK_KEYS = [
    ("invoiced_total", "Invoiced total"),
    ("paid_total", "Paid total"),
    ("outstanding", "Outstanding"),
    ("overdue", "Overdue"),
    ("last_invoice_number", "Last invoice number"),
    ("last_invoice_date", "Last invoice date"),
    ("last_invoice_status", "Last invoice status"),
    ("project_status", "Project status"),
    ("milestones_reached", "Milestones reached"),
    ("percent_complete", "Percent complete"),
]
SF_WRITEBACK_DEFAULTS = {
    "invoiced_total": "Odoo_Invoiced_Total__c",
    "paid_total": "Odoo_Paid_Total__c",
    "outstanding": "Odoo_Outstanding__c",
    "overdue": "Odoo_Overdue__c",
    "last_invoice_number": "Odoo_Last_Invoice__c",
    "last_invoice_date": "Odoo_Last_Invoice_Date__c",
    "last_invoice_status": "Odoo_Last_Invoice_Status__c",
    "project_status": "Odoo_Project_Status__c",
    "milestones_reached": "Odoo_Milestones_Reached__c",
    "percent_complete": "Odoo_Percent_Complete__c",
}
HS_WRITEBACK_DEFAULTS = {
    key: value.lower().removesuffix("__c") for key, value in SF_WRITEBACK_DEFAULTS.items()
}
# Deal fields read from the CRM: key -> label (the backend field is crm_field_<key>).
DEAL_FIELD_KEYS = [
    ("legal_entity", "Legal entity"),
    ("billing_model", "Billing model"),
    ("project_template", "Project template"),
    ("tax_treatment", "Tax treatment"),
    ("po_number", "PO number"),
    ("cap_amount", "Not-to-exceed"),
    ("line_billing_model", "Line billing model"),
]
