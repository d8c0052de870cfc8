"""The names the addon uses for states, models and reasons, defined once (selection values and
their labels). Models, views' Python code and connectors import them from here."""

# Billing model of a contract line --------------------------------------------------------------
TM = "tm"
FIXED_FEE = "fixed_fee"
MILESTONE = "milestone"
RETAINER = "retainer"
NON_BILLABLE_MODEL = "non_billable"
BILLING_MODELS = [
    (TM, "Time and materials"),
    (FIXED_FEE, "Fixed fee"),
    (MILESTONE, "Milestones"),
    (RETAINER, "Retainer"),
    (NON_BILLABLE_MODEL, "Non-billable"),
]
# Lines whose invoices post to deferred revenue and are recognised by schedule.
DEFERRED_MODELS = (FIXED_FEE, RETAINER)
# Models that bill (time counts as billable hours in the KPIs).
BILLABLE_MODELS = (TM, FIXED_FEE, MILESTONE, RETAINER)

RECOGNITION_METHODS = [
    ("straight_line", "Straight-line over the service period"),
    ("percent_complete", "Percent complete (hours / budget)"),
    ("reached", "When milestones are reached"),
    ("consumed", "As consumed (retainer hours)"),
    ("invoiced", "When invoiced (revenue account)"),
]
ALLOWED_RECOGNITION = {
    FIXED_FEE: ("straight_line", "percent_complete"),
    RETAINER: ("consumed", "straight_line"),
    MILESTONE: ("reached",),
    TM: ("invoiced",),
}
DEFAULT_RECOGNITION = {
    FIXED_FEE: "straight_line",
    RETAINER: "consumed",
    MILESTONE: "reached",
    TM: "invoiced",
}

# Retainers --------------------------------------------------------------------------------------
NO_ROLLOVER = "none"
CAPPED = "capped"
UNLIMITED_EXPIRING = "expiring"
ROLLOVER_RULES = [
    (NO_ROLLOVER, "No rollover"),
    (CAPPED, "Roll over, capped"),
    (UNLIMITED_EXPIRING, "Roll over, expire after N periods"),
]
RETAINER_UNITS = [("hours", "Hours"), ("amount", "Amount")]
PERIOD_KINDS = [("monthly", "Monthly"), ("quarterly", "Quarterly")]
PERIOD_OPEN = "open"
PERIOD_CLOSED = "closed"
RETAINER_PERIOD_STATES = [(PERIOD_OPEN, "Open"), (PERIOD_CLOSED, "Closed (trued up)")]

# Billing state of a billable item (timesheet line, expense, milestone, installment, period) ----
UNBILLED = "unbilled"
BILLED = "billed"
REVIEW = "review"
NON_BILLABLE = "non_billable"
BILLING_STATES = [
    (UNBILLED, "Unbilled"),
    (BILLED, "Billed"),
    (REVIEW, "Back in review"),
    (NON_BILLABLE, "Non-billable"),
]
OPEN_STATES = (UNBILLED, REVIEW)

# Approval of time -------------------------------------------------------------------------------
DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
APPROVAL_STATES = [
    (DRAFT, "Draft"),
    (SUBMITTED, "Submitted"),
    (APPROVED, "Approved"),
    (REJECTED, "Rejected"),
]

# Kinds of billable items ------------------------------------------------------------------------
KIND_TIMESHEET = "timesheet"
KIND_EXPENSE = "expense"
KIND_MILESTONE = "milestone"
KIND_INSTALLMENT = "installment"
KIND_RETAINER_FEE = "retainer_fee"
KIND_RETAINER_OVERAGE = "retainer_overage"
KIND_DOWN_PAYMENT = "down_payment"
ITEM_KINDS = [
    (KIND_TIMESHEET, "Time"),
    (KIND_EXPENSE, "Expense"),
    (KIND_MILESTONE, "Milestone"),
    (KIND_INSTALLMENT, "Installment"),
    (KIND_RETAINER_FEE, "Retainer fee"),
    (KIND_RETAINER_OVERAGE, "Retainer overage"),
    (KIND_DOWN_PAYMENT, "Down payment deduction"),
]
# Items billed as a share of their contract line's total (never more than the line sold).
SHARE_KINDS = (KIND_MILESTONE, KIND_INSTALLMENT, KIND_RETAINER_FEE)

# Why an item was left out of a run --------------------------------------------------------------
SKIP_HELD = "held"
SKIP_OVER_CAP = "over_cap"
SKIP_NO_RATE = "no_rate"
SKIP_NOT_APPROVED = "not_approved"
SKIP_DEFERRED = "deferred"
SKIP_CONFIG = "configuration"
SKIP_REVIEW = "in_review"
SKIP_BEYOND_SOLD = "beyond_sold"
SKIP_REASONS = [
    (SKIP_HELD, "Held"),
    (SKIP_OVER_CAP, "Over cap"),
    (SKIP_NO_RATE, "No rate"),
    (SKIP_NOT_APPROVED, "Not approved"),
    (SKIP_DEFERRED, "Deferred"),
    (SKIP_CONFIG, "Configuration missing"),
    (SKIP_REVIEW, "In pre-bill review"),
    (SKIP_BEYOND_SOLD, "Beyond what was sold"),
]
REPORT_CONCURRENT = "concurrent"
REPORT_ERROR = "error"

# Billing runs -----------------------------------------------------------------------------------
RUN_DRAFT = "draft"
RUN_QUEUED = "queued"
RUN_RUNNING = "running"
RUN_DONE = "done"
RUN_STATES = [
    (RUN_DRAFT, "Draft"),
    (RUN_QUEUED, "Queued"),
    (RUN_RUNNING, "Running"),
    (RUN_DONE, "Done"),
]
RUN_ORIGINS = [
    ("manual", "Manual"),
    ("scheduled", "Scheduled"),
    ("native", "Create Invoice"),
    ("prebill", "Pre-bill review"),
]
REPORT_LINE_TYPES = [
    ("invoice", "Invoice created"),
    ("skip", "Skipped"),
    ("error", "Not billed (error)"),
]

# Pre-bill review --------------------------------------------------------------------------------
PREBILL_STATES = [("draft", "In review"), ("invoiced", "Invoiced")]
PREBILL_LINE_STATUS = [
    ("billable", "Billable"),
    ("held", "Held"),
    ("over_cap", "Over cap"),
    ("info", "Not billable yet"),
]
PREBILL_ACTIONS = [
    ("bill", "Bill"),
    ("defer", "Defer to next period"),
    ("non_billable", "Mark non-billable"),
    ("transfer", "Transfer"),
]

# Context keys -----------------------------------------------------------------------------------
CTX_RATING = "ps_rating"  # writes of the billing bookkeeping itself (no approval reset)
CTX_KEEP_APPROVAL = "ps_keep_approval"  # an edit that keeps the approval state
CTX_BILLING_TRACE = "ps_billing_trace"  # list receiving (groups, start, end) per chunk
CTX_REVERSAL_MODIFY = "ps_reversal_modify"  # "Reverse and create a new draft" in progress
