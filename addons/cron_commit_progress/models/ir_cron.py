from odoo import api, models, modules
from odoo.tools import config


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _can_commit(self):
        """Never commit inside tests: a TransactionCase must be able to roll everything back."""
        return not config["test_enable"] and not modules.module.current_test

    @api.model
    def _commit_progress(self, done=None, remaining=None):
        """The one place where the suite's long jobs commit, and report progress to the cron.

        ``_notify_progress`` alone does not commit; with ``remaining > 0`` Odoo 18 calls the cron
        again right away. Odoo 19's ``ir.cron._commit_progress`` does both, like this helper:
        on 19.0 this addon goes away and its callers keep their calls.
        """
        if done is not None:
            self._notify_progress(done=done, remaining=remaining or 0)
        if self._can_commit():
            self.env.cr.commit()
