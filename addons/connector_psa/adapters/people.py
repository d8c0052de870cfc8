"""People: PSA users linked to employees (by e-mail), and cost rates with their effective dates.

Every PSA user seen is listed in Connectors > PSA > People. A user whose e-mail matches one
employee of the backend's companies is linked; otherwise, when the PSA owns people, an employee
is created in the company the mapping gives; when Odoo owns them, the user's job needs
attention until a person clicks Link or Create employee (then Retry). When the PSA owns cost
rates, their history becomes ps_billing_rules cost rates: periods are added or corrected from
their own date on, lines already imported keep the cost they were stored with.
"""

import hashlib
import json

from odoo.addons.connector_base.engine.errors import BusinessError

from ..engine import people
from ..engine.payloads import from_payload, to_payload
from .resolver import USER


class PeopleMixin:
    def pull_people(self, stream, job):
        users = [user for page in self.client().list_users() for user in page.items]
        owner_psa = self.backend.psa_people_owner == "psa"
        rates = self.cost_rates_by_user(users) if owner_psa else {}
        day = self._today.isoformat()
        specs = []
        Person = self.env["connector.psa.person"]
        for user in users:
            # Listed by the pull (which succeeds), so that a person who needs attention can be
            # linked from the list even though their own job failed.
            Person._psa_upsert(self.backend, user)
            payload = {"user": to_payload(user)}
            if owner_psa:
                known = rates.get(user.remote_id)
                payload["rates"] = [to_payload(r) for r in known] if known is not None else None
            digest = hashlib.sha1(
                json.dumps(payload, sort_keys=True, default=str).encode()
            ).hexdigest()[:20]
            specs.append(
                {
                    "operation": "psa.person.sync",
                    "payload": payload,
                    # Harvest rates are read by the job: check them once a day at least.
                    "idempotency_key": f"person:{user.remote_id}:{digest}:{day}",
                    "record_key": f"user:{user.remote_id}",
                    "direction": "inbound",
                    "source": "pull",
                }
            )
        self.env["connector.job"]._enqueue_many(self.backend, specs)
        stream._record_pull_result(count=len(users))

    def cost_rates_by_user(self, users):
        """{remote user id: [PsaCostRate]} when the tool lists them at once; else {} (each
        person's job reads its own history)."""
        return {}

    cost_history_complete = False  # the tool gives the whole history (else: current rates)

    def cost_rate_history(self, user):
        return []

    # ------------------------------------------------------------------------------------------

    def sync_person(self, job):
        payload = job._payload()
        user = from_payload("user", payload["user"])
        person = self.env["connector.psa.person"]._psa_upsert(self.backend, user)
        was_linked = bool(person.employee_id)
        employee = person.employee_id or self._match_employee(person, user)
        if not employee:
            # Contractors are not created as employees without a person's decision.
            if self.backend.psa_people_owner == "psa" and user.active and not user.is_contractor:
                employee = person._psa_create_employee()
            else:
                raise BusinessError(
                    f"{self.tool} user {user.name} <{user.email or 'no e-mail'}> matches no "
                    "employee of the backend's companies. Open Connectors > PSA > People, choose "
                    f"{user.name}: Link to an employee or Create employee; then Retry this job "
                    "(and the time entries waiting for this person)."
                )
        person._psa_link(employee)
        if not was_linked:
            # A first pull runs the people and the time streams side by side: entries of this
            # person that arrived before the link wait for it; take them up again now.
            waiting = person._waiting_jobs() - job
            if waiting:
                waiting.sudo().action_retry()
        if self.backend.psa_people_owner == "psa":
            self._update_employee(employee, user)
            rates = payload.get("rates")
            history = (
                [from_payload("rate", r) for r in rates]
                if rates is not None
                else self.cost_rate_history(user)
            )
            self._import_cost_rates(employee, history)
        return employee

    def _match_employee(self, person, user):
        email = people.normalize_email(user.email)
        if not email:
            return self.env["hr.employee"]
        companies = (self.backend.company_ids | self.backend.company_id).ids
        employees = self.env["hr.employee"].search(
            [
                ("company_id", "in", companies),
                "|",
                ("work_email", "=ilike", email),
                ("user_id.email", "=ilike", email),
            ]
        )
        if len(employees) > 1:
            names = ", ".join(employees.mapped("display_name"))
            raise BusinessError(
                f"{self.tool} user {user.name} <{user.email}> matches several employees "
                f"({names}). Open Connectors > PSA > People, choose {user.name} and Link the "
                "right employee, then Retry this job."
            )
        return employees

    def _update_employee(self, employee, user):
        values = {}
        if user.name and employee.name != user.name:
            values["name"] = user.name
        if user.email and (employee.work_email or "").lower() != user.email.lower():
            values["work_email"] = user.email
        if values:
            employee.write(values)

    def _import_cost_rates(self, employee, history):
        """ps_billing_rules cost rates from the PSA's history, in the employee's currency."""
        company = employee.company_id or self.backend.company_id
        periods = people.cost_periods(history, company.currency_id.name)
        if not periods:
            return
        CostRate = self.env["ps.cost.rate"].sudo()  # Billing Manager data, set by the sync
        existing = {
            rate.date_from: rate for rate in CostRate.search([("employee_id", "=", employee.id)])
        }
        create, update, delete = people.rate_changes(
            {day: rate.cost for day, rate in existing.items()},
            periods,
            complete=self.cost_history_complete,
        )
        for day in delete:
            existing[day].unlink()
        for day, amount in update:
            existing[day].write({"cost": float(amount)})
        if create:
            CostRate.create(
                [
                    {
                        "employee_id": employee.id,
                        "company_id": company.id,
                        "date_from": day,
                        "cost": float(amount),
                    }
                    for day, amount in create
                ]
            )
        current = periods[-1][1]
        if employee.sudo().hourly_cost != float(current):
            employee.sudo().hourly_cost = float(current)

    def bound_employee(self, remote_user_id):
        bound = self._bound(USER, [remote_user_id])
        return self.env["hr.employee"].browse(bound.get(str(remote_user_id))).exists()
