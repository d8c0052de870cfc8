"""The adapters of the CRM backend types (see connector_base/adapters/base.py and
docs/adding-a-connector.md): ``connector.backend._adapter_class()`` maps each type here."""

from .crm import CrmAdapter
from .hubspot import HubspotAdapter
from .salesforce import SalesforceAdapter

__all__ = ["CrmAdapter", "HubspotAdapter", "SalesforceAdapter"]
