from odoo import fields, models
from odoo.tools import SQL


class PsIcRechargeableMixin(models.AbstractModel):
    """What a rechargeable item (timesheet line, expense) knows of its recharges: whether it was
    recharged (read from the ledger, not a copy on the item: 50,000 items a month would each be
    rewritten), and that the ledger must be checked again when it changes or is deleted."""

    _name = "ps.ic.rechargeable.mixin"
    _description = "Rechargeable item"
    # Fields whose change may change what the item is worth to the provider.
    _ps_ic_relevant_fields = ()

    ps_ic_recharged = fields.Boolean(
        string="Recharged",
        compute="_compute_ps_ic_recharged",
        search="_search_ps_ic_recharged",
        help="Recharged by the employee's company to the project's company (not credited).",
    )

    def _compute_ps_ic_recharged(self):
        recharged = set(self._ps_ic_recharged_ids())
        for item in self:
            item.ps_ic_recharged = item.id in recharged

    def _ps_ic_recharged_ids(self):
        if not self.ids:
            return []
        self.env["ps.ic.recharge.entry"].flush_model()
        self.env.cr.execute(
            """SELECT item_ref FROM ps_ic_recharge_entry
               WHERE item_model = %s AND item_ref = ANY(%s)
               GROUP BY item_ref HAVING SUM(amount) != 0 OR SUM(quantity) != 0""",
            (self._name, self.ids),
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _search_ps_ic_recharged(self, operator, value):
        positive = (operator == "=") == bool(value)
        query = SQL(
            """(SELECT item_ref FROM ps_ic_recharge_entry WHERE item_model = %s
               GROUP BY item_ref HAVING SUM(amount) != 0 OR SUM(quantity) != 0)""",
            self._name,
        )
        return [("id", "in" if positive else "not in", query)]

    def _ps_ic_mark_changed(self):
        self.env["ps.ic.recharge.entry"]._mark_stale(self._name, self.ids)

    def write(self, vals):
        result = super().write(vals)
        if set(self._ps_ic_relevant_fields) & set(vals):
            self._ps_ic_mark_changed()
        return result

    def unlink(self):
        self._ps_ic_mark_changed()
        return super().unlink()
