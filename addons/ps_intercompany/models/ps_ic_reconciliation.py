from odoo import _, api, fields, models

from ..engine import matching, reasons
from ..engine.money import dec, round_to

STATES = [
    ("tied", "Tied"),
    ("explained", "Differences explained"),
    ("differences", "Differences to explain"),
]


class PsIcReconciliation(models.Model):
    """Intercompany reconciliation of a company pair for a period: every document of one
    company with the other matched to its mirror, or listed as a difference with its reason;
    receivable against payable and revenue against cost, in each currency and in the group
    currency. Read from journal items and documents each time it is refreshed."""

    _name = "ps.ic.reconciliation"
    _description = "Intercompany Reconciliation"
    _inherit = ["mail.thread"]
    _order = "date_to desc, company_a_id, company_b_id"

    name = fields.Char(compute="_compute_name", store=True)
    company_a_id = fields.Many2one("res.company", string="Company", required=True, index=True)
    company_b_id = fields.Many2one("res.company", string="Other company", required=True, index=True)
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    line_ids = fields.One2many("ps.ic.reconciliation.line", "reconciliation_id", string="Lines")
    state = fields.Selection(STATES, readonly=True, default="differences", tracking=True)
    group_currency_id = fields.Many2one("res.currency", readonly=True)
    document_count = fields.Integer(readonly=True)
    difference_count = fields.Integer(readonly=True)
    unexplained_count = fields.Integer(compute="_compute_unexplained")
    group_difference = fields.Monetary(
        currency_field="group_currency_id",
        readonly=True,
        help="Receivables minus payables between the two companies at the period end, in the "
        "group currency (exchange rates and revaluations included).",
    )
    refreshed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "pair_period_uniq",
            "unique(company_a_id, company_b_id, date_from, date_to)",
            "One reconciliation per company pair and period.",
        )
    ]

    @api.depends("company_a_id", "company_b_id", "date_from", "date_to")
    def _compute_name(self):
        for rec in self:
            rec.name = f"{rec.company_a_id.name} ↔ {rec.company_b_id.name}, {rec.date_from} - {rec.date_to}"

    @api.depends("line_ids.status", "line_ids.explanation")
    def _compute_unexplained(self):
        for rec in self:
            rec.unexplained_count = len(
                rec.line_ids.filtered(
                    lambda line: line.status == "difference" and not line.explanation
                )
            )

    # ------------------------------------------------------------------------------------------
    # The period at a glance
    # ------------------------------------------------------------------------------------------

    @api.model
    def _pairs(self, date_from, date_to):
        """Company pairs with an agreement in force in the period or documents between them."""
        pairs = set()
        for agreement in (
            self.env["ps.ic.agreement"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("date_from", "<=", date_to),
                    "|",
                    ("date_to", "=", False),
                    ("date_to", ">=", date_from),
                ]
            )
        ):
            pairs.add(
                tuple(sorted((agreement.provider_company_id.id, agreement.receiver_company_id.id)))
            )
        self.env["account.move"].flush_model(["company_id", "commercial_partner_id", "date"])
        self.env.cr.execute(
            """SELECT DISTINCT m.company_id, c.id FROM account_move m
               JOIN res_company c ON c.partner_id = m.commercial_partner_id AND c.id != m.company_id
               WHERE m.date BETWEEN %s AND %s AND m.state != 'cancel'""",
            (date_from, date_to),
        )
        pairs |= {tuple(sorted(row)) for row in self.env.cr.fetchall()}
        return sorted(pairs)

    @api.model
    def _reconcile_period(self, date_from, date_to):
        """Create or refresh the reconciliation of every pair for the period."""
        records = self.browse()
        mine = self.env.user.company_ids.ids
        for a, b in self._pairs(date_from, date_to):
            if not self.env.su and a not in mine and b not in mine:
                continue  # pairs of other companies are their controllers' business
            rec = self.sudo().search(
                [
                    ("company_a_id", "=", a),
                    ("company_b_id", "=", b),
                    ("date_from", "=", date_from),
                    ("date_to", "=", date_to),
                ]
            ) or self.sudo().create(
                {"company_a_id": a, "company_b_id": b, "date_from": date_from, "date_to": date_to}
            )
            records |= rec
        records.action_refresh()
        return records

    @api.model
    def _open_period(self, date_from, date_to):
        records = self._reconcile_period(date_from, date_to)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "ps_intercompany.action_ps_ic_reconciliation"
        )
        action["domain"] = [("id", "in", records.ids)]
        action["context"] = {}
        open_pairs = records.filtered(lambda rec: rec.state != "tied")
        if not records:
            summary = _("no intercompany activity")
        elif not open_pairs:
            summary = _("all %s pairs tie", len(records))
        else:
            summary = _(
                "%(open)s of %(count)s pairs to explain", open=len(open_pairs), count=len(records)
            )
        action["name"] = action["display_name"] = _(
            "Reconciliation %(start)s - %(end)s: %(summary)s",
            start=date_from,
            end=date_to,
            summary=summary,
        )
        return action

    # ------------------------------------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------------------------------------

    def action_refresh(self):
        self.check_access("write")
        Line = self.env["ps.ic.reconciliation.line"].sudo()
        group_company = self.env["ps.ic.elimination.report"]._group_company()
        for rec in self.sudo():
            explanations = {line.key: line.explanation for line in rec.line_ids if line.explanation}
            rec.line_ids.unlink()
            values = []
            for provider, receiver in (
                (rec.company_a_id, rec.company_b_id),
                (rec.company_b_id, rec.company_a_id),
            ):
                values += rec._direction_lines(provider, receiver, group_company)
            for vals in values:
                vals["reconciliation_id"] = rec.id
                vals["explanation"] = explanations.get(vals["key"], False)
            lines = Line.create(values)
            differences = lines.filtered(lambda line: line.status == "difference")
            if not differences:
                state = "tied"
            elif all(differences.mapped("explanation")):
                state = "explained"
            else:
                state = "differences"
            balances = lines.filtered(lambda line: line.line_type == "balance")
            rec.write(
                {
                    "state": state,
                    "group_currency_id": group_company.currency_id.id,
                    "document_count": len(
                        lines.filtered(lambda line: line.line_type == "document")
                    ),
                    "difference_count": len(differences),
                    "group_difference": sum(balances.mapped("group_difference")),
                    "refreshed_at": fields.Datetime.now(),
                }
            )
        return True

    def _update_state(self):
        for rec in self:
            differences = rec.line_ids.filtered(lambda line: line.status == "difference")
            if not differences:
                state = "tied"
            elif all(differences.mapped("explanation")):
                state = "explained"
            else:
                state = "differences"
            if rec.state != state:
                rec.sudo().state = state

    def _direction_lines(self, provider, receiver, group_company):
        """Lines of values for what ``provider`` charged ``receiver``: documents, then the
        receivable/payable balance at the period end and revenue/cost of the period."""
        collector = self.env["ps.ic.reconciliation.collector"]
        agreement = self.env["ps.ic.agreement"]._for_pair(provider, receiver, self.date_to)
        p_docs, r_docs, moves = collector._documents(
            provider, receiver, agreement, self.date_from, self.date_to
        )
        digits = 2
        matches = matching.match_documents(p_docs, r_docs, (self.date_from, self.date_to), digits)
        values = []
        for match in matches:
            values.append(self._document_values(provider, receiver, match, moves, group_company))
        for line_type, label, rows in (
            (
                "balance",
                _("Receivable / payable at %s", self.date_to),
                collector._balances(provider, receiver, self.date_to),
            ),
            (
                "pnl",
                _("Revenue / cost %(start)s - %(end)s", start=self.date_from, end=self.date_to),
                collector._pnl(provider, receiver, self.date_from, self.date_to),
            ),
        ):
            for currency_id, p_amount, r_amount, p_company, r_company in rows:
                values.append(
                    self._balance_values(
                        provider,
                        receiver,
                        line_type,
                        label,
                        currency_id,
                        p_amount,
                        r_amount,
                        p_company,
                        r_company,
                        group_company,
                    )
                )
        return values

    def _to_group(self, amount, company, group_company, day):
        if not amount:
            return 0.0
        return company.currency_id._convert(amount, group_company.currency_id, group_company, day)

    def _document_values(self, provider, receiver, match, moves, group_company):
        p, r = match.provider, match.receiver
        p_move = moves.get(p.id) if p else None
        r_move = moves.get(r.id) if r else None
        reason_labels = dict(reasons.DIFFERENCE_REASONS)
        p_company = moves.get(("company", p.id), 0.0) if p else 0.0
        r_company = moves.get(("company", r.id), 0.0) if r else 0.0
        p_group = self._to_group(p_company, provider, group_company, p.day) if p else 0.0
        r_group = self._to_group(r_company, receiver, group_company, r.day) if r else 0.0
        doc = p or r
        return {
            "line_type": "document",
            "key": f"doc:{p.id if p else 0}:{r.id if r else 0}",
            "provider_company_id": provider.id,
            "receiver_company_id": receiver.id,
            "kind": doc.kind,
            "provider_move_id": p_move.id if p_move else False,
            "receiver_move_id": r_move.id if r_move else False,
            "provider_ref": p.name if p else False,
            "receiver_ref": r.name if r else False,
            "provider_state": p.state if p else False,
            "receiver_state": r.state if r else False,
            "provider_date": p.day if p else False,
            "receiver_date": r.day if r else False,
            "currency_id": doc.currency,
            "receiver_currency_id": r.currency if r else False,
            "provider_amount": float(p.total) if p else 0.0,
            "receiver_amount": float(r.total) if r else 0.0,
            "difference": float(match.difference),
            "provider_company_amount": p_company,
            "receiver_company_amount": r_company,
            "provider_group_amount": p_group,
            "receiver_group_amount": r_group,
            "group_difference": p_group - r_group,
            "status": "tied" if match.tied else "difference",
            "reason": match.reasons[0] if match.reasons else False,
            "reasons_text": ", ".join(reason_labels[code] for code in match.reasons),
        }

    def _balance_values(
        self,
        provider,
        receiver,
        line_type,
        label,
        currency_id,
        p_amount,
        r_amount,
        p_company,
        r_company,
        group_company,
    ):
        currency = self.env["res.currency"].browse(currency_id)
        p_group = self._to_group(p_company, provider, group_company, self.date_to)
        r_group = self._to_group(r_company, receiver, group_company, self.date_to)
        difference = float(round_to(dec(p_amount) - dec(r_amount), currency.decimal_places))
        return {
            "line_type": line_type,
            "key": f"{line_type}:{provider.id}:{receiver.id}:{currency_id}",
            "provider_company_id": provider.id,
            "receiver_company_id": receiver.id,
            "kind": False,
            "provider_ref": label,
            "currency_id": currency_id,
            "provider_amount": p_amount,
            "receiver_amount": r_amount,
            "difference": difference,
            "provider_company_amount": p_company,
            "receiver_company_amount": r_company,
            "provider_group_amount": p_group,
            "receiver_group_amount": r_group,
            "group_difference": p_group - r_group,
            "status": "difference" if difference else "tied",
            "reason": reasons.DIFF_AMOUNT if difference else False,
            "reasons_text": _("Balances differ in %s", currency.name) if difference else False,
        }

    def action_view_differences(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "ps.ic.reconciliation.line",
            "view_mode": "list,form",
            "domain": [("reconciliation_id", "=", self.id), ("status", "=", "difference")],
        }

    def action_propose_netting(self):
        self.ensure_one()
        self.check_access("read")
        self.env["ps.ic.netting"].check_access("create")
        return {
            "type": "ir.actions.act_window",
            "res_model": "ps.ic.netting.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_company_a_id": self.company_a_id.id,
                "default_company_b_id": self.company_b_id.id,
                "default_date": self.date_to,
            },
        }
