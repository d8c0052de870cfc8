from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PsRateCardLine(models.Model):
    _name = "ps.rate.card.line"
    _description = "Rate Card Line"
    _order = "card_id, employee_id, job_id, product_id, date_from desc, id"

    card_id = fields.Many2one("ps.rate.card", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    currency_id = fields.Many2one(related="card_id.currency_id")
    employee_id = fields.Many2one("hr.employee", string="Employee")
    job_id = fields.Many2one("hr.job", string="Role")
    product_id = fields.Many2one(
        "product.product", string="Service", domain=[("type", "=", "service")]
    )
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    rate = fields.Monetary(required=True, currency_field="currency_id", help="Per hour.")

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for line in self:
            if line.date_from and line.date_to and line.date_to < line.date_from:
                raise ValidationError(_("A rate cannot end (%s) before it starts.", line.date_to))

    @api.constrains("rate")
    def _check_rate(self):
        for line in self:
            if line.rate < 0:
                raise ValidationError(_("A billing rate cannot be negative."))
