{
    "name": "Cron: commit progress",
    "version": "18.0.1.0.0",
    "summary": "One helper for long cron jobs: report progress to ir.cron and commit (never "
    "under tests), as Odoo 19's ir.cron._commit_progress does",
    "description": "See readme/DESCRIPTION.md",
    "category": "Hidden/Tools",
    "author": "Professional Services Suite",
    "website": "https://github.com/ps-suite/odoo-ps-suite",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": [],
    "installable": True,
    "application": False,
}
