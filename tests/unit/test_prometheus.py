"""Metrics are rendered in the Prometheus text format 0.0.4 that scrapers parse."""

import pytest

from connector_base.engine.prometheus import render


def test_gauge_and_counter_render_exactly():
    text = render(
        [
            ("connector_jobs", "gauge", "Jobs by state.", [({"state": "pending"}, 3)]),
            (
                "connector_requests",
                "counter",
                "HTTP requests sent.",
                [("_total", {"backend": "crm", "status": "200"}, 12.0), ("_total", {}, 1)],
            ),
        ]
    )
    assert text == (
        "# HELP connector_jobs Jobs by state.\n"
        "# TYPE connector_jobs gauge\n"
        'connector_jobs{state="pending"} 3\n'
        "# HELP connector_requests HTTP requests sent.\n"
        "# TYPE connector_requests counter\n"
        'connector_requests_total{backend="crm",status="200"} 12\n'
        "connector_requests_total 1\n"
    ), f"unexpected exposition text:\n{text}"


def test_histogram_with_infinite_bucket():
    text = render(
        [
            (
                "connector_job_seconds",
                "histogram",
                "Job duration.",
                [
                    ("_bucket", {"le": 0.5}, 3),
                    ("_bucket", {"le": float("inf")}, 5),
                    ("_sum", {}, 1.25),
                    ("_count", {}, 5),
                ],
            )
        ]
    )
    assert 'connector_job_seconds_bucket{le="0.5"} 3\n' in text, "finite bucket label"
    assert 'connector_job_seconds_bucket{le="+Inf"} 5\n' in text, "the +Inf bucket is mandatory"
    assert "connector_job_seconds_sum 1.25\n" in text, "sum keeps its decimals"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
        (0.1, "0.1"),
        (2.0, "2"),
        (True, "1"),
        (1e20, "1e+20"),
        (1.5e-7, "1.5e-07"),
    ],
)
def test_special_values_render_like_prometheus(value, rendered):
    text = render([("m", "gauge", "h", [({}, value)])])
    assert text.endswith(f"m {rendered}\n"), f"{value!r} must render as {rendered}: {text!r}"


def test_label_values_and_help_are_escaped():
    text = render([("m", "gauge", 'Path C:\\x\nsecond "line"', [({"path": 'C:\\dir\n"q"'}, 1)])])
    assert '# HELP m Path C:\\\\x\\nsecond "line"\n' in text, "help escapes \\ and newline only"
    assert 'm{path="C:\\\\dir\\n\\"q\\""} 1\n' in text, 'label values escape \\, newline and "'


@pytest.mark.parametrize(
    "metrics",
    [
        [("1bad", "gauge", "h", [])],
        [("bad-name", "gauge", "h", [])],
        [("m", "gauge", "h", [({"bad-label": "x"}, 1)])],
        [("m", "gauge", "h", [({"__reserved": "x"}, 1)])],
        [("m", "gauge", "h", [("-suffix", {}, 1)])],
        [("m", "meter", "h", [])],
        [("m", "gauge", "h", []), ("m", "gauge", "h", [])],
    ],
    ids=["digit-start", "dash", "bad-label", "reserved-label", "bad-suffix", "bad-kind", "dup"],
)
def test_invalid_input_raises_value_error(metrics):
    with pytest.raises(ValueError):
        render(metrics)


def test_output_is_empty_or_ends_with_newline():
    assert render([]) == "", "no metrics: empty body"
    assert render([("m", "untyped", "", [])]).endswith("\n"), "the format requires a final newline"
