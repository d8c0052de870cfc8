# ruff: noqa: I001  (order matters: mappings before the backend that uses them)
from . import connector_crm_value_map
from . import connector_crm_product_map
from . import connector_crm_field_rule
from . import connector_backend
from . import connector_backend_salesforce
from . import connector_backend_hubspot
from . import connector_binding
from . import connector_crm_deal_version
from . import connector_crm_conflict
from . import connector_crm_engagement
from . import res_partner
from . import sale_order
from . import sale_order_line
from . import account_move
from . import project_milestone
from . import project_update
from . import connector_crm_demo
