import logging

from . import controllers, models, wizards
from .engine.redaction import install_log_redaction, redact_log_record


def post_load():
    """Redact registered secrets from every log record of the server process.

    Odoo's logger setup (netsvc.init_logger) installs its own LogRecord class as the record
    factory and may run again after addons are loaded, replacing any factory wrapper; so the
    redaction lives in a subclass of Odoo's LogRecord, which init_logger then installs itself.
    Idempotent: it runs when the addon is imported and again as Odoo's post_load hook.
    """
    from odoo import netsvc

    odoo_record = netsvc.LogRecord
    if not getattr(odoo_record, "_connector_redaction", False):

        class RedactingLogRecord(odoo_record):
            _connector_redaction = True

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                redact_log_record(self)

        netsvc.LogRecord = RedactingLogRecord
        if logging.getLogRecordFactory() is odoo_record:
            logging.setLogRecordFactory(RedactingLogRecord)
    if not getattr(logging.getLogRecordFactory(), "_connector_redaction", False):
        install_log_redaction()


# Odoo calls post_load only when it imports the addon itself; a process that imported it before
# (a test runner collecting tests) must be protected too.
post_load()
