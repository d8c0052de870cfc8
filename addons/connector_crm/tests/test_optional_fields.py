from odoo.tests import tagged

from .common import CrmCase

UNMAPPED = ("tax_treatment", "po_number", "cap_amount", "line_billing_model")
KEPT_WRITEBACK = ("invoiced_total", "project_status")


@tagged("post_install", "-at_install")
class TestOptionalFields(CrmCase):
    """An org does not have to create every custom field the connector knows: an admin clears
    the field names it lacks (unmapped: not read, not written), and backend defaults stand in
    for the values a deal needs."""

    def setUp(self):
        super().setUp()
        self.ids = self.sf.seed_demo()
        # The org has none of these fields, and only two of the write-back fields.
        for name in ("Tax_Treatment__c", "PO_Number__c", "Cap_Amount__c"):
            self.sf.remove_field("Opportunity", name)
        self.sf.remove_field("OpportunityLineItem", "Billing_Model__c")
        for key, field in self.sf_backend._crm_writeback_fields().items():
            if key not in KEPT_WRITEBACK:
                self.sf.remove_field("Opportunity", field)
        self.sf_backend.write(
            {
                **{f"crm_field_{key}": False for key in UNMAPPED},
                **{
                    f"crm_wb_{key}": False
                    for key in self.sf_backend._crm_writeback_fields()
                    if key not in KEPT_WRITEBACK
                },
            }
        )
        # A billing model per product: the lines have no billing model field.
        for mapping in self.sf_backend.crm_product_map_ids:
            mapping.billing_model = "fixed_fee" if mapping.remote_code != "CONS-H" else "tm"

    def test_unmapped_fields_are_neither_read_nor_written(self):
        self.pull(self.sf_backend)
        pulls = self.jobs(self.sf_backend, "stream.pull")
        self.assertEqual(set(pulls.mapped("state")), {"done"}, pulls.mapped("last_error"))
        soql = " ".join(r.query.get("q", "") for r in self.sf.server.requests)
        for name in ("Tax_Treatment__c", "PO_Number__c", "Cap_Amount__c", "Odoo_Paid_Total__c"):
            self.assertNotIn(name, soql, f"{name} is not selected")
        order = self.order_of(self.sf_backend, self.ids["globex_consulting"])
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.client_order_ref, "no PO number field: none")
        self.assertEqual(order.ps_cap_amount, 0.0, "no cap field: no cap")
        self.assertFalse(order.fiscal_position_id, "no tax treatment field, no default: Odoo's")
        self.assertEqual(order.order_line.ps_billing_model, "tm", "the product mapping's model")
        written = {
            name
            for method, sobject, _id, fields in self.sf.writes
            if sobject == "Opportunity"
            for name in fields
        }
        self.assertEqual(
            written,
            {self.sf_backend.crm_wb_invoiced_total, self.sf_backend.crm_wb_project_status},
            "only the mapped write-back fields are pushed",
        )
        attention = self.jobs(self.sf_backend, state="needs_attention")
        self.assertEqual(len(attention), 1, attention.mapped("last_error"))
        self.assertIn("NEW-SKU", attention.last_error)

    def test_a_default_tax_treatment_stands_in_for_the_missing_field(self):
        self.sf_backend.crm_default_tax_treatment = "EU reverse charge"
        self.pull(self.sf_backend)
        order = self.order_of(self.sf_backend, self.ids["northwind_erp"])
        self.assertEqual(order.fiscal_position_id, self.reverse_charge)

    def test_messages_name_what_is_really_missing(self):
        self.sf_backend.write({"crm_field_project_template": False})
        self.sf_backend.crm_product_map_ids.billing_model = False
        self.pull(self.sf_backend)
        job = self.jobs(self.sf_backend, "crm.engagement.create", "needs_attention").filtered(
            lambda job: job.record_key == f"deal:{self.ids['initech_mixed']}"
        )
        self.assertIn(
            "the backend maps no CRM field for it and has no default project template",
            job.last_error,
        )
        self.assertIn("has no billing model: set Billing_Model__c on the deal", job.last_error)
        self.assertNotIn("on the line", job.last_error, "the line field is not mapped")
        self.assertNotIn("Project_Template__c", job.last_error)

    def test_test_connection_names_the_mapped_fields_the_org_lacks(self):
        self.sf_backend.crm_field_po_number = "PO_Number__c"  # mapped again, missing in the org
        self.sf_backend.with_user(self.connector_manager).action_test_connection()
        text = self.sf_backend.crm_connected_as
        self.assertIn("Opportunity.PO_Number__c", text)
        self.assertIn("clear their names on the Deals tab", text)
        self.sf_backend.crm_field_po_number = False
        self.sf_backend.with_user(self.connector_manager).action_test_connection()
        self.assertNotIn("does not have", self.sf_backend.crm_connected_as)
