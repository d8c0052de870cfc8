from . import connector_psa_correction_resolve
