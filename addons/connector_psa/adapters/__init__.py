"""The PSA adapters (connector_base's adapter mechanism, docs/adding-a-connector.md):
``PsaAdapter`` holds the shared import, validation, correction, deletion and provisioning
orchestration; one subclass per tool holds only its protocol. A third tool is a new subclass
and its engine client, added to ``ADAPTERS``."""

from .harvest_adapter import HarvestAdapter
from .kantata_adapter import KantataAdapter
from .psa_adapter import PsaAdapter

# Backend type -> adapter class (what connector.backend._adapter_class() maps).
ADAPTERS = {"harvest": HarvestAdapter, "kantata": KantataAdapter}
PSA_TYPES = tuple(ADAPTERS)

__all__ = ["ADAPTERS", "PSA_TYPES", "HarvestAdapter", "KantataAdapter", "PsaAdapter"]
