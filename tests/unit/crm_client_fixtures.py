"""Helpers and fixtures of the CRM client tests (imported by their test modules)."""

import base64
import json

import pytest

from odoo.addons.connector_base.engine.http_client import HttpClient

TIMEOUT = (2, 5)
API = "/services/data/v"


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def api_requests(fake):
    return [request for request in fake.server.requests if request.path.startswith(API)]


def token_requests(server, path="/services/oauth2/token"):
    return [request for request in server.requests if request.path == path]


class Recorder:
    """A callback that remembers its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)


@pytest.fixture
def http_clients():
    """Builds HttpClients and closes them after the test."""
    clients = []

    def build(base_url, **kwargs):
        client = HttpClient(base_url, **{"timeout": TIMEOUT, **kwargs})
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
