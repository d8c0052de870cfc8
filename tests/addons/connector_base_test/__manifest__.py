{
    "name": "Connector Base: test support",
    "version": "18.0.1.0.0",
    "summary": "Test-only: a trivial synced model and job handlers that fail on demand",
    "category": "Hidden/Tests",
    "author": "Professional Services Suite",
    "website": "https://github.com/ps-suite/odoo-ps-suite",
    "license": "LGPL-3",
    "depends": ["connector_base"],
    "data": [
        "security/ir.model.access.csv",
        "views/connector_test_record_views.xml",
    ],
    "installable": True,
}
