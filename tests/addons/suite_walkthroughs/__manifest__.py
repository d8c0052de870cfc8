{
    "name": "Suite walkthroughs: tours and screenshots",
    "version": "18.0.1.0.0",
    "summary": "Test-only: the README's walkthrough per role, run as browser tours on the demo "
    "data, taking the screenshots of docs/screenshots",
    "category": "Hidden/Tests",
    "author": "Professional Services Suite",
    "website": "https://github.com/ps-suite/odoo-ps-suite",
    "license": "LGPL-3",
    "depends": ["connector_crm", "ps_billing_rules"],
    "assets": {
        "web.assets_tests": ["suite_walkthroughs/static/src/js/tours/*.js"],
    },
    "installable": True,
}
