"""Request parsing shared by the fake Kantata routes."""

from datetime import UTC, date, datetime

ID = r"(\d+)"
ORDERS = {
    "time_entries": ("date_performed", "desc"),
    "expenses": ("date", "desc"),
    "subscribed_events": ("created_at", "desc"),
    "cost_rates": ("created_at", "asc"),
    "billing_milestones": ("created_at", "desc"),
    "external_references": ("last_synced_at", "desc"),
}
EXTERNAL_REF_FIELDS = (
    "service_name",
    "service_model",
    "service_model_ref",
    "status",
    "external_message",
    "external_link",
    "external_status",
    "locked",
)


def error(status, message, kind="validation", field=None):
    from .fake import KantataError

    return KantataError(status, message, kind, field)


def _moment(value, name):
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise error(400, f"{name} must be an ISO 8601 datetime", "system", name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value, name):
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise error(422, f"{name} must be a date in YYYY-MM-DD format", field=name) from None


def _ids(value) -> set[int]:
    try:
        return {int(part) for part in str(value).split(",") if part.strip()}
    except ValueError:
        raise error(400, f"expected comma-separated ids, got {value!r}", "system") from None
