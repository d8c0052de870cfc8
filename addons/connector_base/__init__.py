from . import controllers, models, wizards
from .engine.redaction import install_log_redaction


def post_load():
    """Redact registered secrets from every log record of the server process."""
    install_log_redaction()
