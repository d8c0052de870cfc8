"""Kantata OX API v1: the protocol only (client construction, provisioning calls, cost rates
per currency, milestones, and deletions from the Subscribed Events feed with the window re-list
as fallback when the feed is refused or no longer covers the cursor)."""

from datetime import timedelta

from odoo import fields

from odoo.addons.connector_base.engine.errors import AuthError, BusinessError

from ..engine import provisioning
from ..engine.kantata import MAX_PAGE, EventFeedForbidden, KantataClient
from .psa_adapter import PsaAdapter

DELETION_EVENTS = ("time_entry:deleted", "expense:deleted")
EVENT_KINDS = {"TimeEntry": "time", "Expense": "expense"}
FIRST_EVENT_LOOKBACK = timedelta(hours=1)


class KantataAdapter(PsaAdapter):
    tool = "Kantata"
    backend_type = "kantata"
    has_milestones = True

    def build_client(self):
        http = self.http_client(base_url=self.backend.api_base_url, auth=self.auth())
        return KantataClient(http, page_size=self.page_size(MAX_PAGE))

    def web_url(self, info):
        return "https://app.mavenlink.com"

    def remote_project_code(self, remote_id):
        cache = self.__dict__.setdefault("_project_codes", {})
        if remote_id not in cache:
            project = self.client().get_project(remote_id)
            cache[remote_id] = project.code if project else None
        return cache[remote_id]

    def cost_rates_by_user(self, users):
        try:
            rates = self.client().cost_rates()
        except AuthError as exc:
            if exc.http_status != 403:
                raise
            raise BusinessError(
                "Kantata refused to list cost rates (HTTP 403): only Account Administrators can "
                "read them. Connect as an Account Administrator, or let Odoo own cost rates "
                "(backend setting), then Retry."
            ) from exc
        by_user = {user.remote_id: [] for user in users}
        for rate in rates:
            by_user.setdefault(rate.user_id, []).append(rate)
        return by_user

    def queue_deletion_checks(self, stream, job):
        """Deletions from the event feed; the window re-list when it cannot be trusted."""
        client = self.client()
        cursor = stream.cursor_date or None
        found = {"time": set(), "expense": set()}
        gap = False
        try:
            for page in client.events(cursor, event_types=DELETION_EVENTS, overlap=self.overlap()):
                gap = gap or page.gap
                for event in page.items:
                    kind = EVENT_KINDS.get(event.subject_type)
                    if kind and event.action == "deleted":
                        found[kind].add(event.subject_id)
                cursor = page.cursor or cursor
        except EventFeedForbidden as exc:
            self.queue_window_checks(job)
            stream._record_pull_result(count=0)
            stream.sudo().last_error = exc.message  # shown on the stream, not an outage
            return None
        for kind, ids in found.items():
            if ids:
                self.queue_confirmations(kind, sorted(ids))
        if gap:
            self.queue_window_checks(job)
        stream._record_pull_result(
            new_cursor_date=cursor or (fields.Datetime.now() - FIRST_EVENT_LOOKBACK),
            count=sum(len(ids) for ids in found.values()),
        )
        return None

    def _provision_project(self, order, plan):
        client = self.client()
        values = provisioning.kantata_project_values(plan)
        project, created = client.ensure_project(plan.code, title=plan.name, **values)
        if not created:  # an amendment, or a retry: budget and dates follow
            project = client.update_project(
                project.remote_id,
                budget=values["budget"],
                start_date=values["start_date"],
                due_date=values["due_date"],
            )
        self._bind_project(order, project)
        for task in plan.tasks:
            story, _created = client.ensure_task(
                project.remote_id, task.ref, title=task.name, billable=task.billable
            )
            self._map_task(order, task, project.remote_id, story.remote_id, story.name)
        for user_id in plan.people:
            client.ensure_participant(project.remote_id, user_id)
        return project
