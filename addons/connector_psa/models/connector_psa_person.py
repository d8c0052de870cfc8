from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import people

USER = "user"


class ConnectorPsaPerson(models.Model):
    """A PSA user as the connector saw it last, and the employee it is linked to.

    The people mapping: Link (choose the employee, then Link) or Create employee, then the
    user's waiting jobs (and time entries) can be retried.
    """

    _name = "connector.psa.person"
    _description = "PSA person"
    _inherit = ["connector.audited.mixin"]
    _order = "backend_id, name"
    _rec_name = "name"

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    remote_id = fields.Char(string="PSA user ID", required=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    email = fields.Char(readonly=True)
    active_in_psa = fields.Boolean(string="Active in the PSA", readonly=True, default=True)
    is_admin = fields.Boolean(string="Administrator", readonly=True)
    is_contractor = fields.Boolean(string="Contractor", readonly=True)
    roles = fields.Char(readonly=True)
    employee_id = fields.Many2one(
        "hr.employee",
        string="Employee",
        help="Choose the employee and click Link; or Create employee.",
    )
    employee_company_id = fields.Many2one(
        "res.company",
        string="Company of a new employee",
        compute="_compute_employee_company_id",
        help="From the backend's company mapping (e-mail domain or PSA role).",
    )
    state = fields.Selection(
        [("linked", "Linked"), ("unlinked", "To link")],
        compute="_compute_state",
        store=True,
    )
    waiting_count = fields.Integer(string="Jobs waiting", compute="_compute_waiting_count")

    _sql_constraints = [
        ("remote_uniq", "unique(backend_id, remote_id)", "A PSA user is listed once per backend."),
    ]

    @api.depends("employee_id")
    def _compute_state(self):
        for person in self:
            person.state = "linked" if person.employee_id else "unlinked"

    def _user_shape(self):
        from ..engine.records import PsaUser

        return PsaUser(
            source=self.backend_id.backend_type,
            remote_id=self.remote_id,
            email=self.email,
            name=self.name,
            roles=tuple(r for r in (self.roles or "").split(",") if r),
        )

    def _compute_employee_company_id(self):
        for person in self:
            backend = person.backend_id
            rules = [
                (rule.match, rule.value, rule.target_company_id)
                for rule in backend.psa_company_map_ids
            ]
            person.employee_company_id = people.company_for(
                person._user_shape(), rules, backend.company_id
            )

    def _waiting_jobs(self):
        self.ensure_one()
        self.env.cr.execute(
            """SELECT id FROM connector_job
               WHERE backend_id = %s AND state IN ('needs_attention', 'dead')
                 AND (record_key = %s
                      OR (operation IN ('psa.time.entry', 'psa.expense.entry')
                          AND payload::jsonb -> 'entry' ->> 'user_id' = %s))""",
            (self.backend_id.id, f"user:{self.remote_id}", self.remote_id),
        )
        return self.env["connector.job"].sudo().browse([row[0] for row in self.env.cr.fetchall()])

    def _compute_waiting_count(self):
        for person in self:
            person.waiting_count = len(person._waiting_jobs()) if person.id else 0

    @api.model
    def _psa_upsert(self, backend, user):
        person = self.sudo().search(
            [("backend_id", "=", backend.id), ("remote_id", "=", user.remote_id)], limit=1
        )
        values = {
            "name": user.name,
            "email": user.email or False,
            "active_in_psa": user.active,
            "is_admin": user.is_admin,
            "is_contractor": user.is_contractor,
            "roles": ",".join(user.roles) or False,
        }
        if person:
            changed = {k: v for k, v in values.items() if person[k] != v}
            if changed:
                person.write(changed)
            return person
        return self.sudo().create(dict(values, backend_id=backend.id, remote_id=user.remote_id))

    def _psa_link(self, employee):
        """Link to ``employee``: the person row and the binding employee <-> PSA user."""
        self.ensure_one()
        Binding = self.env["connector.binding"].sudo()
        current = Binding.search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("remote_type", "=", USER),
                ("remote_id", "=", self.remote_id),
            ],
            limit=1,
        )
        if current and current.res_id != employee.id:
            current.unlink()  # re-linked by a person to another employee
        Binding._bind(self.backend_id, employee, USER, self.remote_id)
        if self.employee_id != employee:
            self.sudo().employee_id = employee

    def _psa_create_employee(self):
        self.ensure_one()
        company = self.employee_company_id or self.backend_id.company_id
        return (
            self.env["hr.employee"]
            .sudo()
            .create(
                {
                    "name": self.name,
                    "work_email": self.email or False,
                    "company_id": company.id,
                }
            )
        )

    def action_link(self):
        self.env["connector.backend"]._check_manager()
        for person in self:
            if not person.employee_id:
                raise UserError(_("Choose the employee of %s first, then Link.", person.name))
            person._psa_link(person.employee_id)
        return self._after_fix()

    def action_create_employee(self):
        self.env["connector.backend"]._check_manager()
        for person in self:
            if person.employee_id:
                raise UserError(_("%s is already linked to an employee.", person.name))
            person._psa_link(person._psa_create_employee())
        return self._after_fix()

    def action_unlink_employee(self):
        self.env["connector.backend"]._check_manager()
        Binding = self.env["connector.binding"].sudo()
        for person in self:
            Binding.search(
                [
                    ("backend_id", "=", person.backend_id.id),
                    ("remote_type", "=", USER),
                    ("remote_id", "=", person.remote_id),
                ]
            ).unlink()
            person.employee_id = False
        return True

    def _after_fix(self):
        """Retry what waited for these people (their own job and their entries)."""
        jobs = self.env["connector.job"].sudo()
        for person in self:
            jobs |= person._waiting_jobs()
        if jobs:
            return jobs.action_retry()
        return True

    def action_retry_waiting(self):
        self.env["connector.backend"]._check_manager()
        return self._after_fix()
