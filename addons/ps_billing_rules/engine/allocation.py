"""Money arithmetic of billing: rounding as Odoo rounds currencies, and splitting a total over
items so that the parts add up to the total exactly."""

import math


def round_amount(value, digits=2):
    """``value`` rounded half-up to ``digits`` decimals, as Odoo's ``float_round`` (and so
    ``currency.round``) does: a value that is a hair below .5 because of binary floats still
    rounds up."""
    factor = 10**digits
    normalized = value * factor
    if normalized:
        # Odoo's correction: one ulp of the normalized value, towards its sign.
        epsilon = 2 ** (math.log(abs(normalized), 2) - 52)
        normalized += math.copysign(epsilon, normalized)
    rounded = math.floor(abs(normalized) + 0.5)
    return math.copysign(rounded, normalized) / factor if rounded else 0.0


def to_units(amount, digits=2):
    """An amount as an integer number of its smallest unit (cents for 2 digits)."""
    return round(round_amount(amount, digits) * 10**digits)


def split_proportionally(total, weights, digits=2):
    """Split ``total`` into one part per weight, proportional to the weights, each rounded to
    ``digits`` decimals, adding up to ``total`` exactly.

    Largest remainder: every part gets its rounded-down share, then the units left go one by one
    to the parts whose exact share lost most (ties to the earlier part). Zero weights everywhere
    split evenly; a negative total is split like its absolute value.
    """
    weights = [abs(weight) for weight in weights]
    if not weights:
        if round_amount(total, digits):
            raise ValueError(f"cannot split {total} over no item")
        return []
    if not any(weights):
        weights = [1.0] * len(weights)
    sign = -1 if total < 0 else 1
    units = to_units(abs(total), digits)
    weight_sum = sum(weights)
    exact = [units * weight / weight_sum for weight in weights]
    parts = [math.floor(share + 1e-9) for share in exact]
    left = units - sum(parts)
    order = sorted(range(len(parts)), key=lambda index: (-(exact[index] - parts[index]), index))
    for index in order[:left]:
        parts[index] += 1
    return [sign * part / 10**digits for part in parts]


def split_evenly(total, count, digits=2):
    """``count`` parts of ``total``: each the rounded quotient, the last taking the remainder."""
    if count < 1:
        raise ValueError(f"cannot split {total} into {count} parts: at least one is needed")
    regular = round_amount(total / count, digits)
    last = round_amount(total - regular * (count - 1), digits)
    return [regular] * (count - 1) + [last]
