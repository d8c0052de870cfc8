"""SHIM until connector_base's adapter mechanism (issue 11) is on this branch.

connector_base finds job handlers as ``_job_<operation>``, pullers as ``_pull_<stream code>``
and Test connection as ``_connector_test_connection`` on connector.backend. Each method below
only delegates to the backend's adapter (``adapters/``), where all the work is. When the
mechanism lands (``connector.backend._adapter_class()`` -> adapter, ``adapter.job_handlers()``,
``adapter.pull()``, ``adapter.test_connection()``), this file becomes the one override
``_adapter_class`` returning ``adapters.registry.adapter_class(self.backend_type)`` (with
``super()`` for other types), and every other method here is deleted.
"""

from odoo import models

from odoo.addons.connector_base.engine.errors import BusinessError

from ..adapters.registry import PSA_TYPES, adapter_class


class ConnectorBackend(models.Model):
    _inherit = "connector.backend"

    def _psa_adapter(self):
        self.ensure_one()
        cls = adapter_class(self.backend_type)
        if cls is None:
            raise BusinessError(f"Backend {self.name} is not a Harvest or Kantata backend.")
        return cls(self)

    def _psa_run(self, operation, job):
        return self._psa_adapter().job_handlers()[operation](job)

    # Test connection --------------------------------------------------------------------------

    def _connector_test_connection(self):
        if self.backend_type not in PSA_TYPES:
            return super()._connector_test_connection()
        return self._psa_adapter().test_connection()

    # Pulls (connector.stream codes) ---------------------------------------------------------

    def _pull_psa_time(self, stream, job):
        return self._psa_adapter().pull(stream, job)

    def _pull_psa_expenses(self, stream, job):
        return self._psa_adapter().pull(stream, job)

    def _pull_psa_people(self, stream, job):
        return self._psa_adapter().pull(stream, job)

    def _pull_psa_deletions(self, stream, job):
        return self._psa_adapter().pull(stream, job)

    def _pull_psa_milestones(self, stream, job):
        return self._psa_adapter().pull(stream, job)

    # Job handlers (connector.job operations) ------------------------------------------------

    def _job_psa_time_batch(self, job):
        return self._psa_run("psa.time.batch", job)

    def _job_psa_time_entry(self, job):
        return self._psa_run("psa.time.entry", job)

    def _job_psa_expense_batch(self, job):
        return self._psa_run("psa.expense.batch", job)

    def _job_psa_expense_entry(self, job):
        return self._psa_run("psa.expense.entry", job)

    def _job_psa_person_sync(self, job):
        return self._psa_run("psa.person.sync", job)

    def _job_psa_provision(self, job):
        return self._psa_run("psa.provision", job)

    def _job_psa_deletions_window(self, job):
        return self._psa_run("psa.deletions.window", job)

    def _job_psa_deletions_confirm(self, job):
        return self._psa_run("psa.deletions.confirm", job)

    def _job_psa_milestone_sync(self, job):
        return self._psa_run("psa.milestone.sync", job)

    def _job_psa_mark_billed(self, job):
        return self._psa_run("psa.mark.billed", job)
