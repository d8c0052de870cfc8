"""The fake HTTP server is shared by connector tests: its switches must behave as documented."""

import re
import threading

import pytest
import requests

from tests.fakes.http_fake import MALFORMED_BODY, FakeHttpServer


def statuses(server, count, path="/x"):
    return [requests.get(f"{server.url}{path}", timeout=5).status_code for _ in range(count)]


def test_routes_fixed_and_regex_and_request_recording():
    with FakeHttpServer() as server:
        server.route("POST", "/items", lambda request: (201, {"X-Id": "9"}, request.json()))
        server.route("GET", re.compile(r"/items/(\d+)"), lambda r: (200, {}, {"id": r.match[1]}))
        created = requests.post(f"{server.url}/items?a=1", json={"n": 1}, timeout=5)
        fetched = requests.get(f"{server.url}/items/42", timeout=5)
        missing = requests.get(f"{server.url}/nothing", timeout=5)
    assert (created.status_code, created.json(), created.headers["X-Id"]) == (201, {"n": 1}, "9")
    assert fetched.json() == {"id": "42"}, "regex routes expose their match"
    assert missing.status_code == 404, "unknown routes answer 404"
    first = server.requests[0]
    assert (first.method, first.path, first.query) == ("POST", "/items", {"a": "1"})
    assert [request.status for request in server.requests] == [201, 200, 404], "answers recorded"


def test_fail_next_then_back_to_normal_and_reset():
    with FakeHttpServer() as server:
        server.route("GET", "/x", (200, {}, "ok"))
        server.fail_next(2, status=502)
        assert statuses(server, 3) == [502, 502, 200], "exactly n failures, then the route"
        server.fail_next(5)
        server.reset()
        assert statuses(server, 1) == [200], "reset clears pending failures"
        assert len(server.requests) == 1, "reset clears the recorded requests"


def test_malformed_next_answers_200_with_invalid_json():
    with FakeHttpServer() as server:
        server.route("GET", "/x", (200, {}, {"ok": True}))
        server.malformed_next(1)
        bad = requests.get(f"{server.url}/x", timeout=5)
        good = requests.get(f"{server.url}/x", timeout=5)
    assert bad.status_code == 200 and bad.content == MALFORMED_BODY, "200 with a broken body"
    with pytest.raises(ValueError):
        bad.json()
    assert good.json() == {"ok": True}, "only n responses are malformed"


def test_fail_rate_is_reproducible_with_a_seed():
    runs = []
    for _ in range(2):
        with FakeHttpServer() as server:
            server.route("GET", "/x", (200, {}, {}))
            server.fail_rate(0.5, seed=123, status=500)
            runs.append(statuses(server, 20))
    assert runs[0] == runs[1], "the same seed must fail the same requests"
    assert {200, 500} == set(runs[0]), "with p=0.5 some requests fail and some succeed"


def test_crashing_handler_answers_500_and_is_reported():
    with FakeHttpServer() as server:
        server.route("GET", "/x", lambda request: 1 / 0)
        assert statuses(server, 1) == [500], "a crashing handler answers 500"
    assert "ZeroDivisionError" in server.errors[0], "the traceback is kept for the test to show"


def test_stop_leaves_no_threads_even_with_a_delayed_request():
    before = set(threading.enumerate())
    server = FakeHttpServer().start()
    server.route("GET", "/x", (200, {}, {}))
    server.delay_next(1, 30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{server.url}/x", timeout=(1, 0.1))
    server.stop()
    leftover = [thread for thread in threading.enumerate() if thread not in before]
    assert leftover == [], f"server threads must end on stop(): {leftover}"
