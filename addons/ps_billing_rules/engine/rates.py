"""Rate resolution: which rate applies to a piece of work, and why.

Cards are tried most specific first (contract, then customer, then the company default); within
a card, a line for the employee wins over a line for the role (job position), which wins over a
line for the service (product), which wins over the card's default line. Only lines in force on
the day the work was done count (date_from <= day <= date_to, open ends allowed).
"""

from dataclasses import dataclass
from datetime import date

CARD_LEVELS = ("contract", "customer", "company")
LINE_SPECIFICITY = ("employee", "role", "service", "default")


@dataclass(frozen=True)
class RateLine:
    id: int
    card_level: str  # contract | customer | company
    card_name: str
    rate: float
    currency: str
    employee_id: int | None = None
    role_id: int | None = None
    service_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def specificity(self) -> str:
        if self.employee_id:
            return "employee"
        if self.role_id:
            return "role"
        if self.service_id:
            return "service"
        return "default"

    def in_force(self, day: date) -> bool:
        return (self.date_from is None or self.date_from <= day) and (
            self.date_to is None or day <= self.date_to
        )

    def matches(self, employee_id, role_id, service_id) -> bool:
        if self.employee_id and self.employee_id != employee_id:
            return False
        if self.role_id and self.role_id != role_id:
            return False
        return not (self.service_id and self.service_id != service_id)


@dataclass(frozen=True)
class ResolvedRate:
    line: RateLine

    @property
    def rate(self) -> float:
        return self.line.rate

    @property
    def source(self) -> str:
        """Human-readable: which card, which kind of line, since when."""
        line = self.line
        since = f" from {line.date_from.isoformat()}" if line.date_from else ""
        until = f" until {line.date_to.isoformat()}" if line.date_to else ""
        return f"{line.card_level} card {line.card_name} / {line.specificity} rate{since}{until}"


def resolve_rate(lines, day: date, employee_id=None, role_id=None, service_id=None):
    """The ResolvedRate for work done on ``day``, or None when no card has a rate for it.

    Ties (two lines of the same card level and specificity in force the same day) go to the one
    that started latest: a new rate line supersedes an older open-ended one.
    """
    candidates = [
        line
        for line in lines
        if line.in_force(day) and line.matches(employee_id, role_id, service_id)
    ]
    if not candidates:
        return None

    def rank(line):
        return (
            CARD_LEVELS.index(line.card_level),
            LINE_SPECIFICITY.index(line.specificity),
            -(line.date_from or date.min).toordinal(),
            -line.id,
        )

    return ResolvedRate(min(candidates, key=rank))
