"""connector_base's adapter mechanism reaches the PSA adapters directly: no hook method on the
backend (connector_base's legacy fallback for ``_job_<operation>`` methods is gone)."""

from odoo.tests import tagged

from odoo.addons.connector_base.adapters import BackendAdapter
from odoo.addons.connector_base.engine.signatures import SignatureError

from ..adapters import ADAPTERS, HarvestAdapter, KantataAdapter, PsaAdapter
from .common import HarvestWorld, PsaCase

OPERATIONS = (
    "psa.time.batch",
    "psa.time.entry",
    "psa.expense.batch",
    "psa.expense.entry",
    "psa.person.sync",
    "psa.provision",
    "psa.deletions.window",
    "psa.deletions.confirm",
    "psa.milestone.sync",
    "psa.mark.billed",
)


@tagged("post_install", "-at_install")
class TestAdapterMechanism(PsaCase):
    WORLD = HarvestWorld

    def test_backend_types_map_to_their_adapters(self):
        self.assertEqual(ADAPTERS, {"harvest": HarvestAdapter, "kantata": KantataAdapter})
        for backend_type, adapter_class in ADAPTERS.items():
            backend = self.backend.new({"backend_type": backend_type})
            self.assertIs(backend._adapter_class(), adapter_class)
            self.assertTrue(issubclass(adapter_class, PsaAdapter))
            self.assertTrue(issubclass(adapter_class, BackendAdapter))
        generic = self.backend.new({"backend_type": "generic"})
        self.assertFalse(issubclass(generic._adapter_class(), PsaAdapter), "other types: super()")

    def test_every_operation_has_a_handler_of_the_adapter(self):
        adapter = self.backend._adapter()
        handlers = adapter.job_handlers()
        for operation in OPERATIONS:
            self.assertIn(operation, handlers, f"{operation} is handled by the adapter")
            self.assertEqual(self.backend._job_handler(operation, adapter), handlers[operation])
        self.assertFalse(
            [name for name in dir(self.backend) if name.startswith("_job_psa")],
            "no _job_<operation> hook left on the backend",
        )
        for stream in self.backend.stream_ids:
            self.assertFalse(hasattr(self.backend, f"_pull_{stream.code}"), stream.code)

    def test_webhooks_are_refused_with_the_reason(self):
        adapter = self.backend._adapter()
        with self.assertRaises(SignatureError) as caught:
            adapter.webhook_verify("POST", "http://x/hook", {}, b"{}", 0)
        self.assertIn("Harvest sends no webhooks", str(caught.exception))
        self.assertEqual(caught.exception.reason, "missing")
        with self.assertRaises(ValueError):
            adapter.webhook_events({}, {})
