from odoo.tests import tagged

from odoo.addons.connector_base.engine.errors import BusinessError

from .common import ConnectorCase


@tagged("post_install", "-at_install")
class TestBindings(ConnectorCase):
    def setUp(self):
        super().setUp()
        self.Binding = self.env["connector.binding"]
        self.Record = self.env["connector.test.record"]

    def test_bind_find_and_refresh(self):
        record = self.Record.create({"name": "Acme"})
        binding = self.Binding._bind(
            self.backend, record, "Account", "001A", version="3", payload={"a": 1}
        )
        self.assertEqual(self.Binding._find(self.backend, "Account", "001A"), record)
        again = self.Binding._bind(
            self.backend, record, "Account", "001A", version="4", payload={"a": 2}
        )
        self.assertEqual(again, binding, "binding again refreshes the same row")
        self.assertEqual(binding.remote_version, "4")
        self.assertIsNone(self.Binding._find(self.backend, "Account", "missing"))
        self.assertEqual(
            self.Binding.search([("remote_id", "=", "001A")]), binding, "searchable by remote id"
        )

    def test_bind_many_at_once_and_what_it_leaves_to_bind_one_by_one(self):
        records = self.Record.create([{"name": f"R{i}"} for i in range(3)])
        other = self.Record.create({"name": "Other"})
        self.Binding._bind(self.backend, other, "Account", "T-2")  # T-2 is someone else's
        left = self.Binding._bind_many(
            self.backend, records, "Account", ["T-0", "T-1", "T-2"], [None, None, None]
        )
        self.assertEqual(left, {"T-2"}, "a remote id bound to another record is left to _bind")
        self.assertEqual(self.Binding._find(self.backend, "Account", "T-0"), records[0])
        self.assertEqual(self.Binding._find(self.backend, "Account", "T-1"), records[1])
        self.assertEqual(self.Binding._find(self.backend, "Account", "T-2"), other)
        # A record already bound to another remote id: nothing is bound, all are left.
        more = self.Record.create([{"name": "R3"}])
        left = self.Binding._bind_many(self.backend, more | records[0], "Account", ["T-3", "T-9"])
        self.assertEqual(left, {"T-3", "T-9"})
        self.assertIsNone(self.Binding._find(self.backend, "Account", "T-3"))
        self.assertEqual(self.Binding._bind_many(self.backend, self.Record, "Account", []), set())

    def test_unique_in_both_directions(self):
        first = self.Record.create({"name": "First"})
        second = self.Record.create({"name": "Second"})
        self.Binding._bind(self.backend, first, "Account", "001A")
        with self.assertRaises(BusinessError) as caught:
            self.Binding._bind(self.backend, second, "Account", "001A")
        self.assertIn("already bound to First", str(caught.exception))
        with self.assertRaises(BusinessError) as caught:
            self.Binding._bind(self.backend, first, "Account", "002B")
        self.assertIn("already bound", str(caught.exception))
        other_backend = self.backend.copy({"name": "Sandbox"})
        self.Binding._bind(other_backend, second, "Account", "001A")  # per backend: allowed

    def test_echo_is_recognised_whatever_the_key_order(self):
        record = self.Record.create({"name": "Echo"})
        binding = self.Binding._bind(
            self.backend, record, "Account", "E1", payload={"x": 1, "y": [1, 2]}
        )
        self.assertTrue(binding._is_echo({"y": [1, 2], "x": 1}))
        self.assertFalse(binding._is_echo({"x": 2, "y": [1, 2]}))

    def test_echo_suppressed_in_an_import(self):
        job = self.enqueue(
            "generic.event",
            {
                "id": "1",
                "type": "record.upsert",
                "object_id": "E2",
                "data": {"name": "Echo", "value": 1},
            },
        )
        self.run_queue()
        record = job.result_model and self.Record.browse(job.result_id)
        record.write({"value": 99})  # a local change
        self.enqueue(
            "generic.event",
            {
                "id": "2",
                "type": "record.upsert",
                "object_id": "E2",
                "data": {"name": "Echo", "value": 1},
            },
        )
        self.run_queue()
        self.assertEqual(record.value, 99, "the same payload coming back is an echo: no overwrite")

    def test_mixin_smart_button_and_cleanup(self):
        record = self.Record.create({"name": "Mixin"})
        self.Binding._bind(self.backend, record, "Account", "M1")
        record.invalidate_recordset()
        self.assertEqual(record.connector_binding_count, 1)
        self.assertEqual(record.connector_binding_ids.remote_id, "M1")
        action = record.action_view_connector_bindings()
        self.assertEqual(self.Binding.search(action["domain"]).remote_id, "M1")
        record.unlink()
        self.assertFalse(
            self.Binding.search([("remote_id", "=", "M1")]), "bindings follow deletion"
        )
