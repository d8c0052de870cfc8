"""Request parsing shared by the fake Harvest routes: Harvest's 422 for bad parameters."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs

ID = r"(\d+)"
BILL_BY = ("Project", "Tasks", "People", "none")
BUDGET_BY = ("project", "project_cost", "task", "task_fees", "person", "none")


def error(status, message):
    from .fake import HarvestError

    return HarvestError(status, message)


def _newest_first(record):
    return (-record["created_at"].timestamp(), -record["id"])


def _by_spent_date(record):
    return (-record["spent_date"].toordinal(), -record["id"])


def _flag(value, name):
    if value in ("true", "false"):
        return value == "true"
    raise error(422, f"{name} must be true or false, got {value!r}")


def _datetime(value, name):
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise error(422, f"{name} must be an ISO 8601 date and time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date(value, name):
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise error(422, f"{name} must be a date (YYYY-MM-DD), got {value!r}") from None


def _decimal(value, name):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise error(422, f"{name} must be a number, got {value!r}") from None


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise error(422, f"{name} must be an integer, got {value!r}") from None


def _body(request) -> dict:
    """POST/PATCH parameters: JSON or form data, as Harvest accepts both."""
    if not request.body:
        return {}
    if "json" in request.headers.get("Content-Type", ""):
        try:
            body = json.loads(request.body)
        except ValueError:
            raise error(422, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise error(422, "The request body must be a JSON object.")
        return body
    return {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}


def _require(body, *names):
    for name in names:
        if body.get(name) in (None, ""):
            label = name.removesuffix("_id").replace("_", " ").capitalize()
            raise error(422, f"{label} can't be blank")
