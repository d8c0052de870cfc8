"""The access-rights matrix of the whole suite: per group and model, read / write / create /
delete, and what each button of the suite's screens does for that group.

It covers every model the suite's addons (``addons/`` of the repository) define in the database
it runs on (all of them under ``make test``). A model of an addon added later (connector_psa,
ps_intercompany...) fails the test until someone decides what each group may do with it and adds
it to ``access_matrix.py``; a changed right fails it too, with the difference.

Buttons are pressed for real, as a user of each group, on a record of the model (demo data, or a
record of connector_base's own fixtures), in a savepoint rolled back after each press: "ok" (it
ran), "denied" (AccessError: the group may not), or "refused" (another error: the record's
state or data did not allow it, which is not a question of rights).
"""

import os

from lxml import etree

from odoo.exceptions import AccessDenied, AccessError
from odoo.modules.module import get_module_path
from odoo.tests import new_test_user, tagged

from .access_matrix import BUTTONS, DENIED, EXPECTED_ACCESS, GROUPS, NO_RECORD, NO_RIGHTS
from .common import ConnectorCase

REPOSITORY_ADDONS = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPERATIONS = (("read", "r"), ("write", "w"), ("create", "c"), ("unlink", "d"))


class Undo(Exception):
    """Raised after a button ran, to roll its savepoint back."""


def suite_addons(env):
    """Installed addons of the suite: those living in the repository's addons/ folder."""
    installed = env["ir.module.module"].sudo().search([("state", "=", "installed")])
    return {
        module.name
        for module in installed
        if (path := get_module_path(module.name, display_warning=False))
        and os.path.realpath(path).startswith(REPOSITORY_ADDONS + os.sep)
    }


@tagged("post_install", "-at_install")
class TestAccessMatrix(ConnectorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addons = suite_addons(cls.env)
        cls.users = {}
        for key, xmlid in GROUPS:
            group = cls.env.ref(xmlid, raise_if_not_found=False)
            if not group:
                continue  # its addon is not installed here
            groups = xmlid if xmlid == "base.group_portal" else f"base.group_user,{xmlid}"
            cls.users[key] = new_test_user(cls.env, login=f"matrix_{key}", groups=groups)

    def suite_models(self):
        return sorted(
            name
            for name, model in self.env.registry.items()
            if model._original_module in self.addons and not model._abstract
        )

    def rights(self, model, user):
        records = self.env[model].with_user(user).browse()
        return "".join(
            letter if records.has_access(operation) else "-" for operation, letter in OPERATIONS
        )

    def test_every_suite_model_has_the_expected_rights_per_group(self):
        self.assertIn("connector_base", self.addons)
        models = self.suite_models()
        self.assertIn("connector.job", models)
        missing = [m for m in models if m not in EXPECTED_ACCESS]
        actual = {
            m: {key: self.rights(m, user) for key, user in self.users.items()} for m in models
        }
        differences = [
            f"  {model} / {key}: expected {EXPECTED_ACCESS[model].get(key, NO_RIGHTS)}, got {got}"
            for model in models
            if model in EXPECTED_ACCESS
            for key, got in actual[model].items()
            if EXPECTED_ACCESS[model].get(key, NO_RIGHTS) != got
        ]
        self.assertFalse(
            missing,
            "Models of the suite without an entry in the access matrix (decide what each group "
            "may do, then add them to addons/connector_base/tests/access_matrix.py):\n"
            + "\n".join(
                f"  {m!r}: { ({k: v for k, v in actual[m].items() if v != NO_RIGHTS})!r},"
                for m in missing
            ),
        )
        self.assertFalse(differences, "Access rights changed:\n" + "\n".join(differences))
        self.print_matrix(models, actual)

    def print_matrix(self, models, actual):
        keys = list(self.users)
        width = max(len(m) for m in models)
        lines = ["", "Access matrix (r read, w write, c create, d delete):"]
        lines.append(" " * width + "  " + " ".join(f"{k[:17]:>17}" for k in keys))
        for model in models:
            lines.append(f"{model:<{width}}  " + " ".join(f"{actual[model][k]:>17}" for k in keys))
        print("\n".join(lines))

    # ------------------------------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------------------------------

    def suite_buttons(self):
        """(model, method) of every object button in the views the suite's addons ship."""
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search([("model", "=", "ir.ui.view"), ("module", "in", list(self.addons))])
        )
        views = self.env["ir.ui.view"].sudo().browse(data.mapped("res_id")).exists()
        found = set()
        for view in views:
            arch = etree.fromstring(view.arch_db.encode())
            for button in arch.iter("button"):
                if button.get("type") == "object" and button.get("name"):
                    found.add((self.button_model(button, view.model), button.get("name")))
        return sorted(found)

    def button_model(self, button, model):
        """A button inside a one2many/many2many's own list acts on that field's records."""
        for ancestor in reversed(list(button.iterancestors())):
            if ancestor.tag == "field" and ancestor.get("name") in self.env[model]._fields:
                model = self.env[model]._fields[ancestor.get("name")].comodel_name or model
        return model

    def record_for(self, model, method):
        """A record to press the button on: connector_base's fixtures, or the first one."""
        fixtures = self.fixtures()
        for key in ((model, method), model):
            if key in fixtures:
                return fixtures[key]
        return self.env[model].sudo().search([], limit=1, order="id")

    def fixtures(self):
        if not hasattr(self, "_fixtures"):
            failed = self.enqueue("test.behave", {"fail": "business"})
            self.run_queue()
            stream = self.env["connector.stream"].create(
                {"backend_id": self.backend.id, "code": "records", "name": "Records"}
            )
            self.backend.health = "degraded"  # "Mark as OK" has something to do
            upsert = self.enqueue(
                "generic.event",
                {"id": "m1", "type": "record.upsert", "object_id": "M-1", "data": {"name": "M"}},
            )
            self.run_queue()
            self._fixtures = {
                ("connector.job", "action_open_result"): upsert,
                "connector.job": failed,
                "connector.backend": self.backend,
                "connector.stream": stream,
                "connector.binding": self.env["connector.binding"]._bind(
                    self.backend,
                    self.env["connector.test.record"].create({"name": "Bound"}),
                    "TestObject",
                    "T-1",
                ),
                "connector.job.payload.wizard": self.env["connector.job.payload.wizard"].create(
                    {"job_id": failed.id, "payload": "{}", "reason": "matrix"}
                ),
                "connector.stream.reset.wizard": self.env["connector.stream.reset.wizard"].create(
                    {"stream_ids": [(6, 0, stream.ids)], "pull_now": False}
                ),
                "connector.audit.erasure.wizard": self.env["connector.audit.erasure.wizard"].create(
                    {"extra_terms": "nobody-in-particular"}
                ),
                "res.config.settings": self.env["res.config.settings"].create({}),
            }
        return self._fixtures

    def press(self, record, method, user):
        """Press the button as ``user``, then undo whatever it did (savepoint rolled back)."""
        try:
            with self.env.cr.savepoint():
                getattr(record.with_user(user), method)()
                raise Undo()
        except Undo:
            return "ok"
        except (AccessError, AccessDenied):
            return "denied"
        except Exception as exc:
            if os.environ.get("MATRIX_DEBUG"):
                print(f"{record._name}.{method} as {user.login}: {type(exc).__name__}: {exc}")
            return "refused"
        finally:
            self.env.invalidate_all()

    def test_every_suite_button_does_what_the_matrix_says_per_group(self):
        buttons = self.suite_buttons()
        self.assertIn(("connector.job", "action_retry"), buttons)
        missing, differences, actual = [], [], {}
        for model, method in buttons:
            record = self.record_for(model, method)
            if not record:
                outcomes = dict.fromkeys(self.users, "no record")
            else:
                outcomes = {
                    key: self.press(record, method, user) for key, user in self.users.items()
                }
            actual[(model, method)] = outcomes
            expected = BUTTONS.get((model, method))
            if expected is None:
                listed = {k: v for k, v in outcomes.items() if v != DENIED}
                missing.append(f"  ({model!r}, {method!r}): {listed!r},")
                continue
            if expected == NO_RECORD:
                expected = dict.fromkeys(outcomes, NO_RECORD)
            differences += [
                f"  {model}.{method} / {key}: expected {expected.get(key, DENIED)}, got {got}"
                for key, got in outcomes.items()
                if expected.get(key, DENIED) != got
            ]
        self.assertFalse(
            missing,
            "Buttons of the suite without an entry in the matrix (add them to BUTTONS in "
            "addons/connector_base/tests/access_matrix.py):\n" + "\n".join(missing),
        )
        self.assertFalse(differences, "Button outcomes changed:\n" + "\n".join(differences))
        keys = list(self.users)
        width = max(len(f"{m}.{b}") for m, b in buttons)
        lines = ["", "Buttons (ok / denied / refused: state or data, not rights):"]
        lines.append(" " * width + "  " + " ".join(f"{k[:17]:>17}" for k in keys))
        for (model, method), outcomes in actual.items():
            lines.append(
                f"{model + '.' + method:<{width}}  " + " ".join(f"{outcomes[k]:>17}" for k in keys)
            )
        print("\n".join(lines))
