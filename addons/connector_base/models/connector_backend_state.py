"""State, health and staging safety of connector.backend.

Only active backends whose environment is confirmed and that are not down run jobs. A restored
copy of the database (another database UUID or web.base.url) pauses its backends by itself.
"""

import logging
from urllib.parse import urlsplit

from odoo import _, api, fields, models

from ..const import BACKEND_ACTIVE, BACKEND_PAUSED, CTX_NO_AUDIT, HEALTH_DOWN, HEALTH_OK

_logger = logging.getLogger(__name__)


def _normalized_origin(url):
    """scheme://host[:port] of a URL, lower-cased: what identifies the server a database runs on."""
    parts = urlsplit((url or "").strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme else ""


class ConnectorBackendState(models.Model):
    _inherit = "connector.backend"

    guard_db_uuid = fields.Char(
        string="Activated on database", readonly=True, copy=False, groups="base.group_system"
    )
    guard_base_url = fields.Char(string="Activated on server", readonly=True, copy=False)
    active_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the backend was last activated: monitoring gives its streams time for a "
        "first pull from then on.",
    )

    def _current_environment(self):
        ICP = self.env["ir.config_parameter"].sudo()
        return ICP.get_param("database.uuid"), _normalized_origin(ICP.get_param("web.base.url"))

    def action_activate(self):
        """Start running jobs; remember which database and server may talk to the remote."""
        self._check_manager()
        db_uuid, origin = self._current_environment()
        now = fields.Datetime.now()
        for backend in self:
            values = {
                "state": BACKEND_ACTIVE,
                "pause_reason": False,
                "guard_db_uuid": db_uuid,
                "guard_base_url": origin,
            }
            if backend.state != BACKEND_ACTIVE or not backend.active_since:
                values["active_since"] = now
            backend.sudo().write(values)
        self.env["connector.job"]._trigger_runners()
        return True

    def action_pause(self):
        self._check_manager()
        self.write({"state": BACKEND_PAUSED, "pause_reason": _("Paused by %s", self.env.user.name)})
        return True

    def action_confirm_environment(self):
        """An admin confirms that this (copied) database may talk to the configured remote."""
        return self.action_activate()

    def action_reset_health(self):
        self._check_manager()
        for backend in self:
            backend._set_health(HEALTH_OK, _("Marked OK by %s", self.env.user.name))
        self.env["connector.job"]._trigger_runners()
        return True

    def _check_environment_guard(self):
        """Pause active backends whose database or server changed since they were activated.

        A restored copy of production (staging, a developer's laptop) has another database UUID
        or web.base.url: it must never talk to production systems until an admin confirms.
        Returns the backends that may run.
        """
        db_uuid, origin = self._current_environment()
        allowed = self.browse()
        for backend in self.filtered(lambda b: b.state == BACKEND_ACTIVE):
            guard_uuid = backend.sudo().guard_db_uuid
            reasons = []
            if guard_uuid and guard_uuid != db_uuid:
                reasons.append(
                    _(
                        "the database UUID changed from %(old)s to %(new)s",
                        old=guard_uuid,
                        new=db_uuid,
                    )
                )
            if backend.guard_base_url and backend.guard_base_url != origin:
                reasons.append(
                    _(
                        "web.base.url changed from %(old)s to %(new)s",
                        old=backend.guard_base_url,
                        new=origin,
                    )
                )
            if reasons:
                reason = _(
                    "Paused automatically: this looks like a copy of the database (%(reasons)s). "
                    "Nothing is sent to or read from %(url)s until a Connector Manager clicks "
                    "'Confirm environment' on the backend.",
                    reasons="; ".join(reasons),
                    url=backend.api_base_url or backend.name,
                )
                backend.sudo().write({"state": BACKEND_PAUSED, "pause_reason": reason})
                backend.sudo().message_post(body=reason)
                _logger.warning("connector backend %s: %s", backend.id, reason)
            else:
                allowed |= backend
        return allowed

    def _set_health(self, health, reason):
        """Record a health change (only when it changes: runners call this concurrently)."""
        now = fields.Datetime.now()
        for backend in self:
            if backend.health == health and health == HEALTH_OK:
                continue
            if backend.health == health and backend.health_reason == reason:
                continue
            values = {"health": health, "health_reason": reason}
            if backend.health != health:
                values["health_since"] = now
            backend.sudo().with_context(**{CTX_NO_AUDIT: True}).write(values)
            if health == HEALTH_DOWN:
                backend.sudo().message_post(
                    body=_(
                        "Backend is down: %(reason)s Its jobs wait until it is fixed.",
                        reason=reason,
                    )
                )

    @api.model
    def _runnable_backends(self):
        """Active, not down, environment confirmed: the backends whose jobs may be claimed."""
        backends = self.sudo().search(
            [("state", "=", BACKEND_ACTIVE), ("health", "!=", HEALTH_DOWN)]
        )
        return backends._check_environment_guard()
