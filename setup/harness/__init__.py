"""Local harness: throwaway PostgreSQL clusters, test databases, the test suite, the demo.

Used by the Makefile (``make demo``, ``make test``, ``make bench``, ``make stop``,
``make install``, ``make dev``) through ``setup/harness.py``. Everything it creates lives under
``.cache/`` in the repository (ignored by git):

- ``.cache/pg-<name>/``        a PostgreSQL cluster (initdb + pg_ctl; run as the ``postgres``
                               user when the harness runs as root: the server refuses root)
- ``.cache/odoo-<name>.conf``  the effective Odoo configuration: ``.odoo_config`` plus the
                               database connection, the addons path and the data directory
- ``.cache/logs/``             logs of the installs, the test processes and the demo server
- ``.cache/run/``              pid files of the demo's processes, for ``make stop``
- ``.cache/test-durations.json``  seconds per Odoo test file, to balance the test processes

When ``PGHOST`` is set, no cluster is started: the given server is used (``PGPORT``,
``PGUSER``, ``PGPASSWORD`` as libpq reads them).

Modules: ``console`` (output, steps, heartbeat), ``processes`` (children and how they stop),
``pg`` (PostgreSQL), ``odoo`` (configuration, installs with progress), ``prereqs``
(prerequisites, make install), ``pytest_runs`` (pytest children, the split of the Odoo tests),
``testrun`` (make test), ``demo`` (make demo, make stop), ``cli`` (the command line).
"""
