"""Shared set-up of the CRM connector tests: fake Salesforce and HubSpot servers on loopback,
two backends pointed at them with complete mappings (``map_backend``, also used by the tour and
the integration steps), and a queue drain that moves the clock (``drain``)."""

from odoo import Command, fields
from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import _super_send

from odoo.addons.connector_base.engine.redaction import SECRETS
from odoo.addons.connector_base.tests.common import (
    TEST_KEY,
    drain_queue,
    harness_keys,
    vault_keys,
)
from odoo.addons.connector_crm.const import SF_WRITEBACK_DEFAULTS
from odoo.addons.connector_crm.engine.oauth import TOKENS
from odoo.addons.connector_crm.models.connector_crm_demo import (
    BILLING_MODELS as BILLING_TERMS,
)
from odoo.addons.connector_crm.models.connector_crm_demo import LEGAL_ENTITIES, PRODUCT_TERMS

try:  # the project's fake servers (tests/fakes), importable when run from the repository
    from tests.fakes.hubspot import FakeHubSpot
    from tests.fakes.salesforce import FakeSalesforce
except ImportError:  # pragma: no cover - addon installed outside the repository
    FakeHubSpot = FakeSalesforce = None

NUMERIC_WRITEBACK = ("invoiced_total", "paid_total", "outstanding", "overdue", "percent_complete")


def map_backend(env, backend, *, companies, templates, products, tax_treatments=None):
    """The mappings of a CRM backend, as a Connector Manager enters them on its Mappings tab.

    ``companies``: legal entity -> company; ``templates``: project template -> template project;
    ``products``: CRM product code -> Odoo product, or (product, default billing model);
    ``tax_treatments``: tax treatment -> fiscal positions (default: Domestic, none). The billing
    terms and the periodic products' terms are the demo's (``BILLING_MODELS`` and
    ``PRODUCT_TERMS`` of connector_crm_demo).
    """
    values = [
        {"kind": "legal_entity", "remote_value": name, "target_company_id": company.id}
        for name, company in companies.items()
    ]
    for name, positions in (tax_treatments or {"Domestic": None}).items():
        entry = {"kind": "tax_treatment", "remote_value": name}
        if positions:
            entry["fiscal_position_ids"] = [Command.set(positions.ids)]
        values.append(entry)
    values += [
        {"kind": "project_template", "remote_value": name, "template_project_id": project.id}
        for name, project in templates.items()
    ]
    values += [
        dict(terms, kind="billing_model", remote_value=name)
        for name, terms in BILLING_TERMS.items()
    ]
    env["connector.crm.value.map"].create([dict(v, backend_id=backend.id) for v in values])
    product_maps = []
    for code, product in products.items():
        product, model = product if isinstance(product, tuple) else (product, False)
        product_maps.append(
            {
                "backend_id": backend.id,
                "remote_code": code,
                "product_id": product.id,
                "billing_model": model,
                **PRODUCT_TERMS.get(code, {}),
            }
        )
    env["connector.crm.product.map"].create(product_maps)


def drain(Job, now=None, rounds=200):
    """connector_base's drain (the fakes answer instantly: backoff is waited for by moving the
    clock)."""
    return drain_queue(Job, now, rounds)


def declare_writeback_fields(fake):
    """The custom fields an admin creates on the Opportunity for the write-back."""
    for key, name in SF_WRITEBACK_DEFAULTS.items():
        kind = (
            "date" if key.endswith("_date") else "double" if key in NUMERIC_WRITEBACK else "string"
        )
        fake.add_field("Opportunity", name, kind)


class CrmCase(TransactionCase):
    """Fake CRMs running for the whole class; each test gets fresh data in them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert FakeSalesforce is not None, "run the tests from the repository root"
        cls._keys = vault_keys(TEST_KEY, *harness_keys())
        cls._keys.__enter__()
        cls.addClassCleanup(cls._keys.__exit__, None, None, None)
        cls.env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
        # Demo backends (if installed) talk to servers that are not running here.
        cls.env["connector.backend"].search([]).write({"state": "paused"})
        cls.company = cls.env.company
        cls.integration_user = new_test_user(
            cls.env,
            login="crm_integration_test",
            groups=",".join(
                [
                    "base.group_user",
                    "connector_base.group_connector_user",
                    "sales_team.group_sale_manager",
                    "project.group_project_manager",
                    "account.group_account_invoice",
                    "ps_billing_rules.group_billing_user",
                ]
            ),
        )
        cls.billing_manager = new_test_user(
            cls.env,
            login="crm_billing_manager_test",
            groups="base.group_user,sales_team.group_sale_salesman,"
            "ps_billing_rules.group_billing_manager,connector_base.group_connector_user",
        )
        cls.connector_manager = new_test_user(
            cls.env,
            login="crm_connector_manager_test",
            groups="base.group_user,connector_base.group_connector_manager",
        )
        Product = cls.env["product.product"]
        cls.products = {
            "IMPL": Product.create(
                {
                    "name": "Implementation (test)",
                    "default_code": "T-IMPL",
                    "type": "service",
                    "invoice_policy": "order",
                    "service_type": "manual",
                    "service_tracking": "project_only",
                    "list_price": 40000,
                }
            ),
            "CONS-H": Product.create(
                {
                    "name": "Consulting hours (test)",
                    "default_code": "T-CONS",
                    "type": "service",
                    "invoice_policy": "delivery",
                    "service_type": "timesheet",
                    "service_tracking": "task_in_project",
                    "uom_id": cls.env.ref("uom.product_uom_hour").id,
                    "uom_po_id": cls.env.ref("uom.product_uom_hour").id,
                    "list_price": 150,
                }
            ),
            "SUP-RET": Product.create(
                {
                    "name": "Support retainer (test)",
                    "default_code": "T-SUP",
                    "type": "service",
                    "invoice_policy": "order",
                    "service_type": "timesheet",
                    "service_tracking": "project_only",
                    "list_price": 2500,
                }
            ),
            "TRAIN": Product.create(
                {
                    "name": "Training day (test)",
                    "default_code": "T-TRAIN",
                    "type": "service",
                    "invoice_policy": "order",
                    "service_type": "manual",
                    "service_tracking": "task_in_project",
                    "list_price": 1200,
                }
            ),
        }
        Project = cls.env["project.project"]
        cls.template_impl = Project.create(
            {
                "name": "Template: implementation (test)",
                "allow_billable": True,
                "allow_milestones": True,
                "task_ids": [
                    Command.create({"name": name})
                    for name in ("Kick-off", "Design", "Build", "Go-live")
                ],
                "milestone_ids": [
                    Command.create({"name": "Design signed off"}),
                    Command.create({"name": "Go-live"}),
                ],
            }
        )
        cls.template_support = Project.create(
            {
                "name": "Template: support (test)",
                "allow_billable": True,
                "task_ids": [Command.create({"name": "Support requests"})],
            }
        )
        # A reverse-charge position as an accountant sets it up: the sales tax becomes 0 %.
        sale_tax = cls.company.account_sale_tax_id
        position = {"name": "Reverse charge (test)", "company_id": cls.company.id}
        if sale_tax:
            zero = cls.env["account.tax"].create(
                {
                    "name": "0% reverse charge (test)",
                    "amount": 0.0,
                    "type_tax_use": "sale",
                    "company_id": cls.company.id,
                    "tax_group_id": sale_tax.tax_group_id.id,
                    "country_id": sale_tax.country_id.id,
                }
            )
            position["tax_ids"] = [
                Command.create({"tax_src_id": sale_tax.id, "tax_dest_id": zero.id})
            ]
        cls.reverse_charge = cls.env["account.fiscal.position"].create(position)
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.eur_pricelist = cls.env["product.pricelist"].create(
            {"name": "EUR (test)", "currency_id": cls.eur.id, "company_id": cls.company.id}
        )

    def setUp(self):
        super().setUp()
        TOKENS.clear()
        self.sf = FakeSalesforce().start()
        self.addCleanup(self.sf.stop)
        declare_writeback_fields(self.sf)
        self.hs = FakeHubSpot().start()
        self.addCleanup(self.hs.stop)
        self.sf_backend = self.make_backend(
            "salesforce",
            name="Salesforce (test)",
            auth_base_url=self.sf.url,
            crm_auth_flow="client_credentials",
            crm_client_id=self.sf.client_id,
            secrets={"client_secret": self.sf.client_secret, "webhook_secret": "flow-secret"},
        )
        self.hs_backend = self.make_backend(
            "hubspot",
            name="HubSpot (test)",
            api_base_url=self.hs.url,
            auth_base_url=self.hs.url,
            crm_auth_flow="private_app",
            crm_client_id=self.hs.client_id,
            secrets={
                "api_token": self.hs.private_app_token,
                "client_secret": self.hs.client_secret,
            },
        )
        self.Job = self.env["connector.job"]

    def tearDown(self):
        TOKENS.clear()
        SECRETS.clear()
        super().tearDown()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Loopback calls to the fakes keep their (connect, read) timeouts: Odoo's test hook
        # raises short timeouts to 10 s and breaks on tuples.
        if r.url.startswith("http://127.0.0.1"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    # Set-up helpers --------------------------------------------------------------------------

    def make_backend(self, backend_type, *, secrets=None, **values):
        backend = self.env["connector.backend"].create(
            dict(
                {
                    "backend_type": backend_type,
                    "user_id": self.integration_user.id,
                    "crm_start_date": "2026-01-01",
                    "max_attempts": 10,
                    "retry_base_seconds": 10,
                    "retry_cap_seconds": 300,
                    "timeout_connect": 2,
                    "timeout_read": 5,
                },
                **values,
            )
        )
        manager = backend.with_user(self.connector_manager)
        for name, value in (secrets or {}).items():
            manager._set_secret(name, value)
        self.map_everything(backend)
        backend.action_activate()
        return backend

    def map_everything(self, backend):
        map_backend(
            self.env,
            backend,
            companies=dict.fromkeys(LEGAL_ENTITIES, self.company),
            templates={
                "Standard Implementation": self.template_impl,
                "Support": self.template_support,
            },
            products=self.products,
            tax_treatments={"Domestic": None, "EU reverse charge": self.reverse_charge},
        )

    # Queue helpers ---------------------------------------------------------------------------

    def drain(self, now=None, rounds=200):
        return drain(self.Job, now, rounds)

    def pull(self, backend, code="crm_deals", now=None):
        stream = backend.stream_ids.filtered(lambda s: s.code == code)
        stream._schedule_pull(now or fields.Datetime.now(), source="user")
        return self.drain(now)

    def jobs(self, backend, operation=None, state=None):
        domain = [("backend_id", "=", backend.id)]
        if operation:
            domain.append(("operation", "=", operation))
        if state:
            domain.append(("state", "=", state))
        return self.Job.search(domain, order="id")

    def order_of(self, backend, deal_id):
        return self.env["sale.order"].search(
            [("crm_backend_id", "=", backend.id), ("crm_deal_id", "=", deal_id)]
        )
