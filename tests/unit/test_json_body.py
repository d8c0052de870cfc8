"""Webhook bodies are read as JSON without recursion blowing up (engine/json_body.py)."""

import json

import pytest

from connector_base.engine.json_body import TooDeep, json_depth, loads_bounded


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth(b"{}") == 1
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'{"a": "[[[[{{{{"}') == 1, "brackets inside strings do not nest"
    assert json_depth(b'{"a": "\\"[[[["}') == 1, "escaped quotes do not end the string"
    assert json_depth(b"42") == 0


def test_deep_bodies_are_refused_before_parsing():
    deep = b'{"type": "x", "data": ' + b'{"a": ' * 700 + b"1" + b"}" * 700 + b"}"
    with pytest.raises(TooDeep, match="701 levels"):
        loads_bounded(deep, max_depth=64)
    assert isinstance(TooDeep("x"), ValueError), "callers treat it as an unreadable body"


def test_ordinary_bodies_parse():
    body = json.dumps([{"id": "e1", "type": "t", "data": {"x": [1, 2]}}]).encode()
    assert loads_bounded(body, 64)[0]["data"]["x"] == [1, 2]


@pytest.mark.parametrize("body", [b"\xff\xfe", b"{not json", b'{"a": 1'])
def test_unreadable_bodies_are_value_errors(body):
    with pytest.raises(ValueError):
        loads_bounded(body, 64)
