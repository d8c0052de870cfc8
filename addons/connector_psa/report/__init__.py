from . import connector_psa_rate_discrepancy
