"""Harvest API v2: the protocol only (client construction, provisioning calls, Connect's
account choice). Deletions use the shared window re-list; Harvest has no milestones."""

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError

from ..engine import provisioning
from ..engine.harvest import MAX_PAGE, HarvestClient, list_accounts
from .provisioning import CLIENT
from .psa_adapter import PsaAdapter


class HarvestAdapter(PsaAdapter):
    tool = "Harvest"
    backend_type = "harvest"
    cost_history_complete = True

    def build_client(self):
        backend = self.backend
        auth = self.auth()
        http = self.http_client(base_url=backend.api_base_url, auth=auth)
        id_http = (
            self.http_client(base_url=backend.auth_base_url, auth=auth)
            if backend.auth_base_url
            else None
        )
        return HarvestClient(
            http,
            account_id=backend.psa_account_id,
            user_agent=backend._psa_user_agent(),
            id_http=id_http,
            page_size=self.page_size(MAX_PAGE),
        )

    def after_connect(self):
        """Connect gives a token for a person: pick their Harvest account when there is one."""
        if self.backend.psa_account_id:
            return ""
        id_http = self.http_client(base_url=self.backend.auth_base_url, auth=self.auth())
        accounts = [
            a
            for a in list_accounts(id_http, self.backend._psa_user_agent())
            if (a.get("product") or "harvest").lower() == "harvest"
        ]
        if len(accounts) == 1:
            self.backend.sudo().psa_account_id = str(accounts[0]["id"])
            return f"Harvest account {accounts[0]['id']} ({accounts[0].get('name')}) selected."
        offered = ", ".join(f"{a.get('id')} ({a.get('name')})" for a in accounts)
        return f"Choose the Harvest account ID on the backend: {offered or 'none found'}."

    def web_url(self, info):
        try:
            company = self.client().company() or {}
        except AuthError:
            return None
        return company.get("full_domain")

    def remote_project_code(self, remote_id):
        cache = self.__dict__.setdefault("_project_codes", {})
        if remote_id not in cache:
            project = self.client().get_project(remote_id)
            cache[remote_id] = project.code if project else None
        return cache[remote_id]

    def cost_rate_history(self, user):
        try:
            return self.client().cost_rate_history(user.remote_id)
        except AuthError as exc:
            if exc.http_status != 403:
                raise
            # Not an outage of the backend: the token's user may not read cost rates.
            raise BusinessError(
                f"Harvest refused the cost rates of {user.name} (HTTP 403): only administrators "
                "can read them. Connect with an administrator's token, or let Odoo own cost rates "
                "(backend setting), then Retry."
            ) from exc

    def _provision_project(self, order, plan):
        client = self.client()
        partner = order.partner_id.commercial_partner_id
        binding = self.env["connector.binding"]._find_binding(self.backend, partner, CLIENT)
        psa_client = client.get_client(binding.remote_id) if binding else None
        if psa_client is None:
            psa_client, _created = client.ensure_client(plan.client, currency=plan.currency)
            if binding:  # the bound client was deleted in Harvest: follow the one found
                binding.sudo().write({"remote_id": psa_client.remote_id})
            else:
                self._bind(partner, CLIENT, psa_client.remote_id)
        values = {
            k: v for k, v in provisioning.harvest_project_values(plan).items() if v is not None
        }
        project, created = client.ensure_project(
            plan.code, client_id=psa_client.remote_id, name=plan.name, **values
        )
        if not created:  # an amendment, or a retry: budget, basis and dates follow
            project = client.update_project(project.remote_id, **values)
        self._bind_project(order, project)
        for task in plan.tasks:
            remote_task, _created = client.ensure_task(task.name, billable_by_default=task.billable)
            client.ensure_task_assignment(
                project.remote_id, remote_task.remote_id, **provisioning.harvest_task_values(task)
            )
            self._map_task(order, task, project.remote_id, remote_task.remote_id, remote_task.name)
        for user_id in plan.people:
            client.ensure_user_assignment(project.remote_id, user_id)
        return project
