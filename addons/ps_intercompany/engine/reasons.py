"""Codes and labels used by the run report and the reconciliation, defined once."""

# Why an item was not recharged (run report).
SKIP_NO_AGREEMENT = "no_agreement"
SKIP_NOT_APPROVED = "not_approved"
SKIP_NO_COST_RATE = "no_cost_rate"
SKIP_NO_TRANSFER_RATE = "no_transfer_rate"
SKIP_NOT_BILLED = "not_billed"
SKIP_NO_HOURS = "no_hours"
SKIP_CHANGED_UNAPPROVED = "changed_unapproved"
SKIP_CONCURRENT = "concurrent"
SKIP_ERROR = "error"
SKIP_LOCKED = "locked_period"  # not skipped: dated in the first open period (a note)

SKIP_REASONS = [
    (SKIP_NO_AGREEMENT, "No intercompany agreement"),
    (SKIP_NOT_APPROVED, "Not approved"),
    (SKIP_NO_COST_RATE, "No cost rate"),
    (SKIP_NO_TRANSFER_RATE, "No transfer rate"),
    (SKIP_NOT_BILLED, "Not billed to the client yet"),
    (SKIP_NO_HOURS, "No hours"),
    (SKIP_CHANGED_UNAPPROVED, "Changed after recharge, waiting for approval"),
    (SKIP_CONCURRENT, "Recharged by another run"),
    (SKIP_ERROR, "Error"),
    (SKIP_LOCKED, "Period locked: dated in the next open period"),
]

# Why a document or balance of a company pair does not tie (reconciliation).
DIFF_MISSING_MIRROR = "missing_mirror"
DIFF_DRAFT = "draft"
DIFF_AMOUNT = "amount"
DIFF_TAX = "tax"
DIFF_CURRENCY = "currency"
DIFF_ACCOUNT = "account"
DIFF_TIMING = "timing"
DIFF_FX = "fx_revaluation"
DIFF_PAYMENT = "payment"
DIFF_UNMATCHED_ENTRY = "unmatched_entry"

DIFFERENCE_REASONS = [
    (DIFF_MISSING_MIRROR, "Missing mirror"),
    (DIFF_DRAFT, "Draft on one side"),
    (DIFF_AMOUNT, "Amount difference"),
    (DIFF_TAX, "Tax difference"),
    (DIFF_CURRENCY, "Currency difference"),
    (DIFF_ACCOUNT, "Posted to a non-intercompany account"),
    (DIFF_TIMING, "Other period on one side"),
    (DIFF_FX, "FX revaluation"),
    (DIFF_PAYMENT, "Payment on one side only"),
    (DIFF_UNMATCHED_ENTRY, "Entry without counterpart"),
]
