from . import (
    account_move_reversal,
    ps_billing_run_wizard,
    ps_kpi_dashboard,
    ps_kpi_dashboard_line,
    ps_period_close_wizard,
)
