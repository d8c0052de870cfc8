"""``PsaAdapter``: what every PSA tool shares; the subclasses hold only the protocol.

An adapter wraps one backend (a Harvest account, a Kantata account) in the environment of the
job or screen that uses it. connector_base calls ``job_handlers()``, ``pull(stream, job)``,
``test_connection()``, ``webhook_verify``/``webhook_events`` (refused: neither tool sends
webhooks), ``authorize_url(...)`` and ``exchange_code(...)`` (Connect);
``connector.backend._adapter_class()`` maps the backend types to the subclasses.

The shared orchestration is split by concern into mixins (time, expenses, people, provisioning,
deletions and corrections, milestones, mark-back); a subclass provides ``build_client()`` and
the few tool-specific steps each mixin names (``_provision_project``, ``_deletion_pages``...).
"""

import hashlib
from datetime import timedelta

from odoo import fields
from odoo.tools import plaintext2html

from odoo.addons.connector_base.adapters import BackendAdapter
from odoo.addons.connector_base.engine.errors import AuthError, BusinessError
from odoo.addons.connector_base.engine.http_client import BearerTokenAuth
from odoo.addons.connector_base.engine.signatures import SignatureError

from ..engine import oauth
from .deletions import DeletionMixin
from .expense_import import ExpenseImportMixin
from .markback import MarkBackMixin
from .milestones import MilestoneMixin
from .people import PeopleMixin
from .provisioning import ProvisioningMixin
from .time_import import TimeImportMixin

QUICK_RETRIES = 2  # in-place retries of an idempotent request (a blip) before the queue's backoff


class PsaAdapter(
    TimeImportMixin,
    ExpenseImportMixin,
    PeopleMixin,
    ProvisioningMixin,
    DeletionMixin,
    MilestoneMixin,
    MarkBackMixin,
    BackendAdapter,
):
    tool = "PSA"  # the name users know, in messages
    backend_type = None
    has_milestones = False

    def __init__(self, backend):
        super().__init__(backend)
        self._client = None
        self._today = fields.Date.context_today(backend)

    # ------------------------------------------------------------------------------------------
    # What connector_base's adapter mechanism calls
    # ------------------------------------------------------------------------------------------

    def job_handlers(self) -> dict:
        """Queue operation -> handler(job)."""
        return {
            "psa.time.batch": self.import_time_batch,
            "psa.time.entry": self.import_time_entry,
            "psa.expense.batch": self.import_expense_batch,
            "psa.expense.entry": self.import_expense_entry,
            "psa.person.sync": self.sync_person,
            "psa.provision": self.provision,
            "psa.deletions.window": self.check_deletion_window,
            "psa.deletions.confirm": self.confirm_deletions,
            "psa.milestone.sync": self.sync_milestones,
            "psa.mark.billed": self.mark_billed,
        }

    def pull(self, stream, job):
        pullers = {
            "psa_time": self.pull_time,
            "psa_expenses": self.pull_expenses,
            "psa_people": self.pull_people,
            "psa_deletions": self.pull_deletions,
            "psa_milestones": self.pull_milestones,
        }
        puller = pullers.get(stream.code)
        if puller is None:
            raise BusinessError(
                f"{self.tool} backends have no stream '{stream.code}': archive the stream."
            )
        return puller(stream, job)

    def test_connection(self) -> str:
        info = self.client().test_connection()
        report = self.connection_report(info)
        self.backend.sudo()._psa_record_connection(info, report, self.web_url(info))
        if info.problems:
            raise BusinessError(report)
        return report

    def http_client(self, base_url=None, auth=None, quick_retries=QUICK_RETRIES, **options):
        return super().http_client(
            base_url=base_url, auth=auth, quick_retries=quick_retries, **options
        )

    def webhook_verify(self, method, url, headers, body, now):
        # Harvest has no webhooks; Kantata's changes are read from its event feed.
        raise SignatureError(
            f"{self.tool} sends no webhooks: this connector pulls time every "
            f"{self.backend.psa_time_interval} minutes (backend {self.backend.name})",
            reason="missing",
        )

    def webhook_events(self, payload, headers):
        raise ValueError(
            f"{self.tool} sends no webhooks: nothing to read from a pushed body; the streams of "
            f"backend {self.backend.name} pull the changes"
        )

    def authorize_url(self, state, redirect_uri) -> str:
        backend = self.backend.sudo()
        return oauth.authorize_url(
            backend.psa_authorize_url,
            "",
            client_id=backend.psa_client_id,
            redirect_uri=redirect_uri,
            state=state,
        )

    def exchange_code(self, code, redirect_uri):
        backend = self.backend.sudo()
        token_http = self.http_client(base_url=backend.psa_token_url, quick_retries=0)
        return oauth.exchange_code(
            token_http,
            "",
            client_id=backend.psa_client_id,
            client_secret=backend._get_secret("client_secret"),
            code=code,
            redirect_uri=redirect_uri,
            vendor=self.tool,
        )

    def after_connect(self) -> str:
        """Called after Connect stored the tokens (Harvest picks its account)."""
        return ""

    # ------------------------------------------------------------------------------------------
    # The client of the tool
    # ------------------------------------------------------------------------------------------

    def client(self):
        if self._client is None:
            self._client = self.build_client()
        return self._client

    def build_client(self):  # pragma: no cover - each tool builds its own
        raise NotImplementedError

    def auth(self):
        """Bearer auth from the vault: a static token, or an OAuth token renewed when needed."""
        backend = self.backend.sudo()
        access = backend._get_secret("api_token")
        if backend.psa_auth != "oauth":
            if not access:
                raise AuthError(
                    f"Backend {backend.name} has no {self.tool} access token: set it on the "
                    "backend (tab Credentials), then test the connection."
                )
            return BearerTokenAuth(access)
        token_http = self.http_client(
            base_url=backend.psa_refresh_url or backend.psa_token_url, quick_retries=0
        )
        return oauth.RefreshingTokenAuth(
            token_http,
            "",
            client_id=backend.psa_client_id,
            client_secret=backend._get_secret("client_secret"),
            vendor=self.tool,
            access_token=access,
            refresh_token=backend._get_secret("refresh_token"),
            expires_at=backend.psa_token_expires_at or None,
            on_token=backend._psa_store_token,
        )

    def page_size(self, maximum):
        size = self.backend.psa_page_size or maximum
        return max(1, min(size, maximum))

    def overlap(self):
        return timedelta(minutes=max(self.backend.psa_overlap_minutes, 0))

    def connection_report(self, info) -> str:
        names = {
            "read_all_time": "read everyone's time",
            "read_cost_rates": "read cost rates",
            "provision_projects": "create projects",
            "mark_entries": "mark billed entries",
            "approval_workflow": "timesheet approval enabled",
            "event_feed": "read the event feed (deletions)",
        }
        user = info.user
        role = "administrator" if user.is_admin else (", ".join(user.roles) or "member")
        account = info.account_id or "?"
        if info.account_name:
            account = f"{account} ({info.account_name})"
        permissions = "; ".join(
            f"{names.get(key, key)}: {'yes' if value else 'NO'}"
            for key, value in info.permissions.items()
        )
        lines = [
            f"{self.tool} account {account}, user {user.name} <{user.email or '-'}> ({role}).",
            f"Permissions the sync needs: {permissions}.",
        ]
        lines += [f"Problem: {problem}" for problem in info.problems]
        return "\n".join(lines)

    def web_url(self, info):
        return None

    # ------------------------------------------------------------------------------------------
    # Pulls: one page per job, checkpointed on the stream, the next page queued
    # ------------------------------------------------------------------------------------------

    def _pull_page(self, stream, pages, queue_items):
        """Read one page, queue its items, checkpoint; queue a pull of the next page.

        Each job handles one page so that a crash or a failed request costs one page, and the
        stream's resume token (``cursor_value``) says where the listing continues. A pull that
        finds a resume token continues that listing instead of starting a new one.
        """
        page = next(iter(pages), None)
        if page is None:
            stream._record_pull_result(new_cursor_value="", count=0)
            return None
        queued = queue_items(page.items)
        if page.last:
            stream._record_pull_result(
                new_cursor_date=page.cursor or stream.cursor_date or None,
                new_cursor_value="",
                count=queued,
            )
            return None
        stream._record_pull_result(
            new_cursor_date=page.cursor or None, new_cursor_value=page.resume, count=queued
        )
        digest = hashlib.sha1(page.resume.encode()).hexdigest()[:20]
        self.backend._enqueue(
            "stream.pull",
            {"stream_id": stream.id, "code": stream.code, "page": page.number + 1},
            idempotency_key=f"pull:{stream.id}:next:{digest}",
            record_key=f"stream:{stream.id}",
            direction="inbound",
            source="pull",
        )
        return None

    def _note(self, record, text):
        """A note in the record's chatter, by the integration user: logged, not sent (a job's
        user needs no e-mail address, and nobody is notified of what the sync did)."""
        record._message_log(body=plaintext2html(text))

    def _bound(self, remote_type, remote_ids) -> dict:
        """{remote id: res_id} of this backend's bindings of a remote type (one query)."""
        ids = [str(i) for i in remote_ids if i is not None]
        if not ids:
            return {}
        self.env.cr.execute(
            """SELECT remote_id, res_id, remote_version FROM connector_binding
               WHERE backend_id = %s AND remote_type = %s AND remote_id = ANY(%s)""",
            (self.backend.id, remote_type, ids),
        )
        return {row[0]: row[1] for row in self.env.cr.fetchall() if row[2] != "deleted"}

    def _bind(self, record, remote_type, remote_id, *, updated_at=None, version=None):
        return self.env["connector.binding"]._bind(
            self.backend,
            record,
            remote_type,
            str(remote_id),
            updated_at=updated_at,
            version=version,
        )

    def _waiting_record_keys(self, keys) -> set:
        """Record keys that have an unfinished job (a needs-attention one holds the entry)."""
        if not keys:
            return set()
        self.env.cr.execute(
            """SELECT DISTINCT record_key FROM connector_job
               WHERE backend_id = %s AND record_key = ANY(%s)
                 AND state IN ('pending', 'running', 'needs_attention', 'dead')""",
            (self.backend.id, list(keys)),
        )
        return {row[0] for row in self.env.cr.fetchall()}
