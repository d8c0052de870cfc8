"""Render metrics in the Prometheus text exposition format 0.0.4 (no client library needed)."""

import math
import re

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
KINDS = frozenset({"gauge", "counter", "summary", "histogram", "untyped"})
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def format_value(value) -> str:
    """Format a sample value the way Prometheus does (+Inf, -Inf, NaN, no needless ".0")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _escape_label_value(value) -> str:
    text = format_value(value) if isinstance(value, (int, float)) else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text) -> str:
    return str(text).replace("\\", "\\\\").replace("\n", "\\n")


def _check_metric_name(name) -> None:
    if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
        raise ValueError(
            f"invalid Prometheus metric name {name!r}: use letters, digits, '_' and ':', "
            "not starting with a digit"
        )


def _render_labels(labels) -> str:
    if not labels:
        return ""
    rendered = []
    for name, value in labels.items():
        if not isinstance(name, str) or not _LABEL_NAME.fullmatch(name) or name.startswith("__"):
            raise ValueError(
                f"invalid Prometheus label name {name!r}: use letters, digits and '_', not "
                "starting with a digit nor with '__' (reserved)"
            )
        rendered.append(f'{name}="{_escape_label_value(value)}"')
    return "{" + ",".join(rendered) + "}"


def render(metrics) -> str:
    """Render ``(name, kind, help_text, samples)`` families as exposition text.

    Each sample is ``(labels, value)`` or ``(suffix, labels, value)``; the suffix (``_total``,
    ``_bucket``, ``_sum``, ``_count``...) is appended to the family name.
    """
    lines = []
    seen = set()
    for name, kind, help_text, samples in metrics:
        _check_metric_name(name)
        if kind not in KINDS:
            raise ValueError(f"invalid metric type {kind!r} for {name}: use one of {sorted(KINDS)}")
        if name in seen:
            raise ValueError(f"metric {name} is rendered twice: merge its samples in one family")
        seen.add(name)
        lines.append(f"# HELP {name} {_escape_help(help_text or '')}")
        lines.append(f"# TYPE {name} {kind}")
        for sample in samples:
            if len(sample) == 3:
                suffix, labels, value = sample
            elif len(sample) == 2:
                suffix, (labels, value) = "", sample
            else:
                raise ValueError(
                    f"bad sample {sample!r} for {name}: use (labels, value) or "
                    "(suffix, labels, value)"
                )
            sample_name = name + (suffix or "")
            _check_metric_name(sample_name)
            lines.append(f"{sample_name}{_render_labels(labels)} {format_value(value)}")
    return "\n".join(lines) + "\n" if lines else ""
