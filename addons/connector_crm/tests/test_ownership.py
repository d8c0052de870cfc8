from odoo.tests import tagged

from .common import CrmCase


@tagged("post_install", "-at_install")
class TestOwnership(CrmCase):
    """Account and contact fields follow the backend's ownership matrix (defaults: name, website
    and address CRM-owned; phone shared; state create-only; customer reference Odoo-owned)."""

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        self.pull(self.sf_backend)
        self.account = self.ids["umbrella"]
        self.partner = self.order_of(self.sf_backend, self.ids["umbrella_advisory"]).partner_id
        accounts = self.stream("crm_accounts")
        self.assertFalse(accounts.cursor_date)
        self.pull(self.sf_backend, "crm_accounts")
        self.assertTrue(accounts.cursor_date, "the first pull only starts the cursor")
        self.assertFalse(self.jobs(self.sf_backend, "crm.partner.sync"))
        self.pull(self.sf_backend, "crm_contacts")

    def stream(self, code):
        return self.sf_backend.stream_ids.filtered(lambda s: s.code == code)

    def sync_accounts(self):
        self.pull(self.sf_backend, "crm_accounts")
        self.partner.invalidate_recordset()

    def remote(self):
        return self.sf.get("Account", self.account)

    def set_rule(self, obj, key, mode):
        rule = self.sf_backend.crm_field_rule_ids.filtered(
            lambda r: r.object == obj and r.field_key == key
        )
        rule.mode = mode

    def test_created_partner_takes_every_mapped_value(self):
        self.assertEqual(self.partner.name, "Umbrella Health Inc.")
        self.assertEqual(self.partner.phone, "+1 617 555 0400")
        self.assertEqual(self.partner.city, "Boston")
        self.assertEqual(self.partner.state_id.code, "MA")
        self.assertEqual(self.partner.ref, "CUST-1004", "an Odoo-owned field is seeded")
        self.assertEqual(self.remote()["AccountNumber"], "CUST-1004", "and not blanked")

    def test_crm_owned_field_follows_the_crm_and_odoo_edits_are_not_pushed(self):
        writes = len(self.sf.writes)
        self.partner.website = "https://odoo-side.example.com"
        self.drain()
        self.assertEqual(len(self.sf.writes), writes, "a CRM-owned field is not pushed")
        self.sf.update("Account", self.account, Website="https://umbrella.example.org")
        self.sync_accounts()
        self.assertEqual(self.partner.website, "https://umbrella.example.org")

    def test_odoo_owned_field_is_pushed_and_wins_over_crm_edits(self):
        self.partner.ref = "ODOO-42"
        self.drain()
        self.assertEqual(self.remote()["AccountNumber"], "ODOO-42")
        # The echo of our own write changes nothing and pushes nothing.
        writes = len(self.sf.writes)
        self.sync_accounts()
        self.assertEqual(len(self.sf.writes), writes)
        self.assertEqual(self.partner.ref, "ODOO-42")
        # A CRM user overwrites it: Odoo keeps its value and puts it back.
        self.sf.update("Account", self.account, AccountNumber="SF-EDIT")
        self.sync_accounts()
        self.assertEqual(self.partner.ref, "ODOO-42")
        self.assertEqual(self.remote()["AccountNumber"], "ODOO-42")

    def test_create_only_field_is_never_synced_again(self):
        writes = len(self.sf.writes)
        self.sf.update("Account", self.account, BillingState="NY")
        self.sync_accounts()
        self.assertEqual(self.partner.state_id.code, "MA")
        self.partner.state_id = self.env.ref("base.state_us_5")  # California
        self.drain()
        self.assertEqual(len(self.sf.writes), writes)
        self.assertEqual(self.remote()["BillingState"], "NY")

    def test_shared_field_changed_on_one_side_syncs_both_ways(self):
        self.sf.update("Account", self.account, Phone="+1 617 555 0499")
        self.sync_accounts()
        self.assertEqual(self.partner.phone, "+1 617 555 0499", "CRM-side change taken")
        self.partner.phone = "+1 617 555 0777"
        self.drain()
        self.assertEqual(self.remote()["Phone"], "+1 617 555 0777", "Odoo-side change pushed")
        self.sync_accounts()
        self.assertFalse(self.env["connector.crm.conflict"].search([]))

    def test_shared_field_changed_on_both_sides_is_a_conflict_a_user_resolves(self):
        Conflict = self.env["connector.crm.conflict"]
        self.partner.with_context(connector_crm_inbound=True).phone = "+1 000"  # not pushed
        self.sf.update("Account", self.account, Phone="+1 617 555 0999")
        # The contact's e-mail (shared too) changes on both sides as well.
        contact = self.partner.child_ids.filtered(lambda p: p.name == "Alice Abernathy")
        contact.with_context(connector_crm_inbound=True).email = "alice@odoo-side.example"
        self.sf.update("Contact", self.ids["alice"], Email="alice@crm-side.example")
        self.sync_accounts()
        self.pull(self.sf_backend, "crm_contacts")
        conflicts = Conflict.search([("backend_id", "=", self.sf_backend.id)])
        self.assertEqual(sorted(conflicts.mapped("field_key")), ["email", "phone"])
        phone = conflicts.filtered(lambda c: c.field_key == "phone")
        self.assertEqual((phone.odoo_value, phone.crm_value), ("+1 000", "+1 617 555 0999"))
        self.assertEqual(phone.record_name, "Umbrella Health Inc.")
        self.assertEqual(self.partner.phone, "+1 000", "nothing decided for the user")
        self.assertEqual(self.remote()["Phone"], "+1 617 555 0999")
        # The same conflict pulled again stays one item.
        self.sf.update("Account", self.account, Phone="+1 617 555 0998")
        self.sync_accounts()
        self.assertEqual(len(Conflict.search([("field_key", "=", "phone")])), 1)
        self.assertEqual(phone.crm_value, "+1 617 555 0998")
        # Keep Odoo's phone: pushed. Take the CRM's e-mail: written in Odoo.
        phone.with_user(self.integration_user).action_keep_odoo()
        email = conflicts - phone
        email.with_user(self.integration_user).action_take_crm()
        self.drain()
        self.assertEqual(self.remote()["Phone"], "+1 000")
        self.assertEqual(contact.email, "alice@crm-side.example")
        self.assertEqual(set(conflicts.mapped("state")), {"odoo", "crm"})
        self.assertEqual(phone.resolved_by, self.integration_user)
        # Both sides agree now: the next pulls raise nothing new.
        self.sync_accounts()
        self.pull(self.sf_backend, "crm_contacts")
        self.assertFalse(Conflict.search([("state", "=", "open")]))

    def test_ownership_modes_are_per_backend_settings(self):
        self.set_rule("account", "phone", "odoo")
        self.sf.update("Account", self.account, Phone="+1 617 555 0111")
        self.sync_accounts()
        self.assertEqual(self.partner.phone, "+1 617 555 0400", "Odoo owns it now")
        self.assertEqual(self.remote()["Phone"], "+1 617 555 0400", "and put its value back")
