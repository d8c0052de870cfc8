"""Credentials of connector.backend: encrypted at rest, write-only, one read path.

The ciphertexts live in connector.secret (no group may read it); ``_get_secret`` is the only way
to read a credential, and every value read or set is registered for redaction from logs.
"""

import os

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from ..const import CTX_NO_AUDIT, GROUP_MANAGER, HEALTH_DOWN, HEALTH_OK
from ..engine.errors import AuthError
from ..engine.redaction import SECRETS
from ..engine.vault import (
    CONFIG_OPTION,
    ENV_VARIABLE,
    SecretDecryptError,
    Vault,
    VaultKeyInvalid,
    VaultKeyMissing,
    parse_keys,
)


class ConnectorBackendVault(models.Model):
    _inherit = "connector.backend"

    webhook_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_webhook_secret",
        string="Webhook signing secret",
        groups=GROUP_MANAGER,
        help="Write-only: the value is encrypted and never shown again.",
    )
    api_token = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_api_token",
        string="API token",
        groups=GROUP_MANAGER,
        help="Write-only: the value is encrypted and never shown again.",
    )
    secret_summary = fields.Text(
        compute="_compute_secret_summary",
        string="Credentials",
        groups=GROUP_MANAGER,
    )

    @api.model
    def _connector_vault(self):
        """The vault built from the configured keys (config option first, then env variable).

        Raises VaultKeyMissing / VaultKeyInvalid (their messages say how to configure keys):
        screens turn them into a UserError, jobs into an AuthError (the backend waits).
        """
        keys = parse_keys(config.get(CONFIG_OPTION), os.environ.get(ENV_VARIABLE))
        return Vault(keys)

    @api.model
    def _connector_vault_for_user(self):
        try:
            return self._connector_vault()
        except (VaultKeyMissing, VaultKeyInvalid) as exc:
            raise UserError(str(exc)) from None

    def _connector_secret_labels(self):
        """Secret name -> label, for the credentials summary. Connector addons extend it."""
        return {"webhook_secret": _("Webhook signing secret"), "api_token": _("API token")}

    def _compute_secret_fields(self):
        # Write-only fields: the stored value is never sent back to the client.
        for backend in self:
            backend.webhook_secret = False
            backend.api_token = False

    def _inverse_webhook_secret(self):
        self._store_secret_field("webhook_secret", "webhook_secret")

    def _inverse_api_token(self):
        self._store_secret_field("api_token", "api_token")

    def _store_secret_field(self, field_name, secret_name):
        """Inverse of a write-only credential field: encrypt, store, and forget the value."""
        for backend in self:
            value = backend[field_name]
            if value:
                backend._set_secret(secret_name, value)
        # Do not keep the plaintext in the ORM cache for the rest of the request.
        self.invalidate_recordset([field_name])

    @api.depends_context("uid")
    def _compute_secret_summary(self):
        labels_cache = {}
        secrets = self.env["connector.secret"].sudo().search([("backend_id", "in", self.ids)])
        for backend in self:
            labels = labels_cache.setdefault(
                backend.backend_type, backend._connector_secret_labels()
            )
            stored = {s.name: s for s in secrets if s.backend_id == backend}
            lines = []
            for name, label in labels.items():
                secret = stored.get(name)
                if secret:
                    lines.append(
                        _(
                            "%(label)s: set on %(date)s by %(user)s (key %(key)s)",
                            label=label,
                            date=fields.Datetime.to_string(secret.write_date),
                            user=secret.write_uid.name,
                            key=secret.key_fingerprint,
                        )
                    )
                else:
                    lines.append(_("%(label)s: not set", label=label))
            backend.secret_summary = "\n".join(lines)

    def _set_secret(self, name, value):
        """Encrypt and store one credential; audited without its value."""
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group(GROUP_MANAGER):
            raise AccessError(_("Only a Connector Manager can set credentials."))
        vault = self._connector_vault_for_user()
        token = vault.encrypt(value)
        SECRETS.register(value)
        Secret = self.env["connector.secret"].sudo().with_context(**{CTX_NO_AUDIT: True})
        existing = Secret.search([("backend_id", "=", self.id), ("name", "=", name)])
        vals = {"ciphertext": token, "key_fingerprint": vault.primary_fingerprint}
        if existing:
            existing.write(vals)
        else:
            Secret.create(dict(vals, backend_id=self.id, name=name))
        self.env["connector.audit.log"]._log(
            "credential_set",
            record=self,
            backend=self,
            changes={name: ["***", "***"]},
            message=_("Credential %(name)s set", name=name),
        )
        if self.health == HEALTH_DOWN:
            self._set_health(HEALTH_OK, _("Credentials changed: jobs resume."))

    def _get_secret(self, name):
        """Decrypted value of a credential, or None when it is not set.

        The single read path of the vault: it runs sudo because nobody has access to
        connector.secret, and registers the value so that it is redacted from every log line.
        """
        self.ensure_one()
        secret = (
            self.env["connector.secret"]
            .sudo()
            .search([("backend_id", "=", self.id), ("name", "=", name)], limit=1)
        )
        if not secret:
            return None
        try:
            value = self._connector_vault().decrypt(secret.ciphertext)
        except (VaultKeyMissing, VaultKeyInvalid) as exc:
            # A configuration problem of the server: the backend waits, attempts are kept.
            raise AuthError(str(exc)) from None
        except SecretDecryptError as exc:
            raise AuthError(
                _(
                    "Credential %(name)s of backend %(backend)s cannot be decrypted: %(error)s "
                    "Set it again, or add the key it was encrypted with to the configured keys.",
                    name=name,
                    backend=self.name,
                    error=exc,
                )
            ) from None
        SECRETS.register(value)
        return value

    def action_clear_secrets(self):
        """Remove every stored credential of these backends (e.g. after a leak)."""
        self._check_manager()
        for backend in self:
            stored = self.env["connector.secret"].sudo().search([("backend_id", "=", backend.id)])
            if stored:
                self.env["connector.audit.log"]._log(
                    "credential_cleared",
                    record=backend,
                    backend=backend,
                    changes={name: ["***", None] for name in stored.mapped("name")},
                    message=_("All credentials removed"),
                )
                stored.with_context(**{CTX_NO_AUDIT: True}).unlink()
        return True

    @api.model
    def action_rotate_encryption(self):
        """Re-encrypt every stored credential with the first configured key."""
        self._check_manager()
        vault = self._connector_vault_for_user()
        rotated = 0
        for secret in self.env["connector.secret"].sudo().search([]):
            if vault.needs_rotation(secret.ciphertext):
                try:
                    token = vault.rotate(secret.ciphertext)
                except SecretDecryptError as exc:
                    raise UserError(
                        _(
                            "Credential %(name)s of backend %(backend)s decrypts with none of the "
                            "configured keys (%(error)s). Add its old key to the configured keys, "
                            "or set the credential again, then rotate.",
                            name=secret.name,
                            backend=secret.backend_id.name,
                            error=exc,
                        )
                    ) from None
                secret.with_context(**{CTX_NO_AUDIT: True}).write(
                    {"ciphertext": token, "key_fingerprint": vault.primary_fingerprint}
                )
                rotated += 1
        self.env["connector.audit.log"]._log(
            "credential_rotated",
            message=_(
                "%(count)s credential(s) re-encrypted with key %(key)s",
                count=rotated,
                key=vault.primary_fingerprint,
            ),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Credentials re-encrypted"),
                "message": _(
                    "%(count)s credential(s) now use key %(key)s. The old keys can be removed "
                    "from the configuration once every server runs with the new list.",
                    count=rotated,
                    key=vault.primary_fingerprint,
                ),
                "type": "success",
                "sticky": False,
            },
        }
