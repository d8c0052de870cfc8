from odoo import fields, models


class ConnectorSecret(models.Model):
    """One encrypted credential of a backend (a Fernet token, never the plaintext).

    No group has access to this model: it is read only through connector.backend._get_secret()
    (sudo) and written through _set_secret(). The encryption keys are never in the database.
    """

    _name = "connector.secret"
    _description = "Connector Credential (encrypted)"
    _connector_technical = True  # never audited as a business write of a job

    backend_id = fields.Many2one("connector.backend", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True, help="Which credential, e.g. api_token or webhook_secret.")
    ciphertext = fields.Text(required=True)
    key_fingerprint = fields.Char(
        help="Which encryption key produced the ciphertext (not the key)."
    )

    _sql_constraints = [
        ("backend_name_uniq", "unique(backend_id, name)", "A backend stores each credential once."),
    ]
