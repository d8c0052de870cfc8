from . import models, report, wizards


def post_init_hook(env):
    """Time already in the database is approved (nothing already in use changes)."""
    env["account.analytic.line"]._ps_approve_existing_on_install()
