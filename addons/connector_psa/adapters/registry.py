"""Backend type -> adapter class (what connector_base's ``_adapter_class()`` will map)."""

PSA_TYPES = ("harvest", "kantata")


def adapter_class(backend_type):
    """The adapter class of a PSA backend type (None for other types)."""
    from .harvest_adapter import HarvestAdapter
    from .kantata_adapter import KantataAdapter

    return {"harvest": HarvestAdapter, "kantata": KantataAdapter}.get(backend_type)
